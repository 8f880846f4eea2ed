"""phyll-acoustic: a simulated reverberant acoustic cavity for phyll.

Loudspeakers play tones whose amplitudes are the inputs; a loudspeaker nonlinearity creates
intermodulation; the cavity's damped modal transfer function carries every spectral line to
the microphones (four by default), whose spectrum magnitudes at the output bins are the
outputs. Registered as the phyll system ``acoustic`` (see :mod:`phyll_acoustic.plugin`); the
preset ``measured`` (:mod:`phyll_acoustic.presets`) copies the measured cavity's statistics.
"""

from phyll_acoustic.cavity import (
    Modes,
    Room,
    chaotic_modes,
    shoebox_modes,
    speed_of_sound,
    transfer,
)
from phyll_acoustic.signals import Nonlinearity, ToneGrid, tone_grid
from phyll_acoustic.system import AcousticCavity

__all__ = [
    "AcousticCavity",
    "Modes",
    "Nonlinearity",
    "Room",
    "ToneGrid",
    "chaotic_modes",
    "shoebox_modes",
    "speed_of_sound",
    "tone_grid",
    "transfer",
]
