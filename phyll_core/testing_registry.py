"""Conformance through the registry (part of :mod:`phyll_core.testing`).

:func:`check_registered` runs the conformance suite on a system *as registered*: looked up by
name in the loaded plugins (so the plugin must be installed), built through its spec with the
declared defaults, then once more with each parameter at each finite bound (an exclusive bound
just inside it), at each of its choices and at both values of a bool. A mismatch between the spec
and the class (a declared name the class does not take, a bound the class refuses, a declared
default that differs from the class's own) fails here, in the author's own tests::

    from phyll_core.testing import check_registered

    def test_registered():
        check_registered("speckle")
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from phyll_core.errors import PluginError
from phyll_core.params import Param
from phyll_core.system import PhysicalSystem
from phyll_core.testing import ConformanceError, ConformanceReport, drift_response, run_checks

#: relative step inside an exclusive float bound (``gt=0`` is tried at 1e-6)
INSIDE = 1e-6


def _bound_value(bound: float, inclusive: bool, kind: str, up: bool) -> Any:
    """The value tried at a bound: the bound itself when inclusive, just inside it otherwise
    (the nearest int inside for an int)."""
    if kind == "int":
        inner = math.ceil(bound) if up else math.floor(bound)
        if not inclusive and inner == bound:
            inner += 1 if up else -1
        return int(inner)
    if inclusive:
        return float(bound)
    return bound + (INSIDE if up else -INSIDE) * max(1.0, abs(bound))


def _at_bounds(p: Param) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if p.type == "bool":
        return [(f"{p.name}={v}", v) for v in (False, True) if v != p.default]
    if p.choices is not None:
        return [(f"{p.name}={c}", c) for c in p.choices if c != p.default]
    for side, up in ((p.lower(), True), (p.upper(), False)):
        if side is None:
            continue
        value = _bound_value(side[0], side[1], p.type, up)
        label = "lower" if up else "upper"
        out.append((f"{p.name}={value} ({label} bound {p.bounds()})", value))
    return [(label, v) for label, v in out if v != p.default]


def registered_variants(
    name: str, params: Mapping[str, Any] | None = None, skip: Iterable[str] = ()
) -> list[tuple[str, dict[str, Any]]]:
    """``(label, parameters)`` of every build :func:`check_registered` tries: the defaults
    (with ``params`` applied), then one parameter at a time at its bounds and choices (names in
    ``skip`` and names set in ``params`` stay as they are)."""
    from phyll_core.plugins import get_host

    spec = get_host().systems.get(name).spec
    base = dict(params or {})
    fixed = set(skip) | set(base)
    out = [("defaults", base)]
    for p in spec.params:
        if p.name in fixed or p.name == "seed":
            continue
        out += [(label, {**base, p.name: value}) for label, value in _at_bounds(p)]
    return out


def _default_mismatches(spec: Any) -> list[str]:
    """Declared defaults that differ from the defaults of the attrs class they build."""
    if not getattr(spec, "declares_params", False):
        return []
    factory = spec.factory
    if not (isinstance(factory, type) and attrs.has(factory)):
        return []
    fields = {f.alias or f.name: f for f in attrs.fields(factory) if f.init}
    out = []
    for p in spec.params:
        field = fields.get(p.name)
        if field is None or field.default is attrs.NOTHING or isinstance(
            field.default, attrs.Factory  # type: ignore[arg-type]
        ):
            continue
        if field.default != p.default:
            out.append(
                f"parameter '{p.name}': the spec's default is {p.default!r} but"
                f" {factory.__name__}'s is {field.default!r}"
            )
    return out


def check_registered(
    name: str,
    params: Mapping[str, Any] | None = None,
    bounds: bool = True,
    skip: Iterable[str] = (),
) -> list[ConformanceReport]:
    """Run the conformance suite on the registered system ``name`` built through its spec:
    with its defaults (``params`` override some), and, with ``bounds``, at every bound and
    choice of each parameter not in ``skip``. Raises :class:`ConformanceError` listing every
    failure with the build it happened in; returns one report per build otherwise."""
    from phyll_core.factory import build_system
    from phyll_core.plugins import get_host

    host = get_host()
    try:
        entry = host.systems.get(name)
        if entry.spec.lazy:
            host.verify(host.systems, name)
        spec = host.systems.get(name).spec
    except PluginError as exc:  # a spec rejected by the host is a conformance failure
        raise ConformanceError(str(exc)) from exc
    has_seed = any(p.name == "seed" for p in spec.params)
    variants = registered_variants(name, params, skip)
    if not bounds:
        variants = variants[:1]
    failures = [f"  - spec: {m}" for m in _default_mismatches(spec)]
    reports = []
    for label, values in variants:
        def make(seed: int, values: dict[str, Any] = values) -> PhysicalSystem:
            return build_system(name, {**values, "seed": seed} if has_seed else values)

        results = run_checks(make)
        failed = [r for r in results if not r.passed]
        failures += [f"  - {label}: {r.name}: {r.error}" for r in failed]
        if not failed:
            reports.append(ConformanceReport(name, tuple(results), drift_response(make)))
    if failures:
        raise ConformanceError(
            f"registered system '{name}' (plugin '{entry.plugin}') failed"
            f" {len(failures)} check(s) over {len(variants)} build(s):\n" + "\n".join(failures)
        )
    return reports

