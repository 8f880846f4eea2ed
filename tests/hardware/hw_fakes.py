"""A pure-Python fake instrument for the runtime's unit tests (no sockets, no VISA), a system
that interrupts itself, and a helper running ``phyll record`` in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from phyll_core.builtin_systems import RandomFeatures
from phyll_core.domain import Domain, Interval
from phyll_core.hardware import InstrumentSystem


def needs_emulator() -> None:
    """Skip the calling test module unless PyVISA and the example plugin are installed."""
    pytest.importorskip("pyvisa", reason="needs phyll-core[visa] (pyvisa)")
    pytest.importorskip("pyvisa_py", reason="needs pyvisa-py")
    pytest.importorskip("phyll_scpi_example", reason="needs examples/scpi_plugin installed")


_RUN_WITH_CTRL_C = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler);"
    " runpy.run_module('phyll_core', run_name='__main__', alter_sys=True)"
)
"""``python -m phyll_core`` with Python's own SIGINT handler (KeyboardInterrupt) installed."""


def start_record(
    args: list[str], progress: Path, ready: int = 300
) -> subprocess.Popen[str]:
    """``phyll record ARGS`` in a child process; returns once ``progress`` holds more than
    ``ready`` bytes (the header and the first saved row).

    The child handles SIGINT as a terminal's Ctrl-C even when the tests run with SIGINT ignored
    (a background job of a non-interactive shell, as CI may start tox): an ignored signal stays
    ignored across ``exec``, and Python then installs no KeyboardInterrupt handler, so the
    child would record to the end instead of being interrupted."""
    env = {**os.environ, "PHYLL_LOAD_PLUGINS": "phyll-scpi-example"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUN_WITH_CTRL_C, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if progress.exists() and progress.stat().st_size > ready:
            return proc
        time.sleep(0.02)
    proc.kill()
    out, err = proc.communicate()
    raise AssertionError(f"phyll record did not start: {out} {err}")


@attrs.define(kw_only=True, eq=False)
class FakeDevice(InstrumentSystem):
    """``y = tanh(setpoints @ M) + noise``, setpoints = ``gain * x`` bounded to [0, 1].

    ``actions`` maps the 1-based number of an ``_acquire`` call (or ``"always"``) to a fault:
    ``transient`` (ConnectionError), ``fatal`` (ValueError), ``slow`` (0.15 s), ``hang`` (until
    disconnected, at most 5 s), ``nan``, ``huge`` (one output is 1e308). ``events`` records
    every device call in order.
    """

    name = "fake-device"
    transient_errors = (ConnectionError,)

    address: str = "FAKE::1"
    inputs: int = 4
    outputs: int = 3
    seed: int = 0
    gain: float = 1.0
    noise: float = 0.0
    actions: dict[Any, str] = attrs.field(factory=dict)
    events: list[str] = attrs.field(factory=list)
    matrix: np.ndarray = attrs.field(init=False)
    acquires: int = attrs.field(default=0, init=False)
    _current: np.ndarray | None = attrs.field(default=None, init=False)
    _release: threading.Event = attrs.field(factory=threading.Event, init=False)
    _rng: np.random.Generator = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.matrix = rng.normal(size=(self.inputs, self.outputs))
        self._rng = np.random.default_rng(self.seed + 100)

    @property
    def input_dim(self) -> int:
        return self.inputs

    @property
    def output_dim(self) -> int:
        return self.outputs

    @property
    def domain(self) -> Domain:
        return Interval(0.0, 1.0)

    @property
    def setpoint_bounds(self) -> tuple[float, float]:
        return (0.0, 1.0)

    def expected(self, x: np.ndarray) -> np.ndarray:
        """The noise-free response."""
        return np.tanh(self.gain * np.asarray(x) @ self.matrix)

    def _connect(self) -> None:
        self._release.clear()
        self.events.append("connect")

    def _disconnect(self) -> None:
        self.events.append("disconnect")
        self._release.set()

    def _encode(self, x: np.ndarray) -> np.ndarray:
        return self.gain * x

    def _apply(self, setpoints: np.ndarray) -> None:
        self.events.append("apply")
        self._current = setpoints.copy()

    def _acquire(self) -> np.ndarray:
        self.acquires += 1
        self.events.append("acquire")
        action = self.actions.get(self.acquires, self.actions.get("always"))
        if action == "transient":
            raise ConnectionError("link reset by peer")
        if action == "fatal":
            raise ValueError("firmware refused the request")
        if action == "slow":
            time.sleep(0.15)
        if action == "hang":
            self._release.wait(5.0)
        assert self._current is not None
        y = np.tanh(self._current @ self.matrix)
        if action == "nan":
            y = y * np.nan
        if action == "huge":
            y = y.copy()
            y[0] = 1e308
        if self.noise:
            y = y + self.noise * self._rng.standard_normal(y.shape)
        return y


@attrs.define(kw_only=True, eq=False)
class FakeBatchDevice(FakeDevice):
    """The same device, measuring up to ``batch`` rows per call."""

    name = "fake-batch-device"
    batch: int = 4

    @property
    def max_batch(self) -> int:
        return self.batch

    def _measure_batch(self, setpoints: np.ndarray) -> np.ndarray:
        self.events.append(f"batch:{setpoints.shape[0]}")
        return np.tanh(setpoints @ self.matrix)


@attrs.define(kw_only=True, eq=False)
class Interrupted(RandomFeatures):
    """Random features whose forward raises KeyboardInterrupt on call number ``stop_at``
    (0: never), as Ctrl-C would in the middle of ``record_pairs``."""

    name = "random-features"
    stop_at: int = 0
    calls: int = 0

    def _forward(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return super()._forward(x)
