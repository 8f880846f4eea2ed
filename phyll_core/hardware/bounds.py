"""Range checks of what goes to a device (setpoints) and what comes back (outputs).

Setpoints outside the safety bounds refuse the whole batch before anything is sent
(:class:`~phyll_core.hardware.errors.SetpointOutOfBoundsError`). Outputs outside the declared
output bounds (default: finite and ``|v| <= 1e12``) are a
:class:`~phyll_core.hardware.errors.MalformedReplyError`, retried like any malformed reply.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from phyll_core.hardware.errors import MalformedReplyError, SetpointOutOfBoundsError


def _broadcast(bounds: tuple[Any, Any], width: int) -> tuple[np.ndarray, np.ndarray]:
    low = np.broadcast_to(np.asarray(bounds[0], dtype=np.float64), (width,))
    high = np.broadcast_to(np.asarray(bounds[1], dtype=np.float64), (width,))
    return low, high


def check_setpoints(sp: np.ndarray, bounds: tuple[Any, Any] | None, where: str) -> None:
    """Raise SetpointOutOfBoundsError naming row, setpoint, value and bounds when a setpoint of
    ``sp`` (batch, n) is not finite or lies outside ``bounds``; ``where`` names the device."""
    bad = ~np.isfinite(sp)
    low = high = None
    if bounds is not None:
        low, high = _broadcast(bounds, sp.shape[1])
        bad |= (sp < low) | (sp > high)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        what = (
            f"outside the safety bounds [{low[col]:g}, {high[col]:g}]"
            if low is not None and high is not None
            else "not finite"
        )
        raise SetpointOutOfBoundsError(
            f"{where}: setpoint {col} of row {row} is {sp[row, col]:g}, {what}"
            f" ({int(bad.sum())} setpoints refused); nothing was sent to the device"
        )


def check_outputs(y: np.ndarray, bounds: tuple[Any, Any]) -> None:
    """Raise MalformedReplyError when a decoded output of ``y`` (n, output_dim) is not finite or
    lies outside ``bounds`` (scalars or per-output arrays)."""
    low, high = _broadcast(bounds, y.shape[1])
    ok = np.isfinite(y) & (y >= low) & (y <= high)
    if ok.all():
        return
    row, col = (int(i) for i in np.argwhere(~ok)[0])
    value = y[row, col]
    if not np.isfinite(value):
        raise MalformedReplyError("the device returned NaN, inf or an overload value")
    raise MalformedReplyError(
        f"the device returned {value:g} for output {col}, outside the output bounds"
        f" [{low[col]:g}, {high[col]:g}]"
    )
