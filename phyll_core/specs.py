"""Spec objects that plugins hand to the ``register`` callbacks of the hooks.

Each spec names one item (a system, a loss, a learning rule, a dataset), says in one line what it
is, points to a factory that builds it, and declares its parameters with defaults. Factories are
only called when the item is used, so registering is cheap and imports nothing heavy.

A system or rule factory may be given lazily as ``"package.module:Class"``: it is imported only
when the item is first used or checked. When ``params`` is omitted and the factory is an attrs
class, the parameters are derived from the class's fields (:mod:`phyll_core.fields`): each
parameter is declared once. :func:`spec_problems` checks a spec (defaults against types, choices
and bounds; declared names against the factory's signature); the plugin host runs it when a
plugin registers.
"""

from __future__ import annotations

import importlib
import inspect
import operator
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from phyll_core.params import Param

if TYPE_CHECKING:
    from phyll_core.system import Dims

_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")


def _check_name(instance: Any, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"{type(instance).__name__}.name must be lower-case letters, digits, '-', '_' or '.'"
            f" starting with a letter; got {value!r}"
        )


def _check_description(instance: Any, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
        raise ValueError(f"{type(instance).__name__}.description must be one non-empty line")


def _params(value: Any) -> tuple[Param, ...]:
    params = tuple(value)
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate parameter names in {names}")
    return params


def _optional_params(value: Any) -> tuple[Param, ...] | None:
    return None if value is None else _params(value)


def _check_target(instance: Any, attribute: Any, value: Any) -> None:
    """attrs validator: ``value`` is a callable or a ``'module:attribute'`` path."""
    if isinstance(value, str):
        if not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$", value):
            raise ValueError(
                f"{type(instance).__name__}.{attribute.alias} must be a callable or"
                f" 'module:attribute', got {value!r}"
            )
    elif not callable(value):
        raise ValueError(
            f"{type(instance).__name__}.{attribute.alias} must be callable, got {value!r}"
        )


def import_target(target: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute."""
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class _Buildable:
    """Shared behaviour of SystemSpec and RuleSpec: a (possibly lazy) factory and parameters
    that are declared or derived from the factory's attrs class."""

    _target: Callable[..., Any] | str
    _declared: tuple[Param, ...] | None
    _cache: dict[str, Any]

    @property
    def lazy(self) -> bool:
        """True while the factory is a ``"module:attr"`` string not imported yet."""
        return isinstance(self._target, str) and "factory" not in self._cache

    @property
    def factory(self) -> Callable[..., Any]:
        """The factory (imported on first use when it was given as ``"module:attr"``)."""
        if "factory" not in self._cache:
            target = self._target
            self._cache["factory"] = import_target(target) if isinstance(target, str) else target
        return self._cache["factory"]  # type: ignore[no-any-return]

    @property
    def params(self) -> tuple[Param, ...]:
        """The declared parameters, or those derived from the factory's attrs class."""
        if self._declared is not None:
            return self._declared
        if "params" not in self._cache:
            from phyll_core.fields import params_from_class

            factory = self.factory
            derived = params_from_class(factory) if _is_attrs_class(factory) else ()  # type: ignore[arg-type]
            self._cache["params"] = _params(derived)
        return self._cache["params"]  # type: ignore[no-any-return]

    @property
    def declares_params(self) -> bool:
        """True when ``params`` was given explicitly (not derived)."""
        return self._declared is not None


def _is_attrs_class(obj: Any) -> bool:
    return isinstance(obj, type) and attrs.has(obj)


def spec_problems(spec: Any, deep: bool = True) -> list[str]:
    """What is wrong with a spec's declaration (empty when nothing). Checks every parameter
    (:meth:`Param.problems`) and, when the factory is known (``deep`` imports a lazy one), that
    the factory accepts every declared name and that it needs no keyword left undeclared.
    Import errors of a lazy factory are reported, not raised."""
    declared = spec._declared if isinstance(spec, _Buildable) else spec.params
    out = [msg for p in (declared or ()) for msg in p.problems()]
    if not isinstance(spec, _Buildable) or (spec.lazy and not deep):
        return out
    try:
        factory = spec.factory
        params = spec.params
    except Exception as exc:  # an import or declaration error is the plugin's
        return [*out, f"{type(exc).__name__}: {exc}"]
    if declared is None:
        out += [msg for p in params for msg in p.problems()]
        return out
    out += _signature_problems(factory, params)
    return out


def _signature_problems(factory: Callable[..., Any], params: tuple[Param, ...]) -> list[str]:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature: nothing to compare
        return []
    accepted = signature.parameters
    what = getattr(factory, "__qualname__", repr(factory))
    out = []
    if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        for p in params:
            if p.name not in accepted or accepted[p.name].kind is inspect.Parameter.POSITIONAL_ONLY:
                known = ", ".join(accepted) or "none"
                out.append(
                    f"parameter '{p.name}' is declared but {what}() does not accept it"
                    f" (it accepts: {known})"
                )
    names = {p.name for p in params}
    for name, arg in accepted.items():
        keyword = arg.kind in (arg.KEYWORD_ONLY, arg.POSITIONAL_OR_KEYWORD)
        needed = arg.default is arg.empty and keyword
        if needed and name not in names and name != "self":
            out.append(f"{what}() needs '{name}', which is not a declared parameter")
    return out


@attrs.frozen
class SystemSpec(_Buildable):
    """A physical system: ``factory(**params)`` returns a :class:`~phyll_core.PhysicalSystem`.

    ``factory`` is a callable, or ``"module:attr"`` imported on first use. ``params`` declares
    every keyword the factory accepts (with defaults); omit it when the factory is an attrs
    class whose fields are the parameters (see :mod:`phyll_core.fields`). The CLI's
    ``--param NAME=VALUE`` is checked against them. Include a ``seed`` parameter when the
    system makes random choices.

    ``dims`` (keyword, optional; a callable or ``"module:attr"``) maps the resolved parameter
    values to the system's :class:`~phyll_core.system.Dims` (or an ``(input_dim,
    output_dim)`` pair) without building it, for a factory that is a plain function. A
    factory that is a :class:`~phyll_core.PhysicalSystem` class needs none: its
    :meth:`~phyll_core.PhysicalSystem.dims` classmethod is used. Without either, the
    listings build the system with its defaults to read its widths.
    """

    name: str = attrs.field(validator=_check_name)
    _target: Callable[..., Any] | str = attrs.field(alias="factory", validator=_check_target)
    description: str = attrs.field(validator=_check_description)
    _declared: tuple[Param, ...] | None = attrs.field(
        default=None, alias="params", converter=_optional_params
    )
    _dims: Callable[[Mapping[str, Any]], Any] | str | None = attrs.field(
        default=None, alias="dims", kw_only=True, validator=attrs.validators.optional(_check_target)
    )
    _cache: dict[str, Any] = attrs.field(
        factory=dict, init=False, eq=False, hash=False, repr=False
    )

    def dims_for(self, values: Mapping[str, Any]) -> Dims | None:
        """The widths (and domain) of the system built with ``values`` (every parameter,
        resolved), computed without building it: by the spec's ``dims``, else by the factory
        class's :meth:`~phyll_core.PhysicalSystem.dims` (importing a lazy factory); ``None``
        when neither knows. Errors of the ``dims`` function propagate."""
        from phyll_core.system import Dims, PhysicalSystem

        how: Any = self._dims
        if isinstance(how, str):
            how = import_target(how)
        if how is None:
            factory = self.factory
            if not (isinstance(factory, type) and issubclass(factory, PhysicalSystem)):
                return None
            how = factory.dims
        result = how(dict(values))
        if result is None:
            return None
        dims = Dims(*result)
        try:
            widths = [operator.index(d) for d in dims[:2] if not isinstance(d, bool)]
        except TypeError:
            widths = []
        if len(widths) != 2 or min(widths) < 1:
            raise ValueError(
                f"dims of system '{self.name}' must give two integers >= 1, got {tuple(result)!r}"
            )
        return Dims(widths[0], widths[1], dims.domain)


@attrs.frozen
class LossSpec:
    """A goodness function (``kind="goodness"``) or a contrastive objective
    (``kind="objective"``). ``factory(**params)`` returns the object (see phyll_core.engine)."""

    name: str = attrs.field(validator=_check_name)
    kind: str = attrs.field(validator=attrs.validators.in_(("goodness", "objective")))
    factory: Callable[..., Any]
    description: str = attrs.field(validator=_check_description)
    params: tuple[Param, ...] = attrs.field(default=(), converter=_params)


@attrs.frozen
class RuleSpec(_Buildable):
    """A learning rule: ``factory(**params)`` returns a LearningRule (see phyll_core.engine).
    ``params`` are the options set with ``--rule-param NAME=VALUE`` (declared, or derived from
    an attrs class ``factory`` as for :class:`SystemSpec`)."""

    name: str = attrs.field(validator=_check_name)
    _target: Callable[..., Any] | str = attrs.field(alias="factory", validator=_check_target)
    description: str = attrs.field(validator=_check_description)
    _declared: tuple[Param, ...] | None = attrs.field(
        default=None, alias="params", converter=_optional_params
    )
    uses_physics: bool = True
    _cache: dict[str, Any] = attrs.field(
        factory=dict, init=False, eq=False, hash=False, repr=False
    )


@attrs.frozen
class DatasetSpec:
    """A dataset source. ``loader(argument, **options)`` returns a
    :class:`~phyll_core.datasets.Dataset`; ``argument`` is the part after ``name:`` in
    ``--dataset name:ARG`` (e.g. a path for ``csv:PATH``), ``None`` for plain ``--dataset name``.
    ``takes_argument`` says which form is expected."""

    name: str = attrs.field(validator=_check_name)
    loader: Callable[..., Any]
    description: str = attrs.field(validator=_check_description)
    takes_argument: bool = False
    params: tuple[Param, ...] = attrs.field(default=(), converter=_params)
