"""The Python API (phyll_core.api): train with progress, predict, evaluate, save/load round
trip, metrics as a DataFrame (and the error without pandas), build and probe a system; the
notebook-style example runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import phyll_core
from phyll_core.datasets import Dataset, load

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model() -> phyll_core.Model:
    calls: list[int] = []
    trained = phyll_core.train_model(
        dataset="iris", epochs=6, seed=0, progress=lambda m: calls.append(m.epoch)
    )
    assert calls == [1, 2, 3, 4, 5, 6]
    return trained


def test_import_is_light_and_names_are_lazy() -> None:
    code = (
        "import sys, phyll_core; phyll_core.Model; phyll_core.build_system; "
        "heavy = [m for m in ('pandas', 'sklearn', 'matplotlib', 'phyll_core.engine.trainer')"
        " if m in sys.modules]; assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_predict_and_evaluate(model: phyll_core.Model) -> None:
    iris = load("iris")
    labels = model.predict(iris.x)
    assert labels.shape == (150,) and set(labels) <= set(iris.class_names)
    truth = np.array(iris.class_names)[iris.y]
    assert np.mean(labels == truth) > 0.8
    assert model.predict(iris.x[0]).shape == (1,)  # one row
    scores = model.evaluate()
    assert set(scores) == {f"{m}/{k}" for m in model.methods
                           for k in ("train_accuracy", "test_accuracy")}
    assert scores[f"{model.method}/test_accuracy"] > 0.8
    everything = model.evaluate("iris", method="goodness")
    assert everything["goodness/accuracy"] == pytest.approx(np.mean(labels == truth))


def test_bad_rows_and_datasets_are_one_clear_error(model: phyll_core.Model) -> None:
    with pytest.raises(phyll_core.DatasetError, match=r"expects \(n, 4\)"):
        model.predict(np.zeros((2, 3)))
    with pytest.raises(phyll_core.DatasetError, match="NaN"):
        model.predict(np.full((1, 4), np.nan))
    other = Dataset("other", np.zeros((4, 4)), np.array([0, 1, 0, 1]), ("cat", "dog"))
    with pytest.raises(phyll_core.DatasetError, match="classes the network never saw"):
        model.evaluate(other)
    with pytest.raises(phyll_core.PhyllError, match="predicts with"):
        model.predict(np.zeros((1, 4)), method="oracle")


def test_save_load_round_trip(model: phyll_core.Model, tmp_path: Path) -> None:
    iris = load("iris")
    folder = model.save(tmp_path / "run")
    again = phyll_core.load_model(folder)
    assert again.epoch == model.epoch and again.class_names == model.class_names
    assert np.array_equal(again.predict(iris.x), model.predict(iris.x))
    assert again.history() == model.history()
    bare = phyll_core.load_model(folder, data=False)  # predicting needs only the checkpoint
    assert np.array_equal(bare.predict(iris.x, "goodness"), model.predict(iris.x, "goodness"))
    with pytest.raises(phyll_core.DatasetError, match="without its data"):
        bare.evaluate()


def test_continue_training_a_loaded_model(model: phyll_core.Model, tmp_path: Path) -> None:
    again = phyll_core.load_model(model.save(tmp_path / "run"))
    seen: list[int] = []
    again.train(8, progress=lambda m: seen.append(m.epoch))
    assert seen == [7, 8] and again.epoch == 8


def test_metrics_dataframe(model: phyll_core.Model) -> None:
    pd = pytest.importorskip("pandas")
    frame = model.metrics()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == [1, 2, 3, 4, 5, 6]
    assert {"test_accuracy", "physical_queries", "flops"} <= set(frame.columns)
    assert frame["physical_queries"].is_monotonic_increasing


def test_metrics_without_pandas_says_so(
    model: phyll_core.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(phyll_core.PhyllError, match="needs pandas: pip install pandas"):
        model.metrics()


def test_build_and_probe_a_system() -> None:
    system = phyll_core.build_system("identity", dim=3)
    assert system.input_dim == system.output_dim == 3
    assert phyll_core.probe_system(system, samples=256).nonlinearity < 1e-9
    curved = phyll_core.probe_system("random-features", samples=512)
    assert curved.nonlinearity > 0.01
    with pytest.raises(phyll_core.PhyllError, match="did you mean 'dim'"):
        phyll_core.build_system("identity", dimm=3)


def test_the_example_notebook_runs(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python_api.py")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "reloaded: Model(" in proc.stdout and "refused:" in proc.stdout
