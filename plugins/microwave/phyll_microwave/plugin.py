"""Registers the ``microwave`` system with phyll (entry point ``phyll`` -> ``microwave``).

Importing this module is cheap: the physics is imported only when the system is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from phyll_core import hookimpl
from phyll_core.params import Param
from phyll_core.specs import SystemSpec

PARAMS = (
    Param("atoms", "int", 40, "number N of 1-bit meta-atoms", low=1, high=400),
    Param(
        "inputs",
        "int",
        0,
        "number of input values (0: atoms / bits); sets atoms = inputs x bits (binary: inputs)",
        low=0,
        high=400,
    ),
    Param("bits", "int", 2, "bits per input value (levels encoding: 2^bits levels)", low=1, high=8),
    Param(
        "encoding",
        "str",
        "levels",
        "levels: atoms/bits inputs in [0, 1]; binary: atoms inputs in {0, 1}",
        choices=("levels", "binary"),
    ),
    Param("f_min", "float", 0.9, "lowest frequency point (wave speed 1)", low=1e-3),
    Param("f_max", "float", 1.1, "highest frequency point", low=1e-3),
    Param("frequencies", "int", 20, "number of frequency points = output width", low=1),
    Param("f_on", "float", 1.0, "meta-atom resonance frequency for bit 1", low=1e-3),
    Param("f_off", "float", 5.0, "meta-atom resonance frequency for bit 0", low=1e-3),
    Param("stirrers", "int", 3, "number of stirrer scatterers (moved by perturb)", low=0),
    Param("width", "float", 10.0, "enclosure width (wavelengths at f = 1)", low=4.0),
    Param("height", "float", 8.0, "enclosure height (wavelengths at f = 1)", low=4.0),
    Param("wall_spacing", "float", 0.25, "distance between wall dipoles", low=0.05, high=0.5),
    Param("atom_spacing", "float", 0.2, "distance between meta-atoms", low=0.01),
    Param("noise", "float", 0.0, "std of complex Gaussian noise added to H", low=0.0),
    Param(
        "solver",
        "str",
        "woodbury",
        "woodbury: Schur complement + low-rank update; schur: N x N solve; dense: full solve",
        choices=("woodbury", "schur", "dense"),
    ),
    Param(
        "control_atoms",
        "int",
        0,
        "extra meta-atoms (second row) whose bits are trainable controls",
        low=0,
        high=400,
    ),
    Param("seed", "int", 0, "seed of the stirrer layout and of the noise"),
)
"""Declared parameters of the ``microwave`` system (``--param NAME=VALUE``)."""


def _microwave(**params: Any) -> Any:
    from phyll_microwave.system import MicrowaveCavity

    return MicrowaveCavity(**params)


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    register(
        SystemSpec(
            "microwave",
            _microwave,
            "Reverberant 2D enclosure programmed by a 1-bit metasurface (coupled dipoles).",
            PARAMS,
        )
    )
