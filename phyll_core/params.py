"""Declared parameters of systems and learning rules, and ``NAME=VALUE`` parsing.

A :class:`Param` states a parameter's name, type, default and help; :func:`parse_assignments`
turns the ``--param NAME=VALUE`` strings of the CLI into typed keyword arguments, refusing an
unknown name (suggesting the closest) or a value that does not fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from phyll_core.errors import ParameterError, closest

_TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool}


def _check_type(instance: Any, attribute: Any, value: str) -> None:
    if value not in _TYPES:
        raise ValueError(f"Param type must be one of {sorted(_TYPES)}, got {value!r}")


@attrs.frozen
class Param:
    """One declared parameter.

    ``type`` is ``"int"``, ``"float"``, ``"str"`` or ``"bool"``; ``default`` may be ``None``
    (meaning "required" when ``required`` is true, otherwise "unset"). ``choices`` restricts
    the value; ``low``/``high`` bound numbers (inclusive).
    """

    name: str
    type: str = attrs.field(validator=_check_type)
    default: Any
    help: str = ""
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    required: bool = False

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
        if self.low is not None and value < self.low:
            raise ParameterError(
                f"parameter '{self.name}'{where} must be >= {self.low}, got {value!r}"
            )
        if self.high is not None and value > self.high:
            raise ParameterError(
                f"parameter '{self.name}'{where} must be <= {self.high}, got {value!r}"
            )
        return value


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
