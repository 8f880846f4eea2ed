"""phyll-optical: a multimode optical fibre or cavity between an SLM and a camera.

The public API: :class:`OpticalSystem` (the physical system ``optical``), the transmission
matrix helpers (:class:`Transmission`, :func:`load_transmission`, :func:`save_transmission`,
:func:`phase_walk`, :class:`TransmissionMatrixError`), the SLM layout (:class:`SlmLayout`) and
the camera (:func:`detect`, :func:`average_pool`).

The names are imported on first use (PEP 562), so that phyll's plugin loader, which imports
:mod:`phyll_optical.plugin` for ``phyll --help``, does not pull in the simulator and SciPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from phyll_core.lazy import lazy_exports

if TYPE_CHECKING:
    from phyll_optical.camera import average_pool, detect, pooled_side
    from phyll_optical.layout import SlmLayout, cell_grid
    from phyll_optical.lens import LensSystem
    from phyll_optical.system import OpticalSystem
    from phyll_optical.transmission import (
        Transmission,
        TransmissionMatrixError,
        circular_mask,
        load_transmission,
        phase_walk,
        save_transmission,
    )

_HOMES = {
    "average_pool": "camera",
    "detect": "camera",
    "pooled_side": "camera",
    "SlmLayout": "layout",
    "cell_grid": "layout",
    "LensSystem": "lens",
    "OpticalSystem": "system",
    "Transmission": "transmission",
    "TransmissionMatrixError": "transmission",
    "circular_mask": "transmission",
    "load_transmission": "transmission",
    "phase_walk": "transmission",
    "save_transmission": "transmission",
}

__all__ = [
    "LensSystem",
    "OpticalSystem",
    "SlmLayout",
    "Transmission",
    "TransmissionMatrixError",
    "average_pool",
    "cell_grid",
    "circular_mask",
    "detect",
    "load_transmission",
    "phase_walk",
    "pooled_side",
    "save_transmission",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
