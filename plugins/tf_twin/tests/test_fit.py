"""``phyll twin fit`` / ``evaluate`` / ``show``: round trips, files, determinism, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SMALL_FIT, SYSTEM, SYSTEM_PARAMS, system_params
from phyll_tf_twin.data import Pairs, load_pair_files, parse_rows, query_system
from phyll_tf_twin.fit import fit_twin
from phyll_tf_twin.twin import FitOptions, Twin, metadata_path

from phyll_core.errors import CheckpointError, DatasetError


def test_fit_on_a_system_then_evaluate_on_fresh_queries(cli, tmp_path: Path) -> None:
    out = tmp_path / "rf.keras"
    fit = cli("twin", "fit", "--system", SYSTEM, *system_params(), "--samples", 1500,
              "--out", out, *SMALL_FIT, "--json")
    assert fit.code == 0, fit.err
    summary = fit.json()
    assert summary["model"] == str(out) and out.is_file()
    assert (summary["input_dim"], summary["output_dim"]) == (8, 8)
    assert summary["source"]["kind"] == "system" and summary["source"]["samples"] == 1500
    # fresh queries (another seed) as measured pairs in the NPZ layout of `phyll record`
    from phyll_core.hardware.pairs import save_pairs

    test, _ = query_system(SYSTEM, SYSTEM_PARAMS, 400, seed=99)
    save_pairs(tmp_path / "test.npz", test.inputs, test.outputs)
    ev = cli("twin", "evaluate", out, "--pairs-file", tmp_path / "test.npz", "--json")
    assert ev.code == 0, ev.err
    result = ev.json()
    std = test.outputs.std()
    # far better than predicting the mean, and consistent with the validation estimate
    assert result["rmse"] < 0.25 * std, (result["rmse"], std)
    assert result["rmse"] < 3 * summary["validation_rmse"]
    assert len(result["r2_per_output"]) == 8 and min(result["r2_per_output"]) > 0.8
    table = cli("twin", "evaluate", out, "--pairs-file", tmp_path / "test.npz")
    assert table.code == 0 and "RMSE" in table.out and "R^2" in table.out


def test_fit_on_csv_pairs_writes_model_and_metadata_atomically(
    cli, tmp_path: Path, pairs_csv: tuple[Path, Path]
) -> None:
    folder = tmp_path / "models"
    res = cli("twin", "fit", "--pairs", *pairs_csv, "--rows", "0:500", "--out",
              folder / "m", *SMALL_FIT)
    assert res.code == 0, res.err
    assert sorted(p.name for p in folder.iterdir()) == ["m.keras", "m.keras.json"]
    meta = json.loads((folder / "m.keras.json").read_text())
    assert meta["format"] == "phyll-tf-twin/1"
    assert (meta["input_dim"], meta["output_dim"]) == (8, 8)
    assert meta["train_rows"] + meta["validation_rows"] == 500
    assert meta["source"]["kind"] == "pairs" and meta["source"]["rows"] == [0, 500]
    assert meta["domain"] == {"kind": "interval", "low": 0.0, "high": 1.0}
    assert len(meta["input_normalisation"]["mean"]) == 8
    assert {"tensorflow", "keras", "numpy", "phyll-core"} <= set(meta["versions"])
    assert meta["validation_rmse"] > 0
    show = cli("twin", "show", folder / "m.keras", "--json")
    assert show.code == 0 and show.json()["model_sha256"] == meta["model_sha256"]
    ev = cli("twin", "evaluate", folder / "m.keras", "--pairs", *pairs_csv, "--rows", "500:",
             "--json")
    assert ev.code == 0 and ev.json()["rows"] == 100


def test_same_seed_same_twin_other_seed_other_twin(tmp_path: Path) -> None:
    pairs, domain = query_system(SYSTEM, SYSTEM_PARAMS, 300, seed=1)
    options = FitOptions(hidden=(16,), epochs=5, batch_size=32, seed=4)
    x = domain.sample(np.random.default_rng(0), (50, 8))
    a = fit_twin(pairs, domain, options).predict(x)
    b = fit_twin(pairs, domain, options).predict(x)
    c = fit_twin(pairs, domain, FitOptions(hidden=(16,), epochs=5, batch_size=32, seed=5))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c.predict(x))


def test_saved_twin_predicts_like_the_fitted_one(tmp_path: Path) -> None:
    pairs, domain = query_system(SYSTEM, SYSTEM_PARAMS, 300, seed=1)
    twin = fit_twin(pairs, domain, FitOptions(hidden=(16,), epochs=3))
    path = twin.save(tmp_path / "t.keras")
    again = Twin.load(path)
    assert np.array_equal(twin.predict(pairs.inputs), again.predict(pairs.inputs))
    assert again.predict(pairs.inputs).dtype == np.float64


def test_early_stopping_restores_the_best_epoch() -> None:
    pairs, domain = query_system(SYSTEM, SYSTEM_PARAMS, 200, seed=2)
    seen: list[float] = []

    def progress(epoch: int, total: int, info: dict[str, float]) -> None:
        seen.append(info["val_rmse"])

    # a huge learning rate makes the validation loss jump around; patience 2 stops early
    options = FitOptions(hidden=(16,), epochs=60, lr=0.3, patience=2)
    twin = fit_twin(pairs, domain, options, progress=progress)
    assert twin.meta["epochs_run"] == len(seen) < 60
    assert seen[-1] > min(seen)  # the last epoch was not the best one ...
    assert twin.meta["validation_rmse"] == pytest.approx(min(seen), rel=1e-4)  # ... restored


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    pairs, domain = query_system(SYSTEM, SYSTEM_PARAMS, 100, seed=1)
    path = fit_twin(pairs, domain, FitOptions(hidden=(4,), epochs=1)).save(tmp_path / "t.keras")
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(CheckpointError, match="does not match its metadata"):
        Twin.load(path)
    metadata_path(path).unlink()
    with pytest.raises(CheckpointError, match="metadata not found"):
        Twin.load(path)


def test_rows_selection() -> None:
    assert parse_rows("0:7000", 8000) == slice(0, 7000)
    assert parse_rows("7000:", 8000) == slice(7000, 8000)
    assert parse_rows("-1000:", 8000) == slice(7000, 8000)
    assert parse_rows(None, 10) == slice(0, 10)


def test_fit_refuses_inputs_outside_the_declared_domain(
    cli, tmp_path: Path, pairs_csv: tuple[Path, Path]
) -> None:
    res = cli("twin", "fit", "--pairs", *pairs_csv, "--domain", "0,0.5", "--out",
              tmp_path / "m.keras", *SMALL_FIT)
    assert res.code == 1 and "outside the twin's domain" in res.err
    assert not (tmp_path / "m.keras").exists()


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        (["0.1,0.2", "0.3,0.4", "0.5,0.6"], ["1,2", "3,4"], "3 input rows but 2 output rows"),
        (["0.1,0.2", "nan,0.4"], ["1,2", "3,4"], "inputs row 1 holds NaN"),
        (["0.1,0.2", "0.3,0.4"], ["1,2", "3,inf"], "outputs row 1 holds NaN or inf"),
        (["0.1,0.2", "0.3,abc"], ["1,2", "3,4"], "not a numeric CSV"),
        (["0.1,0.2", "0.3"], ["1,2", "3,4"], "not a numeric CSV"),
    ],
)
def test_bad_pair_files_give_one_clear_line(
    cli, tmp_path: Path, inputs: list[str], outputs: list[str], message: str
) -> None:
    x, y = _write(tmp_path / "x.csv", inputs), _write(tmp_path / "y.csv", outputs)
    res = cli("twin", "fit", "--pairs", x, y, "--out", tmp_path / "m.keras", "-q")
    assert res.code == 1
    assert len(res.err_lines) == 1 and res.err_lines[0].startswith("error: "), res.err
    assert message in res.err
    with pytest.raises(DatasetError):
        load_pair_files(x, y)


def test_evaluate_refuses_pairs_of_other_widths(
    cli, tmp_path: Path, small_twin: Path
) -> None:
    x = _write(tmp_path / "x.csv", ["0.1,0.2,0.3"] * 4)
    y = _write(tmp_path / "y.csv", ["1,2,3,4,5,6,7,8"] * 4)
    res = cli("twin", "evaluate", small_twin, "--pairs", x, y)
    assert res.code == 1 and len(res.err_lines) == 1
    assert "maps 8 inputs to 8 outputs, but the pairs have 3 input and 8 output" in res.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "m.h5", "--system", SYSTEM], "saved as a .keras file"),
        (["--out", "m.keras"], "give the data"),
        (["--out", "m.keras", "--system", SYSTEM, "--pairs-file", "x.npz"], "give the data"),
        (["--out", "m.keras", "--pairs-file", "missing.npz"], "not found"),
        (["--out", "m.keras", "--pairs-file", "x.npz"], "x.npz"),
        (["--out", "m.keras", "--system", SYSTEM, "--hidden", "10,x"], "--hidden expects"),
        (["--out", "m.keras", "--system", "no-such-system"], "unknown system"),
        (["--out", "m.keras", "--system", SYSTEM, "--param", "bogus=1"], "unknown parameter"),
    ],
)
def test_bad_fit_commands_give_one_clear_line(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.npz").write_bytes(b"")
    res = cli("twin", "fit", *args, "-q")
    assert res.code == 1, res.out
    assert len(res.err_lines) == 1 and message in res.err, res.err


def test_rows_beyond_the_file_are_refused(cli, tmp_path: Path, pairs_csv) -> None:
    res = cli("twin", "evaluate", tmp_path / "m.keras", "--pairs", *pairs_csv, "--rows", "900:")
    assert res.code == 1 and "selects no row" in res.err


def test_pairs_objects_know_their_rows() -> None:
    p = Pairs(np.zeros((3, 2)), np.zeros((3, 1)), {"kind": "test"})
    assert p.rows == 3


def test_fit_reads_the_csv_layout_of_phyll_record(cli, tmp_path: Path) -> None:
    from phyll_core.hardware.pairs import save_pairs

    pairs, _ = query_system(SYSTEM, SYSTEM_PARAMS, 200, seed=6)
    save_pairs(tmp_path / "rec.csv", pairs.inputs, pairs.outputs)  # rec.inputs/outputs.csv
    res = cli("twin", "fit", "--pairs-file", tmp_path / "rec.csv", "--out", tmp_path / "m",
              "--hidden", "8", "--epochs", "2", "-q", "--json")
    assert res.code == 0, res.err
    source = res.json()["source"]
    assert [Path(f).name for f in source["files"]] == ["rec.inputs.csv", "rec.outputs.csv"]
    assert len(source["sha256"]) == 2 and source["rows"] == [0, 200]
