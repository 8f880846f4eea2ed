"""Declared parameters of systems and learning rules, and ``NAME=VALUE`` parsing.

A :class:`Param` states a parameter's name, type, default, help, choices and bounds (inclusive
``low``/``high``, exclusive ``gt``/``lt``); :func:`parse_assignments` turns the
``--param NAME=VALUE`` strings of the CLI into typed keyword arguments, refusing an unknown name
(suggesting the closest) or a value that does not fit. :meth:`Param.problems` checks a
declaration itself (the default against the type, choices and bounds), which the plugin host does
when a plugin registers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from phyll_core.errors import ParameterError, closest

_TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool}


def _choices(value: Any) -> tuple[Any, ...] | None:
    return None if value is None else tuple(value)


def _check_type(instance: Any, attribute: Any, value: str) -> None:
    if value not in _TYPES:
        raise ValueError(f"Param type must be one of {sorted(_TYPES)}, got {value!r}")


@attrs.frozen
class Param:
    """One declared parameter.

    ``type`` is ``"int"``, ``"float"``, ``"str"`` or ``"bool"``; ``default`` may be ``None``
    (meaning "required" when ``required`` is true, otherwise "unset"). ``choices`` restricts
    the value; ``low``/``high`` bound numbers inclusively (``value >= low``), ``gt``/``lt``
    exclusively (``value > gt``); a side has at most one of the two.
    """

    name: str
    type: str = attrs.field(validator=_check_type)
    default: Any
    help: str = ""
    choices: tuple[Any, ...] | None = attrs.field(default=None, converter=_choices)
    low: float | None = None
    high: float | None = None
    required: bool = False
    gt: float | None = None
    lt: float | None = None

    def bounds(self) -> str:
        """The bounds in interval notation (``"[1, 400]"``, ``"(0, inf)"``), ``""`` if none."""
        lower, upper = self.lower(), self.upper()
        if lower is None and upper is None:
            return ""
        left = "(-inf" if lower is None else f"{'[' if lower[1] else '('}{lower[0]:g}"
        right = "inf)" if upper is None else f"{upper[0]:g}{']' if upper[1] else ')'}"
        return f"{left}, {right}"

    def lower(self) -> tuple[float, bool] | None:
        """``(bound, inclusive)`` of the lower side, or ``None``."""
        if self.low is not None:
            return self.low, True
        return None if self.gt is None else (self.gt, False)

    def upper(self) -> tuple[float, bool] | None:
        """``(bound, inclusive)`` of the upper side, or ``None``."""
        if self.high is not None:
            return self.high, True
        return None if self.lt is None else (self.lt, False)

    def problems(self) -> list[str]:
        """What is wrong with this declaration (empty when nothing): bounds on a non-number,
        both an inclusive and an exclusive bound on one side, an empty range, choices or a
        default that do not fit the type, the choices or the bounds."""
        out: list[str] = []
        where = f"parameter '{self.name}'"
        bounds = {k: getattr(self, k) for k in ("low", "high", "gt", "lt")}
        given = {k: v for k, v in bounds.items() if v is not None}
        if given and self.type not in ("int", "float"):
            out.append(f"{where} of type {self.type} cannot have bounds ({', '.join(given)})")
            return out
        for key, value in given.items():
            if not _fits("float", value) or not math.isfinite(value):
                out.append(f"{where}: bound {key}={value!r} is not a finite number")
                return out
        if self.low is not None and self.gt is not None:
            out.append(f"{where} has both low and gt (one lower bound only)")
        if self.high is not None and self.lt is not None:
            out.append(f"{where} has both high and lt (one upper bound only)")
        lower, upper = self.lower(), self.upper()
        if lower and upper and (
            lower[0] > upper[0] or (lower[0] == upper[0] and not (lower[1] and upper[1]))
        ):
            out.append(f"{where}: the range {self.bounds()} is empty")
        if self.choices is not None:
            if not self.choices:
                out.append(f"{where}: choices is empty")
            bad = [c for c in self.choices if not _fits(self.type, c)]
            if bad:
                out.append(f"{where}: choice {bad[0]!r} is not {_article(self.type)}")
        if out or self.default is None:
            return out
        if not _fits(self.type, self.default):
            out.append(
                f"{where}: default {self.default!r} is not {_article(self.type)}"
                f" (it is {type(self.default).__name__})"
            )
            return out
        try:
            self.convert(self.default)
        except ParameterError as exc:
            reason = str(exc).replace(f"parameter '{self.name}' ", "", 1)
            out.append(f"{where}: default {self.default!r} does not fit ({reason})")
        return out

    def convert(self, raw: Any, owner: str = "") -> Any:
        """Convert ``raw`` (a string from the CLI or a Python value) to this parameter's type
        and check choices and bounds; raise :class:`ParameterError` naming the parameter."""
        where = f" of {owner}" if owner else ""
        try:
            value = _coerce(self.type, raw)
        except (TypeError, ValueError):
            raise ParameterError(
                f"parameter '{self.name}'{where} expects {self.type}, got {raw!r}"
            ) from None
        if self.choices is not None and value not in self.choices:
            opts = ", ".join(map(str, self.choices))
            raise ParameterError(
                f"parameter '{self.name}'{where} must be one of {opts}, got {value!r}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(f"parameter '{self.name}'{where} must be finite, got {raw!r}")
        for bound, op, bad in (
            (self.low, ">=", lambda v, b: v < b),
            (self.gt, ">", lambda v, b: v <= b),
            (self.high, "<=", lambda v, b: v > b),
            (self.lt, "<", lambda v, b: v >= b),
        ):
            if bound is not None and bad(value, bound):
                raise ParameterError(
                    f"parameter '{self.name}'{where} must be {op} {bound}, got {value!r}"
                )
        return value


def _fits(kind: str, value: Any) -> bool:
    """``value`` is a Python value of the declared ``kind`` (an int is a float, a bool is not a
    number)."""
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int)
    if kind == "float":
        return isinstance(value, int | float)
    return isinstance(value, str)


def _article(kind: str) -> str:
    return f"an {kind}" if kind == "int" else f"a {kind}"


def _coerce(kind: str, raw: Any) -> Any:
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ValueError(raw)
    if kind == "int":
        if isinstance(raw, bool):
            raise TypeError(raw)
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError(raw)
        return int(raw) if not isinstance(raw, str) else int(raw.strip())
    if kind == "float":
        if isinstance(raw, bool):
            raise TypeError(raw)
        return float(raw)
    return str(raw)


def split_assignments(items: Iterable[str]) -> dict[str, str]:
    """Split ``["a=1", "b=x"]`` into ``{"a": "1", "b": "x"}``; a malformed item is an error."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"expected NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def resolve(
    schema: Sequence[Param], given: Mapping[str, Any], owner: str = ""
) -> dict[str, Any]:
    """Return every parameter of ``schema`` with its value: given values converted and checked,
    the others at their defaults. Unknown or missing required names raise ParameterError."""
    by_name = {p.name: p for p in schema}
    for name in given:
        if name not in by_name:
            hint = closest(name, by_name)
            suggestion = f"; did you mean '{hint}'?" if hint else ""
            known = ", ".join(sorted(by_name)) or "none"
            where = f" of {owner}" if owner else ""
            raise ParameterError(
                f"unknown parameter '{name}'{where}{suggestion} (known: {known})"
            )
    values: dict[str, Any] = {}
    for p in schema:
        if p.name in given:
            values[p.name] = p.convert(given[p.name], owner)
        elif p.required:
            raise ParameterError(
                f"parameter '{p.name}' of {owner or 'this item'} is required"
                f" (--param {p.name}=...)"
            )
        else:
            values[p.name] = p.default
    return values


def parse_assignments(
    schema: Sequence[Param], items: Iterable[str], owner: str = ""
) -> dict[str, Any]:
    """Parse CLI ``NAME=VALUE`` strings against ``schema`` (see :func:`resolve`)."""
    return resolve(schema, split_assignments(items), owner)
