"""Shared helpers of the core's tests: run the ``phyll`` CLI in-process or in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

REPO = Path(__file__).resolve().parents[1]

# CI may start the tests as a background job of a non-interactive shell (tox run-parallel),
# where SIGINT is ignored; an ignored signal stays ignored in every child process, whose Python
# then installs no KeyboardInterrupt handler, and the tests that press Ctrl-C on a child would
# see it run on. A handled signal is reset to the default in a child, so handle it here.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@attrs.frozen
class CliResult:
    """Exit code, stdout and stderr of one ``phyll`` invocation."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON (fails the test with the streams when it is not JSON)."""
        try:
            return json.loads(self.out)
        except json.JSONDecodeError as exc:
            pytest.fail(f"stdout is not JSON ({exc}):\n{self.out}\nstderr:\n{self.err}")

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def _run_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own temporary folder: ``phyll train`` writes a ``runs/`` folder
    in the working directory by default, and nothing may be left in the checkout."""
    monkeypatch.chdir(tmp_path)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


@pytest.fixture(scope="session")
def core_host() -> Any:
    """A loaded plugin host with the core's built-ins and ``phyll-testplugin`` (when installed)
    only: what the tox env ``core`` has, whatever else is installed in this environment."""
    from phyll_core.plugins import Host

    patch = pytest.MonkeyPatch()
    patch.setenv("PHYLL_LOAD_PLUGINS", "phyll-testplugin")
    try:
        return Host().load()
    finally:
        patch.undo()


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, core_host: Any
) -> Callable[..., CliResult]:
    """Run ``phyll ARGS`` in this process, with the plugins of :func:`core_host`."""
    from phyll_core import plugins
    from phyll_core.cli.app import main

    monkeypatch.setattr(plugins, "_HOST", core_host)

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = _exit_code(exc)
        else:
            code = 0
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def run_phyll(
    *args: str,
    env: Mapping[str, str] | None = None,
    pythonpath: list[Path] | None = None,
    timeout: float = 120,
) -> CliResult:
    """Run ``python -m phyll_core ARGS`` in a fresh interpreter. ``env`` is added to the current
    environment (without any inherited ``PHYLL_*`` setting); ``pythonpath`` folders go first on
    ``PYTHONPATH``."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    full_env.update(env or {})
    if pythonpath:
        parts = [str(p) for p in pythonpath]
        if full_env.get("PYTHONPATH"):
            parts.append(full_env["PYTHONPATH"])
        full_env["PYTHONPATH"] = os.pathsep.join(parts)
    proc = subprocess.run(
        [sys.executable, "-m", "phyll_core", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def phyll_subprocess() -> Callable[..., CliResult]:
    """:func:`run_phyll`: run ``python -m phyll_core ARGS`` in a fresh interpreter."""
    return run_phyll
