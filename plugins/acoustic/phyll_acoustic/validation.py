"""Checks of the ``acoustic`` system's parameters: each raises a one-line ParameterError that
names the parameter."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from phyll_acoustic.cavity import ZERO_CELSIUS
from phyll_core.errors import ParameterError


def parse_points(text: str, what: str, count: int) -> np.ndarray | None:
    """Parse ``"x,y,z;x,y,z;..."`` (metres) into a (count, 3) array; ``""`` gives ``None``.
    Raises ParameterError on a malformed string or a wrong number of points."""
    text = text.strip()
    if not text:
        return None
    try:
        rows = [[float(v) for v in item.split(",")] for item in text.split(";") if item.strip()]
    except ValueError:
        raise ParameterError(
            f"parameter '{what}' expects 'x,y,z' points separated by ';' (metres), got {text!r}"
        ) from None
    if len(rows) != count or any(len(r) != 3 for r in rows):
        raise ParameterError(
            f"parameter '{what}' expects {count} point(s) of 3 coordinates 'x,y,z' separated"
            f" by ';', got {text!r}"
        )
    return np.array(rows, dtype=np.float64)


def positive(name: str) -> Any:
    def check(instance: Any, attribute: Any, value: float) -> None:
        if not (math.isfinite(value) and value > 0):
            raise ParameterError(f"parameter '{name}' must be finite and > 0, got {value!r}")

    return check


def at_least(name: str, low: float) -> Any:
    def check(instance: Any, attribute: Any, value: float) -> None:
        if not (math.isfinite(value) and value >= low):
            raise ParameterError(f"parameter '{name}' must be finite and >= {low}, got {value!r}")

    return check


def above_absolute_zero(instance: Any, attribute: Any, value: float) -> None:
    if not (math.isfinite(value) and value > -ZERO_CELSIUS):
        raise ParameterError(
            f"parameter 'temperature' must be above absolute zero (-273.15 C), got {value!r}"
        )


def optional_positive(name: str) -> Any:
    def check(instance: Any, attribute: Any, value: float | None) -> None:
        if value is not None:
            positive(name)(instance, attribute, value)

    return check


def choice(name: str, options: tuple[str, ...]) -> Any:
    def check(instance: Any, attribute: Any, value: str) -> None:
        if value not in options:
            raise ParameterError(
                f"parameter '{name}' must be one of {', '.join(options)}, got {value!r}"
            )

    return check
