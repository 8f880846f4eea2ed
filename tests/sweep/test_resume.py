"""Resume after the driver is killed: the second invocation runs only what is missing and
leaves the finished runs' files untouched."""

from __future__ import annotations

import json
from pathlib import Path

from tests.sweep.conftest import (
    Processes,
    phyll_command,
    read_table,
    run_files,
    run_sweep,
    wait_for,
)

RUNS = 8
ARGS = ["--systems", "identity", "--datasets", "iris", "--seeds", str(RUNS), "--epochs", "40"]


def test_resume_after_the_driver_is_killed_runs_only_what_is_missing(
    tmp_path: Path, processes: Processes
) -> None:
    out = tmp_path / "sweep"
    runs = out / "runs"
    driver = processes.start(
        phyll_command("sweep", *ARGS, "--workers", "1", "--out", str(out)),
        tmp_path / "driver.log",
    )
    wait_for(lambda: runs.is_dir() and len(list(runs.glob("*.json"))) >= 3, 90, "3 runs")
    processes.kill(driver)  # the driver and its LocalCluster, like a machine going down
    before = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")}
    assert 3 <= len(before) < RUNS, "the sweep finished before it could be killed"
    assert not (out / "results.csv").exists()

    again = run_sweep(*ARGS, "--workers", "0", "--out", str(out), "--json")
    assert again.returncode == 0, again.stderr
    payload = json.loads(again.stdout)
    assert (payload["ran"], payload["skipped"]) == (RUNS - len(before), len(before))
    after = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")}
    assert {k: after[k] for k in before} == before  # finished runs were not redone
    assert len(run_files(out)) == RUNS
    assert len(read_table(out)) == RUNS
