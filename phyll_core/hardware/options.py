"""The runtime options of an instrument: validators, ``--param`` declarations, defaults.

Declared once here and used by :class:`~phyll_core.hardware.instrument.InstrumentSystem`, the
VISA factory and ``phyll record`` (which must know the options that cannot change a measured
value, so that a resumed recording may change them).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from phyll_core.params import Param

OUTPUT_LIMIT = 1e12
"""Default output bounds: a device value must be finite and ``|v| <= OUTPUT_LIMIT``."""

RUNTIME_ONLY_PARAMS: frozenset[str] = frozenset(
    {"timeout", "retries", "backoff", "log", "hard_timeout", "max_reply"}
)
"""Options that change how a device is driven but never a measured value: a resumed
``phyll record`` accepts new values of these (and only these)."""


def positive(instance: Any, attribute: Any, value: float) -> None:
    """attrs validator: a finite number > 0."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a finite number > 0, got {value!r}")


def non_negative(instance: Any, attribute: Any, value: float) -> None:
    """attrs validator: a finite number >= 0."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


def optional_path(value: Any) -> str | None:
    """attrs converter: None or '' -> None, else the path as a string."""
    return None if value is None or str(value) == "" else os.fspath(value)


def optional_array(value: Any) -> np.ndarray | None:
    """attrs converter: None, or a flat float64 array."""
    return None if value is None else np.array(value, dtype=np.float64).reshape(-1)


RUNTIME_PARAMS: tuple[Param, ...] = (
    Param("timeout", "float", 5.0, "seconds allowed for every device call", low=1e-6),
    Param("settle", "float", 0.0, "seconds to wait after applying setpoints", low=0.0),
    Param("retries", "int", 3, "retries after a transient device error", low=0),
    Param("backoff", "float", 0.05, "first retry delay in seconds (doubles each retry)", low=0.0),
    Param("repeats", "int", 1, "acquisitions averaged per measurement", low=1),
    Param(
        "reference_every", "int", 0, "re-measure the reference input every N rows (0: off)", low=0
    ),
    Param("log", "str", "", "append every measurement to this JSON-lines log ('' = no log)"),
    Param("hard_timeout", "bool", False, "abandon device calls at the timeout on a worker thread"),
)
"""Parameters of the runtime options, for a plugin's SystemSpec: ``(*my_params,
*RUNTIME_PARAMS)`` and pass ``**runtime_options(values)`` to the system."""


def runtime_options(values: dict[str, Any]) -> dict[str, Any]:
    """Pick the runtime options out of resolved parameter ``values`` (see RUNTIME_PARAMS) as
    keyword arguments of :class:`InstrumentSystem`; ``log`` becomes ``log_path``."""
    out = {p.name: values[p.name] for p in RUNTIME_PARAMS if p.name in values}
    if "log" in out:
        out["log_path"] = out.pop("log")
    return out
