"""Shared fixtures of phyll-tf-twin's tests: an in-process ``phyll`` runner, a small twin of
``random-features`` fitted once per session, and the measured data (skipped when absent)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
# the system every twin of these tests imitates (small, fast, clearly nonlinear)
SYSTEM = "random-features"
SYSTEM_PARAMS = {"inputs": 8, "outputs": 8, "scale": 2.0, "seed": 3}
SMALL_FIT = ["--hidden", "32,32", "--epochs", "40", "--batch-size", "32", "-q"]


@attrs.frozen
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        try:
            return json.loads(self.out)
        except json.JSONDecodeError:
            pytest.fail(f"stdout is not JSON:\n{self.out}\nstderr:\n{self.err}")

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``phyll ARGS`` in this process; returns exit code, stdout and stderr."""
    from phyll_core.cli.app import main

    def run(*args: Any) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:
            code = 0
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def system_params() -> list[str]:
    return [item for k, v in SYSTEM_PARAMS.items() for item in ("--param", f"{k}={v}")]


@pytest.fixture(scope="session")
def small_twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A twin of the test system, fitted from 2,000 queries (a few seconds)."""
    from phyll_tf_twin.data import query_system
    from phyll_tf_twin.fit import fit_twin
    from phyll_tf_twin.twin import FitOptions

    pairs, domain = query_system(SYSTEM, SYSTEM_PARAMS, 2000, seed=0)
    twin = fit_twin(pairs, domain, FitOptions(hidden=(64, 64), epochs=60, batch_size=32))
    return twin.save(tmp_path_factory.mktemp("twin") / "rf.keras")


@pytest.fixture
def pairs_csv(tmp_path: Path) -> tuple[Path, Path]:
    """Header-less input/output CSV files of 600 queries of the test system."""
    from phyll_tf_twin.data import query_system

    pairs, _ = query_system(SYSTEM, SYSTEM_PARAMS, 600, seed=5)
    x, y = tmp_path / "in.csv", tmp_path / "out.csv"
    np.savetxt(x, pairs.inputs, delimiter=",")
    np.savetxt(y, pairs.outputs, delimiter=",")
    return x, y


@pytest.fixture
def acoustic_cavity() -> Path:
    folder = DATA / "acoustic_cavity"
    if not (folder / "inputs.csv").is_file():
        pytest.skip(f"measured data not available ({folder} is absent)")
    return folder


@pytest.fixture
def vowels() -> str:
    path = DATA / "vowels" / "hillenbrand_women_7vowels.csv"
    if not path.is_file():
        pytest.skip(f"measured data not available ({path} is absent)")
    return f"csv:{path}"
