"""Registers the systems ``optical`` (a multimode fibre) and ``lens`` (a free-space Fourier
processor) with phyll (entry point ``phyll: optical``).

Importing this module is cheap: the simulator is imported only when a system is built.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from phyll_core import hookimpl
from phyll_core.params import Param
from phyll_core.specs import SystemSpec

PHASE_DEPTH = Param(
    "phase_depth", "float", math.pi, "phase (rad) written for input 1", low=0.0, high=2 * math.pi
)
DETECTION = Param(
    "detection",
    "str",
    "amplitude",
    "camera reading |E| or |E|^2",
    choices=("amplitude", "intensity"),
)
NOISE = Param("noise", "float", 0.0, "camera read noise / mean reading", low=0.0)
"""Parameters of the SLM and the camera that ``optical`` and ``lens`` share."""

PARAMS: tuple[Param, ...] = (
    Param("inputs", "int", 20, "number of input values (SLM blocks)", low=1),
    Param("frame", "int", 32, "SLM and camera frame side in pixels", low=3),
    Param(
        "layout",
        "str",
        "vector",
        "arrangement of the inputs on the SLM",
        choices=("vector", "image", "side-by-side"),
    ),
    Param("block", "int", 0, "SLM pixels per input block side (0: automatic)", low=0),
    Param("image_side", "int", 0, "picture side for image layouts (0: largest fitting)", low=0),
    Param("encoding", "str", "amplitude", "SLM modulation", choices=("amplitude", "phase")),
    PHASE_DEPTH,
    Param("aperture", "float", 0.375, "input aperture radius / Nyquist radius", low=0.0, high=1.0),
    Param(
        "output_aperture",
        "float",
        0.0,
        "output aperture radius / Nyquist radius (0: same as aperture)",
        low=0.0,
        high=1.0,
    ),
    Param(
        "matrix",
        "str",
        "gaussian",
        "transmission matrix: i.i.d. Gaussian, Haar unitary, or a file",
        choices=("gaussian", "unitary", "file"),
    ),
    Param("matrix_file", "str", "", ".npz or .mat file with T, input_mask, output_mask"),
    DETECTION,
    Param("saturation", "float", 0.0, "saturable absorber I_sat (0: no absorber)", low=0.0),
    Param("absorption", "float", 0.5, "absorber small-signal loss q0", low=0.0, high=1.0),
    NOISE,
    Param(
        "fold",
        "bool",
        True,
        "without absorber, fold the linear chain into one matrix (false: step by step)",
    ),
    Param("phase_mask", "bool", False, "trainable SLM phase added on every input block"),
    Param("seed", "int", 0, "seed of T, the reference batch and the camera noise", low=0),
)


LENS_PARAMS: tuple[Param, ...] = (
    Param("inputs", "int", 64, "number of input values (SLM pixels on the line)", low=2),
    Param("pixels", "int", 0, "Fourier-plane samples per period (0: twice the inputs)", low=0),
    Param(
        "encoding",
        "str",
        "signed",
        "SLM modulation: 2x-1 (pi phase for the sign), x, or exp(i depth x)",
        choices=("signed", "amplitude", "phase"),
    ),
    PHASE_DEPTH,
    DETECTION,
    NOISE,
    Param("phase_mask", "bool", False, "trainable SLM phase on every pixel"),
    Param("seed", "int", 0, "seed of the reference batch and the camera noise", low=0),
)


def _lens(**kw: Any) -> Any:
    from phyll_optical.lens import LensSystem

    return LensSystem(**kw)


def _lens_dims(params: Mapping[str, Any]) -> Any:
    """``inputs`` SLM values in [0, 1] in, half a line of Fourier-plane pixels out (the
    lens module imports NumPy only)."""
    from phyll_core.domain import Interval
    from phyll_core.system import Dims
    from phyll_optical.lens import camera_pixels, samples

    out = camera_pixels(samples(params["inputs"], params["pixels"]))
    return Dims(params["inputs"], out, Interval(0.0, 1.0))


def _optical(**kw: Any) -> Any:
    from phyll_optical.system import OpticalSystem

    return OpticalSystem(**kw)


def _dims(params: Mapping[str, Any]) -> Any:
    """``inputs`` SLM values in [0, 1] in, the pooled camera image out: the widths that
    ``phyll systems`` lists, without the simulator (or SciPy) being imported."""
    from phyll_core.domain import Interval
    from phyll_core.system import Dims
    from phyll_optical.camera import pooled_side

    return Dims(params["inputs"], pooled_side(params["frame"]) ** 2, Interval(0.0, 1.0))


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    register(
        SystemSpec(
            "optical",
            _optical,
            "Multimode fibre/cavity: SLM, Fourier aperture, transmission matrix, camera.",
            PARAMS,
            dims=_dims,
        )
    )
    register(
        SystemSpec(
            "lens",
            _lens,
            "Free-space Fourier optics: SLM line, lens, line camera in the focal plane.",
            LENS_PARAMS,
            dims=_lens_dims,
        )
    )
