"""The ``twin`` system: conformance, fidelity to the twin, parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from phyll_tf_twin.system import TwinSystem
from phyll_tf_twin.twin import Twin

from phyll_core.errors import CheckpointError, ParameterError
from phyll_core.factory import build_system
from phyll_core.testing import check_system


def test_conformance(small_twin: Path) -> None:
    twin = Twin.load(small_twin)  # loaded once; every system built by the suite shares it
    check_system(lambda seed: TwinSystem(twin=twin))


def test_built_by_name_from_the_model_file(small_twin: Path) -> None:
    system = build_system("twin", {"path": str(small_twin)})
    assert (system.input_dim, system.output_dim) == (8, 8)
    assert system.domain.describe() == "[0, 1]"
    assert system.params == {"path": str(small_twin)}
    x = np.random.default_rng(0).random((33, 8))
    y = system.forward(x)
    assert np.array_equal(y, Twin.load(small_twin).predict(x))
    assert system.status()["twin source"] == "system"


def test_imitates_the_system_it_was_fitted_to(small_twin: Path) -> None:
    from conftest import SYSTEM, SYSTEM_PARAMS

    real = build_system(SYSTEM, SYSTEM_PARAMS)
    twin = build_system("twin", {"path": str(small_twin)})
    x = np.random.default_rng(1).random((500, 8))
    err = np.sqrt(np.mean((twin.forward(x) - real.forward(x)) ** 2))
    assert err < 0.1 * real.forward(x).std()


def test_needs_a_path_and_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="path"):
        build_system("twin", {})
    with pytest.raises(CheckpointError, match="not found"):
        build_system("twin", {"path": str(tmp_path / "none.keras")})


def test_train_through_the_twin_from_the_cli(cli, small_twin: Path) -> None:
    res = cli("train", "--system", "twin", "--param", f"path={small_twin}", "--dataset", "iris",
              "--epochs", "5", "--json", "-q")
    assert res.code == 0, res.err
    out = res.json()
    assert out["systems"] == ["twin"] and out["physical_queries"] > 0
