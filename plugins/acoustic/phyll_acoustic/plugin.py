"""phyll plugin module of phyll-acoustic: registers the system ``acoustic``.

Listed under the entry-point group ``phyll``. Importing it is cheap: the simulator (and
numpy work) is imported only when the system is built or checked. Its parameters are declared
once, on the fields of :class:`phyll_acoustic.AcousticCavity`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from phyll_core import SystemSpec, hookimpl


def __getattr__(name: str) -> Any:
    """``PARAMS``: every parameter of the ``acoustic`` system, derived from the fields of
    :class:`phyll_acoustic.AcousticCavity` where they are declared (imports the simulator)."""
    if name == "PARAMS":
        from phyll_acoustic.system import AcousticCavity
        from phyll_core.fields import params_from_class

        return params_from_class(AcousticCavity)
    raise AttributeError(name)


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    register(
        SystemSpec(
            "acoustic",
            "phyll_acoustic.system:AcousticCavity",  # parameters: the class's fields
            "Simulated reverberant cavity: tones from loudspeakers read by microphones.",
        )
    )
