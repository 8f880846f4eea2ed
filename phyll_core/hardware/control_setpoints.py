"""Physical controls of an instrument as extra setpoints (mixed into ``InstrumentSystem``).

See the "Physical controls" paragraph of :mod:`phyll_core.hardware.instrument`: the controls
``theta`` are realised by ``_control_setpoints(theta)``, appended to every row's setpoints,
checked against the safety bounds (already when set) and sent only while the device is held.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from phyll_core.hardware.bounds import check_setpoints


class ControlSetpoints:
    """``_get_controls``/``_set_controls`` of an ``InstrumentSystem`` that declares controls."""

    _control_values: np.ndarray | None

    # -- controls as extra setpoints -----------------------------------------------------------
    def initial_controls(self) -> np.ndarray:
        """Controls before the first ``set_controls``: the domain's low end (0 for bits)."""
        spec = self.controls  # type: ignore[attr-defined]
        assert spec is not None
        low = getattr(spec.domain, "low", 0.0)
        return np.full(spec.shape, float(low))

    def _control_setpoints(self, theta: np.ndarray) -> np.ndarray:
        """The setpoints (1-D) that realise controls ``theta``; default ``theta`` itself."""
        return theta

    def _get_controls(self) -> np.ndarray:
        if self._control_values is None:
            self._control_values = self.initial_controls()
        return self._control_values.copy()

    def _set_controls(self, theta: np.ndarray) -> None:
        row = self._with_controls(
            self._encode(self._reference_row()), theta  # type: ignore[attr-defined]
        )
        where = f"system '{self.name}' at {self.address}"  # type: ignore[attr-defined]
        check_setpoints(row, self.setpoint_bounds, where)  # type: ignore[attr-defined]
        self._control_values = theta.copy()

    def _with_controls(self, sp: Any, theta: np.ndarray | None = None) -> np.ndarray:
        sp = np.asarray(sp, dtype=np.float64)
        if self.controls is None:  # type: ignore[attr-defined]
            return sp
        extra = np.asarray(
            self._control_setpoints(self._get_controls() if theta is None else theta),
            dtype=np.float64,
        ).ravel()
        return np.hstack([sp, np.broadcast_to(extra, (sp.shape[0], extra.size))])
