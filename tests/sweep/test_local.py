"""A real LocalCluster sweep equals the same runs done one by one with ``phyll train --json``;
a failing run is recorded, the others finish, the exit code says so, and a rerun retries only
the failed run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.sweep.conftest import read_table, run_files, run_sweep

GRID = [
    "--systems", "identity,random-features", "--datasets", "circles,iris", "--seeds", "2",
    "--epochs", "3",
]


def test_local_cluster_table_equals_phyll_train_one_by_one(tmp_path: Path, cli: Any) -> None:
    out = tmp_path / "sweep"
    proc = run_sweep(*GRID, "--workers", "2", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert (payload["runs"], payload["ran"], payload["skipped"], payload["failed"]) == (8, 8, 0, 0)
    rows = read_table(out)
    assert len(rows) == 8 and len(run_files(out)) == 8
    assert {r["status"] for r in rows} == {"ok"}
    assert "phyll-core==" in rows[0]["versions"]
    for i, row in enumerate(rows):
        single = cli(
            "train", "--system", row["system"], "--dataset", row["dataset"], "--epochs", "3",
            "--seed", row["seed"], "--json", "--out", str(tmp_path / f"train-{i}"),
        )
        assert single.code == 0, single.err
        expected = single.json()
        for method, values in expected["accuracy_by_method"].items():
            for name, value in values.items():
                assert float(row[f"{method}_{name}"]) == value, (row["key"], method, name)
        assert int(row["physical_queries"]) == expected["physical_queries"]
        assert float(row["digital_flops"]) == expected["digital_flops"]
    # the summary groups the seeds of each (system, dataset)
    groups = {(g["system"], g["dataset"]): g for g in payload["groups"]}
    assert len(groups) == 4
    for (system, dataset), group in groups.items():
        accs = [
            float(r["goodness_test_accuracy"])
            for r in rows
            if (r["system"], r["dataset"]) == (system, dataset)
        ]
        assert group["seeds"] == [0, 1]
        assert abs(group["goodness"]["mean"] - sum(accs) / 2) < 1e-12
    assert (out / "summary.json").is_file()


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = [
        "--systems", "random-features", "--datasets", "iris", "--seeds", "2", "--epochs", "2",
        "--grid", "nonlinearity=tanh,bogus", "--out", str(out), "--json",
    ]
    proc = run_sweep(*args, "--workers", "1")
    assert proc.returncode == 1, proc.stderr
    assert "2 of 4 runs failed" in proc.stderr
    rows = read_table(out)
    failed = [r for r in rows if r["status"] == "failed"]
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(failed) == 2 and len(ok) == 2
    assert all(r["param.nonlinearity"] == "bogus" for r in failed)
    assert all("nonlinearity" in r["error"] and "bogus" in r["error"] for r in failed)
    assert all(float(r["goodness_test_accuracy"]) > 0.5 for r in ok)
    # a rerun (here in this process, no Dask) skips the finished runs and retries the failed
    again = run_sweep(*args, "--workers", "0")
    assert again.returncode == 1
    payload = json.loads(again.stdout)
    assert (payload["ran"], payload["skipped"], payload["failed"]) == (2, 2, 2)


def test_a_run_that_kills_its_worker_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    """A worker preload makes the seed-1 run kill its worker process (as a crashing native
    library or an out-of-memory kill would). With no retries allowed Dask reports
    ``KilledWorker`` for every run on that worker; the nanny restarts the worker, the lost data
    are sent again, the suspects are tried again one at a time: only the culprit fails."""
    from tests.sweep.conftest import env

    preload = tmp_path / "crash_seed_1.py"
    preload.write_text(
        "import os\n"
        "import phyll_core.sweep.run as run\n"
        "_train = getattr(run, '_original_train', run._train)\n"
        "run._original_train = _train\n"
        "def crash(spec, data):\n"
        "    if spec.settings['seed'] == 1:\n"
        "        os._exit(3)\n"
        "    return _train(spec, data)\n"
        "run._train = crash\n"
    )
    out = tmp_path / "sweep"
    extra = {
        "DASK_DISTRIBUTED__WORKER__PRELOAD": json.dumps([str(preload)]),
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
    }
    import subprocess

    from tests.sweep.conftest import phyll_command

    proc = subprocess.run(
        phyll_command("sweep", "--systems", "identity", "--datasets", "iris", "--seeds", "3",
                      "--epochs", "2", "--workers", "1", "--out", str(out), "--json"),
        capture_output=True, text=True, env=env() | extra, timeout=180, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    rows = {r["seed"]: r for r in read_table(out)}
    assert rows["1"]["status"] == "failed" and "KilledWorker" in rows["1"]["error"]
    assert rows["0"]["status"] == "ok" and rows["2"]["status"] == "ok"
