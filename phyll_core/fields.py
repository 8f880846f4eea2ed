"""Parameters declared once: on the attrs fields of a system (or rule) class.

A backend writes each parameter as an attrs field with :func:`param`::

    @attrs.define(kw_only=True, eq=False)
    class Chain(PhysicalSystem):
        masses: int = param(8, help="oscillators in the chain", low=1)
        dt: float = param(0.01, help="time step (s)", gt=0)

and registers ``SystemSpec("chain", Chain, "...")`` (or the lazy ``"pkg.system:Chain"``) without
a ``params`` list: :func:`params_from_class` derives the :class:`~phyll_core.params.Param` of
each field (name, type from the annotation, default, help, choices and bounds from
:func:`param`). Every init field of type ``int``, ``float``, ``str`` or ``bool`` (or
``X | None``) is a parameter, a plain ``x: int = 3`` too (private ``_x`` fields are not); a
field of any other type (an array, a model object) is not, unless it is declared with
:func:`param`, which is then an error. Values set directly on the class are checked against the
same bounds and choices, unless the class sets ``check_params = False`` (a class whose
``__attrs_post_init__`` checks its parameters with messages of its own).
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

import attrs

from phyll_core.errors import ParameterError
from phyll_core.params import Param

_KEY = "phyll_param"
_KINDS = {"int": "int", "float": "float", "str": "str", "bool": "bool"}
_OPTIONAL = re.compile(
    r"^\s*(?:Optional\[\s*(\w+)\s*\]|(\w+)\s*\|\s*None|None\s*\|\s*(\w+))\s*$"
)


@attrs.frozen
class ParamInfo:
    """What :func:`param` adds to an attrs field (stored in its metadata)."""

    help: str = ""
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    gt: float | None = None
    lt: float | None = None


def param(
    default: Any = attrs.NOTHING,
    *,
    help: str = "",
    choices: tuple[Any, ...] | list[Any] | None = None,
    low: float | None = None,
    high: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    validator: Any = None,
    **field_kwargs: Any,
) -> Any:
    """An attrs field that is also a declared parameter. ``low``/``high`` are inclusive bounds,
    ``gt``/``lt`` exclusive ones; without a default the parameter is required. ``validator``
    and other keywords go to :func:`attrs.field`; a value outside the bounds or choices raises
    :class:`~phyll_core.errors.ParameterError` naming the parameter (after your validator)."""
    info = ParamInfo(help, None if choices is None else tuple(choices), low, high, gt, lt)
    validators = [v for v in (validator if isinstance(validator, list) else [validator]) if v]
    validators.append(_check_value)
    metadata = {**field_kwargs.pop("metadata", {}), _KEY: info}
    return attrs.field(default=default, validator=validators, metadata=metadata, **field_kwargs)


def _check_value(instance: Any, attribute: attrs.Attribute, value: Any) -> None:  # type: ignore[type-arg]
    if value is None or not getattr(type(instance), "check_params", True):
        return
    declared = _field_param(attribute, type(instance))
    if declared is None:
        return
    owner = getattr(instance, "name", "") or type(instance).__name__
    declared.convert(value, owner=f"'{owner}'")


def kind_of(annotation: Any) -> tuple[str, bool] | None:
    """``(kind, optional)`` of a field annotation (a type or, under ``from __future__ import
    annotations``, its text): ``int`` -> ``("int", False)``, ``"float | None"`` ->
    ``("float", True)``; ``None`` for any other type."""
    if isinstance(annotation, str):
        text = annotation.strip()
        if text in _KINDS:
            return _KINDS[text], False
        match = _OPTIONAL.match(text)
        if match:
            inner = next(g for g in match.groups() if g)
            return (_KINDS[inner], True) if inner in _KINDS else None
        return None
    if isinstance(annotation, type) and annotation.__name__ in _KINDS:
        if annotation in (int, float, str, bool):
            return annotation.__name__, False
        return None
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            inner = kind_of(args[0])
            return (inner[0], True) if inner else None
    return None


def _field_param(field: attrs.Attribute, cls: type) -> Param | None:  # type: ignore[type-arg]
    """The Param of one attrs field, or ``None`` when the field is not a parameter."""
    info: ParamInfo | None = field.metadata.get(_KEY)
    kind = kind_of(field.type)
    if kind is None:
        if info is not None:
            raise ParameterError(
                f"parameter '{field.alias}' of {cls.__name__} has type {field.type!r}; a"
                " parameter must be int, float, str or bool (or one of them | None)"
            )
        return None
    default: Any = field.default
    required = default is attrs.NOTHING
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = None if default.takes_self else default.factory()  # type: ignore[union-attr]
    info = info or ParamInfo()
    return Param(
        field.alias or field.name,
        kind[0],
        None if required else default,
        info.help,
        choices=info.choices,
        low=info.low,
        high=info.high,
        gt=info.gt,
        lt=info.lt,
        required=required,
    )


def params_from_class(cls: type) -> tuple[Param, ...]:
    """The declared parameters of an attrs class: one :class:`Param` per init field of a
    parameter type (see the module docstring), in field order."""
    if not attrs.has(cls):
        raise ParameterError(f"{cls.__name__} is not an attrs class; declare its params")
    out = []
    for field in attrs.fields(cls):
        if not field.init or field.name.startswith("_"):
            continue
        declared = _field_param(field, cls)
        if declared is not None:
            out.append(declared)
    return tuple(out)
