"""Hook implementation of phyll-testosc: one system, its parameters derived from the class."""

from __future__ import annotations

from collections.abc import Callable

from phyll_core import SystemSpec, hookimpl


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    register(
        SystemSpec(
            "testosc-chain",
            "phyll_testosc.system:OscillatorChain",
            "Driven chain of coupled Duffing oscillators read as RMS amplitudes (test plugin).",
        )
    )
