"""phyll-optical: a multimode optical fibre or cavity between an SLM and a camera.

The public API: :class:`OpticalSystem` (the physical system ``optical``), the transmission
matrix helpers (:class:`Transmission`, :func:`load_transmission`, :func:`save_transmission`,
:func:`phase_walk`, :class:`TransmissionMatrixError`), the SLM layout (:class:`SlmLayout`) and
the camera (:func:`detect`, :func:`average_pool`).
"""

from phyll_optical.camera import average_pool, detect, pooled_side
from phyll_optical.layout import SlmLayout, cell_grid
from phyll_optical.system import OpticalSystem
from phyll_optical.transmission import (
    Transmission,
    TransmissionMatrixError,
    circular_mask,
    load_transmission,
    phase_walk,
    save_transmission,
)

__all__ = [
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
