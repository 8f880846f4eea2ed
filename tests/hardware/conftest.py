"""Fixtures of the hardware tests: a private lock folder, single-threaded BLAS, emulators.

Every emulator is a real TCP server on 127.0.0.1 started by the ``emulator`` fixture and stopped
by it at teardown, even when the test fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session", autouse=True)
def _single_threaded_blas() -> Iterator[None]:
    """Tiny matrices everywhere: BLAS threads only fight over the cores of a shared machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


@pytest.fixture(autouse=True)
def lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private device-lock folder per test (also seen by subprocesses through the env)."""
    path = tmp_path / "locks"
    monkeypatch.setenv("PHYLL_LOCK_DIR", str(path))
    return path


@pytest.fixture
def emulator() -> Iterator[Callable[..., Any]]:
    """``emulator(**EmulatorConfig options, port=0)`` starts a SCPI emulator on 127.0.0.1;
    all of them are stopped at teardown."""
    from phyll_scpi_example.emulator import ScpiEmulator

    started: list[ScpiEmulator] = []

    def start(port: int = 0, **options: Any) -> ScpiEmulator:
        emu = ScpiEmulator(port=port, **options).start()
        started.append(emu)
        return emu

    try:
        yield start
    finally:
        for emu in started:
            with contextlib.suppress(Exception):
                emu.stop()


@pytest.fixture
def make_visa() -> Callable[..., Any]:
    """``make_visa(emulator, spec=None, **options)``: the example instrument through PyVISA
    (a 10 s timeout, generous on a loaded machine: a test of timeouts sets its own; fast
    backoff)."""
    from phyll_scpi_example import SPEC_FILE

    from phyll_core.hardware import VisaInstrumentSystem, load_visa_spec

    def make(emu: Any, spec: Any = None, **options: Any) -> VisaInstrumentSystem:
        kw: dict[str, Any] = {"timeout": 10.0, "backoff": 0.01, **options}
        return VisaInstrumentSystem(
            name="scpi-demo",
            spec=spec if spec is not None else load_visa_spec(SPEC_FILE),
            address=emu.resource,
            **kw,
        )

    return make


@pytest.fixture(scope="session")
def hardware_host() -> Any:
    """A plugin host with the core's built-ins and the example plugin only."""
    from phyll_core.plugins import Host

    patch = pytest.MonkeyPatch()
    patch.setenv("PHYLL_LOAD_PLUGINS", "phyll-scpi-example")
    try:
        return Host().load()
    finally:
        patch.undo()


@pytest.fixture
def cli(cli: Any, monkeypatch: pytest.MonkeyPatch, hardware_host: Any) -> Any:
    """The core tests' in-process ``phyll`` runner, with the example plugin loaded."""
    from phyll_core import plugins

    monkeypatch.setattr(plugins, "_HOST", hardware_host)
    return cli
