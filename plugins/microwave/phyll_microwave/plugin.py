"""Registers the ``microwave`` system with phyll (entry point ``phyll`` -> ``microwave``).

Importing this module is cheap: the physics is imported only when the system is built (or
checked); its parameters are declared once, on the fields of
:class:`phyll_microwave.system.MicrowaveCavity`.
"""

from __future__ import annotations

from collections.abc import Callable

from phyll_core import hookimpl
from phyll_core.specs import SystemSpec


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    register(
        SystemSpec(
            "microwave",
            "phyll_microwave.system:MicrowaveCavity",  # parameters: the class's fields
            "Reverberant 2D enclosure programmed by a 1-bit metasurface (coupled dipoles).",
        )
    )
