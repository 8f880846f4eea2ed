"""Named presets of the ``acoustic`` system: sets of parameter defaults.

A preset (``--param preset=NAME``) supplies values for parameters that are left unset (whose
default is ``None`` or ``""``, meaning "derived"); a value given explicitly always wins. The
resolved values are used to build the cavity; the parameters themselves keep what was given,
so a system rebuilt from its ``params`` is the same system.

``measured``: a cavity whose response has the statistics of the measured cavity of the
published acoustic experiment (``../shared/data/acoustic_cavity``; Momeni et al., Science
2023): tones 3 and 4 of every loudspeaker fall outside the read band (12 active inputs of 20,
three channels interleaved with period 5); four microphones each read five bins, on the three
tones and half-way between them, where the 8 ms Hann window has zeros for every spectral line
(8 near-zero output bins); see docs/backends/acoustic.md for the side-by-side statistics.
"""

from __future__ import annotations

from typing import Any

#: Every preset: parameter name -> value used when that parameter is unset.
PRESETS: dict[str, dict[str, Any]] = {
    "none": {},
    "measured": {
        "microphones": 4,
        "bin_low": 1500.0,
        "bin_high": 2500.0,
        "record_time": 0.008,
        # positions drawn once (uniform in the room, seeded) and kept for their statistics:
        # pooled nonlinearity score 0.042 like the measurement's
        "sources": "0.342,0.524,0.258;0.643,0.231,0.281;0.313,0.205,0.286;0.525,0.489,0.137",
        "microphone": "0.554,0.413,0.416;0.208,0.530,0.076;0.351,0.534,0.258;0.250,0.300,0.242",
    },
}


def preset_value(preset: str, name: str, given: Any) -> Any:
    """``given`` when it is set (neither ``None`` nor ``""``), else the value of preset
    ``preset`` for parameter ``name``, else ``given``."""
    if given is not None and given != "":
        return given
    return PRESETS[preset].get(name, given)
