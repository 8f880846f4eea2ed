"""Conformance suite for PhysicalSystem implementations (like scikit-learn's check_estimator).

A backend author runs it from pytest in one line::

    from phyll_core.testing import check_system

    def test_conformance():
        check_system(lambda seed: MySystem(seed=seed))

``make(seed)`` must build a fresh system; the same seed must give the same system. The suite
checks shapes and dtype, determinism under a seed, that bad inputs are refused before they reach
the physics, query counting, and the ``perturb`` contract (when the system implements it).
It raises :class:`ConformanceError` listing every failed check; otherwise it returns a
:class:`ConformanceReport` with what it measured (the drift response at strength 1, see
:func:`drift_response`). Every check gets its own copy of the inputs: a ``_forward`` that
modifies its input is reported once (by ``forward_shapes``), without follow-on failures, and a
failure repeated by later checks is listed once.

:func:`check_registered` (from :mod:`phyll_core.testing_registry`) runs the same suite on a
system as registered by its plugin: built by name with the declared defaults and with each
parameter at its bounds and choices.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np

from phyll_core.domain import Domain, Interval
from phyll_core.errors import PhysicalInputError
from phyll_core.system import PhysicalSystem
from phyll_core.testing_controls import CONTROL_CHECKS


class ConformanceError(AssertionError):
    """A system failed one or more conformance checks (the message lists them)."""


@attrs.frozen
class CheckResult:
    """Outcome of one check: ``error`` is empty when it passed."""

    name: str
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error


Check = Callable[[Callable[[int], PhysicalSystem], np.ndarray], None]


def _inputs(system: PhysicalSystem, n: int = 16, seed: int = 1234) -> np.ndarray:
    return system.domain.sample(np.random.default_rng(seed), (n, system.input_dim))


def check_declaration(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """Dimensions are positive ints, ``domain`` is a Domain, ``name`` is set, ``input_step``
    is 0 or a step inside an interval domain's width."""
    s = make(0)
    assert isinstance(s, PhysicalSystem), (
        f"make() returned {type(s).__name__}, not a PhysicalSystem"
    )
    for attr in ("input_dim", "output_dim"):
        value = getattr(s, attr)
        assert isinstance(value, int | np.integer) and value >= 1, f"{attr} is {value!r}"
    assert isinstance(s.domain, Domain), f"domain is {s.domain!r}, not a Domain"
    assert s.name and s.name != "system", "set the class attribute 'name'"
    step, domain = float(s.input_step), s.domain
    width = domain.high - domain.low if isinstance(domain, Interval) else 0.0
    assert 0.0 <= step <= width, (
        f"input_step is {step!r}: give 0 (continuous) or a step in [0, {width:g}]"
        " (binary domains take 0)"
    )


def _query(s: PhysicalSystem, x: np.ndarray) -> np.ndarray:
    """``s.forward`` on a copy of ``x`` (a system that modifies its input cannot spoil ``x``)."""
    return s.forward(x.copy())


def check_forward_shapes(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """Batches of several sizes map to float64 (batch, output_dim) finite outputs; the input
    array is not modified."""
    s = make(0)
    for n in (1, 2, x.shape[0]):
        xin = x[:n].copy()
        y = s.forward(xin)
        assert y.shape == (n, s.output_dim), f"batch {n}: output shape {y.shape}"
        assert y.dtype == np.float64, f"output dtype {y.dtype}"
        changed = xin != x[:n]
        if changed.any():
            row, col = np.argwhere(changed)[0]
            raise AssertionError(
                f"forward() modified its input array ({int(changed.sum())} values changed, the"
                f" first at row {row}, column {col}); work on a copy in _forward"
            )


def check_determinism(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """Two systems built with the same seed give identical outputs for identical inputs, and a
    system that is not ``noisy`` gives the same outputs on a second pass."""
    a, b = _query(make(7), x), _query(make(7), x)
    assert np.array_equal(a, b), (
        f"same seed, different outputs (max difference {np.max(np.abs(a - b)):.3g})"
    )
    system = make(7)
    if not system.noisy:  # a system that says it is not noisy reads the same twice
        first, again = _query(system, x), _query(system, x)
        assert np.array_equal(first, again), (
            "noisy is False but two passes of the same inputs differ (max difference "
            f"{np.max(np.abs(first - again)):.3g}): declare the property noisy"
        )


def check_noise_generator(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """A system that exposes a ``noise_generator`` draws all its noise from it: two passes
    of the same inputs from two generators of the same seed give identical outputs, and
    the generator is only exposed while the system is ``noisy``."""
    system = make(7)
    if system.noise_generator is None:
        return
    assert system.noisy, "noise_generator is set but noisy is False"
    outputs = []
    for _ in range(2):
        system.use_noise_generator(np.random.default_rng(99))
        outputs.append(_query(system, x))
    assert np.array_equal(outputs[0], outputs[1]), (
        "two passes with generators of the same seed differ (max difference"
        f" {np.max(np.abs(outputs[0] - outputs[1])):.3g}): some noise does not come from"
        " noise_generator"
    )


def check_input_validation(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """Wrong shapes, NaN/inf and values outside the domain raise PhysicalInputError naming the
    system, and are not counted as queries."""
    s = make(0)
    bad_inputs: list[tuple[str, object]] = [
        ("1-D input", x[0]),
        ("wrong width", np.zeros((2, s.input_dim + 1))),
        ("empty batch", np.zeros((0, s.input_dim))),
        ("NaN", _with(x, np.nan)),
        ("inf", _with(x, np.inf)),
        ("text", [["a"] * s.input_dim]),
    ]
    dom = s.domain
    outside = dom.high + 1.0 if isinstance(dom, Interval) else 0.5
    bad_inputs.append(("outside the domain", _with(x, outside)))
    for label, value in bad_inputs:
        try:
            s.forward(value)
        except PhysicalInputError as exc:
            assert s.name in str(exc), f"{label}: error does not name the system: {exc}"
        else:
            raise AssertionError(f"{label} was accepted; expected PhysicalInputError")
    assert s.queries.calls == 0, f"refused inputs were counted as {s.queries.calls} queries"


def check_query_counter(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """Each forward call adds one call and its batch size to the counter."""
    s = make(0)
    _query(s, x)
    _query(s, x[:3])
    assert (s.queries.calls, s.queries.samples) == (2, x.shape[0] + 3), (
        f"counter reads calls={s.queries.calls} samples={s.queries.samples}"
    )


def check_perturb(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """When implemented: strength 0 changes nothing, a positive strength changes outputs,
    the same rng seed gives the same drift, and a negative strength is refused."""
    s = make(0)
    if not s.can_perturb:
        return
    ref = _query(make(0), x)
    s.perturb(0.0, 3)
    assert np.allclose(_query(s, x), ref, rtol=1e-9, atol=1e-12), "perturb(0) changed outputs"
    a, b = make(0), make(0)
    a.perturb(1.0, 3)
    b.perturb(1.0, 3)
    ya, yb = _query(a, x), _query(b, x)
    assert np.array_equal(ya, yb), "perturb with the same seed gave different systems"
    scale = float(np.max(np.abs(ref))) or 1.0  # relative to the outputs: small outputs drift too
    assert np.max(np.abs(ya - ref)) > 1e-9 * scale, "perturb(1.0) did not change the outputs"
    try:
        a.perturb(-1.0, 3)
    except ValueError:
        pass
    else:
        raise AssertionError("perturb(-1.0) was accepted")


CHECKS: tuple[Check, ...] = (
    check_declaration,
    check_forward_shapes,
    check_determinism,
    check_noise_generator,
    check_input_validation,
    check_query_counter,
    check_perturb,
    *CONTROL_CHECKS,  # the physical-controls contract (phyll_core.testing_controls)
)


def _with(x: np.ndarray, value: float) -> np.ndarray:
    bad = x.copy()
    bad[0, 0] = value
    return bad


def drift_response(
    make: Callable[[int], PhysicalSystem],
    strength: float = 1.0,
    seeds: tuple[int, ...] = (0, 1, 2),
    n: int = 64,
) -> float | None:
    """The relative output change caused by ``perturb(strength)``: the RMS of
    ``y_drifted - y`` over the RMS spread of ``y`` across inputs (its deviation from the batch
    mean), averaged over drift ``seeds``, on ``n`` random inputs of the domain. 0 means no
    change; 1 means the drift moves the outputs as much as the inputs do. ``None`` when the
    system does not model drift. See the units in :meth:`PhysicalSystem._perturb`."""
    first = make(0)
    if not first.can_perturb:
        return None
    x = _inputs(first, n=n, seed=4321)
    ref = _query(first, x)
    spread = float(np.sqrt(np.mean((ref - ref.mean(axis=0)) ** 2)))
    changes = []
    for seed in seeds:
        s = make(0)
        s.perturb(strength, seed)
        changes.append(float(np.sqrt(np.mean((_query(s, x) - ref) ** 2))))
    mean_change = float(np.mean(changes))
    if spread == 0.0:
        return 0.0 if mean_change == 0.0 else float("inf")
    return mean_change / spread


@attrs.frozen
class ConformanceReport:
    """What :func:`check_system` found: one result per check and the measured figures
    (``drift_response``: see :func:`drift_response`; ``None`` without drift)."""

    system: str
    results: tuple[CheckResult, ...]
    drift_response: float | None = None

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def __str__(self) -> str:
        passed = sum(r.passed for r in self.results)
        drift = (
            "no drift model" if self.drift_response is None
            else f"drift response at strength 1: {self.drift_response:.3g}"
        )
        return f"system '{self.system}': {passed}/{len(self.results)} checks passed; {drift}"


def run_checks(make: Callable[[int], PhysicalSystem]) -> list[CheckResult]:
    """Run every check; return one result per check (never raises for a failing system).
    Each check gets its own copy of the inputs; a failure already reported by an earlier
    check is listed as ``same failure as <check>``."""
    try:
        first = make(0)
        if not isinstance(first, PhysicalSystem):
            raise TypeError(f"make(0) returned {type(first).__name__}, not a PhysicalSystem")
        x = _inputs(first)
    except Exception as exc:  # a system that cannot even be built fails as a whole
        return [CheckResult("construction", f"{type(exc).__name__}: {exc}")]
    results = []
    seen: dict[str, str] = {}
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            check(make, x.copy())
        except Exception as exc:  # report any failure as a result
            error = f"{type(exc).__name__}: {exc}"
            results.append(CheckResult(name, f"same failure as {seen[error]}" if error in seen
                                       else error))
            seen.setdefault(error, name)
        else:
            results.append(CheckResult(name))
    return results


def check_system(make: Callable[[int], PhysicalSystem]) -> ConformanceReport:
    """Raise ConformanceError listing every failed check of the system built by ``make``;
    otherwise return the report (with the measured drift response at strength 1)."""
    results = run_checks(make)
    failed = [r for r in results if not r.passed]
    try:
        name = make(0).name
    except Exception:  # the failures below say why
        name = "?"
    if failed:
        lines = "\n".join(f"  - {r.name}: {r.error}" for r in failed)
        raise ConformanceError(
            f"system '{name}' failed {len(failed)} conformance check(s):\n{lines}"
        )
    return ConformanceReport(name, tuple(results), drift_response(make))


def __getattr__(name: str) -> object:
    # check_registered lives in its own module (it needs the plugin host)
    if name in ("check_registered", "registered_variants"):
        from phyll_core import testing_registry

        return getattr(testing_registry, name)
    raise AttributeError(name)
