"""Helpers of the sweep tests: run ``phyll sweep`` in a subprocess (core plugins only), read
its results, start and stop Dask processes on 127.0.0.1."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

#: the core's systems only, one BLAS thread: the same in the driver, its workers and the test
ENV = {"PHYLL_LOAD_PLUGINS": "", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    out.update(ENV)
    return out


def phyll_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "phyll_core", *args]


def run_sweep(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        phyll_command("sweep", *args), capture_output=True, text=True, env=env(),
        timeout=timeout, check=False,
    )


def read_table(folder: Path) -> list[dict[str, str]]:
    with (folder / "results.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def run_files(folder: Path) -> dict[str, dict[str, Any]]:
    runs = folder / "runs"
    return {p.stem: json.loads(p.read_text()) for p in sorted(runs.glob("*.json"))}


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Processes:
    """Processes started by a test, each in its own session; all killed at teardown."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, command: list[str], log: Path) -> subprocess.Popen[str]:
        fh = log.open("w")
        proc = subprocess.Popen(
            command, stdout=fh, stderr=subprocess.STDOUT, text=True, env=env(),
            start_new_session=True,
        )
        fh.close()
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[str]) -> None:
        """SIGKILL the process and everything in its session (e.g. LocalCluster workers)."""
        # also when the leader has exited: its children may still run
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            self.kill(proc)


@pytest.fixture
def processes() -> Iterator[Processes]:
    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()
