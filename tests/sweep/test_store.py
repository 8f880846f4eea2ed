"""The result store and the command without Dask: records, the CSV and Parquet tables, a
non-finite run recorded as failed, one-line errors, nothing of Dask imported by ``--help``."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from phyll_core.sweep.execute import run_specs
from phyll_core.sweep.grid import GridInput, build_grid
from phyll_core.sweep.store import ResultStore


@pytest.fixture(autouse=True)
def _core_plugins(core_host: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from phyll_core import plugins

    monkeypatch.setattr(plugins, "_HOST", core_host)


def _grid(**axes: list[Any]) -> list[Any]:
    raw = GridInput(systems=["identity", "random-features"], datasets=["iris"], seeds=[0, 1],
                    axes={"epochs": [2], **axes})
    return build_grid(raw).runs()


def test_in_process_records_csv_and_parquet_round_trip(tmp_path: Path) -> None:
    specs = _grid()
    store = ResultStore(tmp_path)
    outcome = run_specs(specs, store, workers=0)
    assert (outcome.ran, outcome.skipped, len(outcome.failed)) == (4, 0, 0)
    assert sorted(store.finished()) == sorted(s.key for s in specs)
    written = store.write_table(list(store.load().values()))
    with (tmp_path / "results.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4
    pq = pytest.importorskip("pyarrow.parquet")
    assert tmp_path / "results.parquet" in written
    table = pq.read_table(tmp_path / "results.parquet").to_pylist()
    by_key = {r["key"]: r for r in table}
    for row in rows:
        assert by_key[row["key"]]["goodness_test_accuracy"] == float(row["goodness_test_accuracy"])
        assert by_key[row["key"]]["system"] == row["system"]
    # nothing runs twice
    again = run_specs(specs, store, workers=0)
    assert (again.ran, again.skipped) == (0, 4)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_non_finite_run_and_an_invalid_configuration_are_recorded(tmp_path: Path) -> None:
    # cos of an overflowing projection is NaN: the system's output check raises in the run;
    # blocks=0 is not a configuration at all
    specs = build_grid(
        GridInput(systems=["random-features"], datasets=["iris"], seeds=[0, 1],
                  axes={"epochs": [2], "nonlinearity": ["cos"], "scale": [1e308, 1.0]})
    ).runs() + build_grid(
        GridInput(systems=["identity"], datasets=["iris"], axes={"blocks": [0]})
    ).runs()
    outcome = run_specs(specs, ResultStore(tmp_path), workers=0)
    assert len(outcome.records) == 5
    invalid = [r for r in outcome.failed if r["settings"].get("blocks") == 0]
    assert len(invalid) == 1 and "blocks" in invalid[0]["error"]
    nan = [r for r in outcome.records if r["settings"].get("params", {}).get("scale") == 1e308]
    assert len(nan) == 2
    assert all(r["status"] == "failed" and "non-finite" in r["error"] for r in nan)
    fine = [r for r in outcome.records if r["settings"].get("params", {}).get("scale") == 1.0]
    assert len(fine) == 2 and all(r["status"] == "ok" for r in fine)


def test_without_dask_one_line_says_what_to_install(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = cli("sweep", "--systems", "identity", "--out", str(tmp_path), "--workers", "1")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "pip install 'phyll-core[sweep]'" in result.err_lines[0]
    # in this process it needs no Dask
    assert cli("sweep", "--systems", "identity", "-e", "1", "--out", str(tmp_path),
               "--workers", "0", "-q").code == 0


def test_help_imports_no_dask() -> None:
    code = (
        "import sys\n"
        "from phyll_core.cli.app import main\n"
        "for args in (['--help'], ['sweep', '--help'], ['compare', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "bad = [m for m in ('dask', 'distributed', 'pyarrow', 'pandas') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr


def test_a_record_keeps_the_key_the_driver_sent() -> None:
    """A worker whose phyll fills in other defaults must still file the run under the driver's
    key (else the driver would wait for a key that never comes)."""
    from phyll_core.datasets import load, split
    from phyll_core.sweep.run import execute_run

    spec = _grid()[0]
    sent = spec.to_json() | {"key": "0123456789abcdef"}
    data = split(load("iris"), spec.settings["seed"], spec.settings["test_fraction"])
    record = execute_run(sent, data)
    assert record["status"] == "ok" and record["key"] == "0123456789abcdef"
