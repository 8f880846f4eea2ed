"""The parameters of the ``acoustic`` system (``--param NAME=VALUE``), declared once: the attrs
fields of :class:`CavityParameters`, which :class:`~phyll_acoustic.system.AcousticCavity`
extends with the physics. Help, bounds and choices are here; the validators give messages of
their own. Frequencies in Hz, lengths in m, temperatures in degrees Celsius.
"""

from __future__ import annotations

import attrs

from phyll_acoustic.presets import PRESETS
from phyll_acoustic.validation import (
    above_absolute_zero,
    at_least,
    choice,
    optional_positive,
    positive,
)
from phyll_core.fields import param
from phyll_core.system import PhysicalSystem


@attrs.define(kw_only=True, eq=False)
class CavityParameters(PhysicalSystem):
    """Every parameter of the acoustic cavity as an attrs field (see the module docstring);
    the physics is :class:`~phyll_acoustic.system.AcousticCavity`."""

    #: the field validators below check the parameters with messages of their own
    check_params = False
    # the parameters (``--param NAME=VALUE``), declared once: help and bounds here. Frequencies
    # in Hz, lengths in m, temperatures in degrees Celsius.
    inputs: int = param(
        20, help="number of inputs = tone amplitudes", low=1, validator=at_least("inputs", 1)
    )
    outputs: int = param(
        20, help="spectrum bins read, over all microphones", low=1,
        validator=at_least("outputs", 1),
    )
    microphones: int | None = param(
        None,
        help="microphones, each reading outputs/microphones bins; default: as many as the"
        " positions given, else the preset's, else the most (<= 4) that divide outputs with"
        " a bin per tone each",
        low=1,
        validator=optional_positive("microphones"),
    )
    speakers: int = param(
        4, help="loudspeakers; input i: tone i mod T on speaker i // T", low=1,
        validator=at_least("speakers", 1),
    )
    tone_start: float = param(
        1500.0, help="frequency of the first tone (Hz)", low=1e-3,
        validator=positive("tone_start"),
    )
    tone_spacing: float = param(
        500.0, help="spacing of the tones (Hz)", low=1e-3, validator=positive("tone_spacing")
    )
    bin_low: float | None = param(
        None, help="first output bin (Hz); default: a bin on every tone when they fit",
        validator=optional_positive("bin_low"),
    )
    bin_high: float | None = param(
        None, help="last output bin (Hz); default: bins span the tone band",
        validator=optional_positive("bin_high"),
    )
    record_time: float | None = param(
        None, help="Hann-windowed recording length (s); default 3/spacing",
        validator=optional_positive("record_time"),
    )
    nonlinearity: str = param(
        "tanh",
        help="loudspeaker: tanh(a u)/a, poly u + beta u^2 + gamma u^3, or none",
        choices=("tanh", "poly", "none"),
        validator=choice("nonlinearity", ("tanh", "poly", "none")),
    )
    saturation: float = param(
        2.0, help="tanh saturation a (0 = linear)", low=0.0,
        validator=at_least("saturation", 0.0),
    )
    beta: float = param(0.2, help="poly: quadratic coefficient")
    gamma: float = param(-0.3, help="poly: cubic coefficient")
    cavity: str = param(
        "room",
        help="mode model: rectangular room or chaotic (random Gaussian mode shapes)",
        choices=("room", "chaotic"),
        validator=choice("cavity", ("room", "chaotic")),
    )
    room_length: float = param(
        0.8, help="room dimension x (m)", low=1e-3, validator=positive("room_length")
    )
    room_width: float = param(
        0.6, help="room dimension y (m)", low=1e-3, validator=positive("room_width")
    )
    room_height: float = param(
        0.5, help="room dimension z (m)", low=1e-3, validator=positive("room_height")
    )
    absorption: float = param(
        0.03, help="Sabine wall absorption coefficient", low=1e-6, high=1.0,
        validator=positive("absorption"),
    )
    q: float | None = param(
        None, help="constant modal quality factor (overrides absorption)", low=1e-3,
        validator=optional_positive("q"),
    )
    sources: str = param("", help="speaker positions 'x,y,z;...' (m); empty = random (seeded)")
    microphone: str = param("", help="microphone positions 'x,y,z;...' (m); empty = random")
    temperature: float = param(
        20.0, help="initial air temperature (C)", low=-273.0, validator=above_absolute_zero
    )
    gain: float = param(0.5, help="microphone gain", low=1e-9, validator=positive("gain"))
    noise: float = param(
        0.003, help="RMS of complex measurement noise (output units)", low=0.0,
        validator=at_least("noise", 0.0),
    )
    time_samples: int | None = param(
        None, help="samples per drive period (default: alias-free)", low=3,
        validator=optional_positive("time_samples"),
    )
    seed: int = param(0, help="seed of positions, chaotic modes and noise")
    tone_gains: bool = param(False, help="drive gain of every tone is a trainable control")
    preset: str = param(
        "none",
        help="named defaults for the unset parameters (measured: like the measured cavity)",
        choices=tuple(PRESETS),
        validator=choice("preset", tuple(PRESETS)),
    )
