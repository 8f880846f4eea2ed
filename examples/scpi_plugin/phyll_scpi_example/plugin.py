"""Hook implementations of the example plugin (entry point group ``phyll``)."""

from __future__ import annotations

from collections.abc import Callable

from phyll_core import hookimpl
from phyll_core.params import Param
from phyll_core.specs import SystemSpec
from phyll_scpi_example import DEFAULT_RESOURCE, SPEC_FILE


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    from phyll_core.hardware.visa import VISA_PARAMS, visa_dims, visa_system_factory

    register(
        SystemSpec(
            "scpi-demo",
            visa_system_factory(SPEC_FILE, "scpi-demo"),
            "Example SCPI instrument (run phyll-scpi-emulator) through PyVISA TCPIP SOCKET.",
            (Param("resource", "str", DEFAULT_RESOURCE, "VISA resource string"), *VISA_PARAMS),
            dims=visa_dims(SPEC_FILE),  # listed from the spec file, no instrument contacted
        )
    )
    register(
        SystemSpec(
            "scpi-demo-model",
            "phyll_scpi_example.model:ResponseSystem",  # imported when used
            "The example instrument's response |s(x) @ M| computed directly (no hardware).",
            (
                Param("inputs", "int", 20, "source channels", low=1),
                Param("outputs", "int", 20, "detector bins", low=1),
                Param("seed", "int", 0, "seed of the resonator (as the emulator's --seed)"),
                Param("beta", "float", 0.5, "transducer nonlinearity (as --beta)"),
            ),
        )
    )
