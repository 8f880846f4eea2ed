"""phyll plugin module of phyll-acoustic: registers the system ``acoustic``.

Listed under the entry-point group ``phyll``. Importing it is cheap: the simulator (and
numpy work) is imported only when the factory builds a system.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from phyll_core import Param, SystemSpec, hookimpl

#: Every parameter of the ``acoustic`` system (frequencies in Hz, lengths in m, temperatures in
#: degrees Celsius). The defaults equal those of :class:`phyll_acoustic.AcousticCavity`.
PARAMS: tuple[Param, ...] = (
    Param("inputs", "int", 20, "number of inputs = tone amplitudes", low=1),
    Param("outputs", "int", 20, "spectrum bins read, over all microphones", low=1),
    Param(
        "microphones",
        "int",
        None,
        "microphones, each reading outputs/microphones bins; default: as many as the"
        " positions given, else the preset's, else 4",
        low=1,
    ),
    Param("speakers", "int", 4, "loudspeakers; input i: tone i mod T on speaker i // T", low=1),
    Param("tone_start", "float", 1500.0, "frequency of the first tone (Hz)", low=1e-3),
    Param("tone_spacing", "float", 500.0, "spacing of the tones (Hz)", low=1e-3),
    Param("bin_low", "float", None, "first output bin (Hz); default tone_start - spacing/2"),
    Param("bin_high", "float", None, "last output bin (Hz); default: bins span the tone band"),
    Param("record_time", "float", None, "Hann-windowed recording length (s); default 3/spacing"),
    Param(
        "nonlinearity",
        "str",
        "tanh",
        "loudspeaker: tanh(a u)/a, poly u + beta u^2 + gamma u^3, or none",
        choices=("tanh", "poly", "none"),
    ),
    Param("saturation", "float", 2.0, "tanh saturation a (0 = linear)", low=0.0),
    Param("beta", "float", 0.2, "poly: quadratic coefficient"),
    Param("gamma", "float", -0.3, "poly: cubic coefficient"),
    Param(
        "cavity",
        "str",
        "room",
        "mode model: rectangular room or chaotic (random Gaussian mode shapes)",
        choices=("room", "chaotic"),
    ),
    Param("room_length", "float", 0.8, "room dimension x (m)", low=1e-3),
    Param("room_width", "float", 0.6, "room dimension y (m)", low=1e-3),
    Param("room_height", "float", 0.5, "room dimension z (m)", low=1e-3),
    Param("absorption", "float", 0.03, "Sabine wall absorption coefficient", low=1e-6, high=1.0),
    Param("q", "float", None, "constant modal quality factor (overrides absorption)", low=1e-3),
    Param("sources", "str", "", "speaker positions 'x,y,z;...' (m); empty = random (seeded)"),
    Param("microphone", "str", "", "microphone positions 'x,y,z;...' (m); empty = random"),
    Param("temperature", "float", 20.0, "initial air temperature (C)", low=-273.0),
    Param("gain", "float", 0.5, "microphone gain", low=1e-9),
    Param("noise", "float", 0.003, "RMS of complex measurement noise (output units)", low=0.0),
    Param("time_samples", "int", None, "samples per drive period (default: alias-free)", low=3),
    Param("seed", "int", 0, "seed of positions, chaotic modes and noise"),
    Param("tone_gains", "bool", False, "drive gain of every tone is a trainable control"),
    Param(
        "preset",
        "str",
        "none",
        "named defaults for the unset parameters (measured: like the measured cavity)",
        choices=("none", "measured"),
    ),
)


def _acoustic(**params: Any) -> Any:
    from phyll_acoustic.system import AcousticCavity

    return AcousticCavity(**params)


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    register(
        SystemSpec(
            "acoustic",
            _acoustic,
            "Simulated reverberant cavity: tones from loudspeakers read by a microphone.",
            PARAMS,
        )
    )
