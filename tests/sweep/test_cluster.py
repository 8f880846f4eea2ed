"""A real Dask cluster on 127.0.0.1 (``dask scheduler`` and two ``dask worker`` processes
started here): one worker is killed mid-sweep and every run still finishes exactly once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.sweep.conftest import (
    Processes,
    free_port,
    phyll_command,
    read_table,
    run_files,
    wait_for,
)

RUNS = 10


def _workers_connected(address: str, count: int) -> bool:
    from distributed import Client

    with Client(address, timeout="10s") as client:
        client.wait_for_workers(count, timeout=60)
    return True


def test_killed_worker_every_run_finishes_exactly_once(
    tmp_path: Path, processes: Processes
) -> None:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    processes.start(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        tmp_path / "scheduler.log",
    )
    worker = [*dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
              "--no-nanny", "--no-dashboard"]
    processes.start([*worker, "--name", "survivor"], tmp_path / "survivor.log")
    doomed = processes.start([*worker, "--name", "doomed"], tmp_path / "doomed.log")
    wait_for(lambda: _workers_connected(address, 2), 90, "two workers")

    out = tmp_path / "sweep"
    driver = processes.start(
        phyll_command(
            "sweep", "--systems", "identity", "--datasets", "circles", "--seeds", str(RUNS),
            "--epochs", "25", "--scheduler", address, "--out", str(out), "--json",
        ),
        tmp_path / "driver.log",
    )
    # kill one worker once it has finished a run (it then has the next one in flight)
    def doomed_worked() -> bool:
        return (out / "runs").is_dir() and any(
            r.get("pid") == doomed.pid for r in _records(out)
        )

    wait_for(doomed_worked, 90, "a run finished by the worker to kill")
    processes.kill(doomed)
    done_before_kill = len(_records(out))
    assert done_before_kill < RUNS, "the sweep finished before a worker could be killed"
    assert driver.wait(timeout=120) == 0, (tmp_path / "driver.log").read_text()

    log = (tmp_path / "driver.log").read_text()
    payload = json.loads(log[log.index("{\n"):])
    assert (payload["ran"], payload["failed"]) == (RUNS, 0)
    files = run_files(out)
    rows = read_table(out)
    assert len(files) == RUNS
    assert sorted(r["key"] for r in rows) == sorted(files)  # none lost, none duplicated
    assert {r["status"] for r in rows} == {"ok"}
    assert sorted(int(r["seed"]) for r in rows) == list(range(RUNS))
    by_doomed = [r for r in files.values() if r["pid"] == doomed.pid]
    assert len(by_doomed) <= done_before_kill  # nothing finished on the killed worker after


def _records(out: Path) -> list[dict]:
    records = []
    for path in (out / "runs").glob("*.json"):
        try:
            records.append(json.loads(path.read_text()))
        except ValueError:  # being replaced right now
            continue
    return records
