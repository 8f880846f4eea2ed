"""Fault injection: ``phyll train --out`` killed with SIGKILL at random instants (start-up,
training, inside a checkpoint save) must leave a folder that holds a valid checkpoint, and
resuming it must end with the same numbers as an uninterrupted run (noise-free system)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phyll_core.engine.checkpoint import LATEST, PREFIX, has_checkpoint, load_checkpoint
from phyll_core.errors import CheckpointError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and symlinks: POSIX only")

EPOCHS = 12
ARGS = ["train", "--system", "identity", "--dataset", "circles", "--epochs", str(EPOCHS),
        "--width", "8", "--inner-steps", "3", "--eval-every", str(EPOCHS),
        "--checkpoint-every", "1", "-q"]
KILLS = 20
PARALLEL = 2
NUMBERS = ("epochs", "physical_queries", "digital_flops", "accuracy_by_method")


def _start(out: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    return subprocess.Popen(
        [sys.executable, "-m", "phyll_core", *ARGS, "--out", str(out), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )


def _resume_in_process(folder: Path) -> dict:
    run = load_checkpoint(folder)
    run.config.epochs = EPOCHS
    run.train(EPOCHS)
    return run.summary()


def test_sigkill_at_random_instants_leaves_a_resumable_checkpoint(tmp_path: Path) -> None:
    ref_dir = tmp_path / "reference"
    start = time.monotonic()
    proc = _start(ref_dir)
    first_save = None
    while proc.poll() is None:  # when the first checkpoint appears: start-up is over
        if first_save is None and (ref_dir / LATEST).is_symlink():
            first_save = time.monotonic() - start
        time.sleep(0.005)
    out, err = proc.communicate(timeout=300)
    wall = time.monotonic() - start
    first_save = first_save or wall / 2
    assert proc.returncode == 0, err.decode()
    reference = json.loads(out)
    assert reference["epochs"] == EPOCHS

    rng = random.Random(12)
    # a few kills at random instants of start-up; the others at a random instant after the
    # run's own first checkpoint appeared (its training and saves), whatever the machine's load
    plan = [(False, rng.uniform(0.05, first_save)) for _ in range(KILLS // 6)]
    plan += [(True, rng.uniform(0.0, wall - first_save)) for _ in range(KILLS - len(plan))]
    outcomes = {"no checkpoint yet": 0, "mid-save debris": 0, "resumed": 0, "finished": 0}
    for first in range(0, KILLS, PARALLEL):
        batch = [(tmp_path / f"kill{i}", *plan[i]) for i in range(first, min(first + PARALLEL,
                                                                               KILLS))]
        started = [(folder, _start(folder), time.monotonic(), after, delay)
                   for folder, after, delay in batch]
        for folder, proc, t0, after, delay in started:
            if after:
                while proc.poll() is None and not (folder / LATEST).is_symlink():
                    time.sleep(0.002)
                t0 = time.monotonic()
            time.sleep(max(0.0, t0 + delay - time.monotonic()))
            proc.send_signal(signal.SIGKILL)
        for folder, proc, *_ in started:
            proc.communicate(timeout=60)
            if not has_checkpoint(folder):
                # killed before the first (epoch-0) save completed: nothing claims to be a run
                outcomes["no checkpoint yet"] += 1
                assert not (folder / LATEST).exists()
                with pytest.raises(CheckpointError):
                    load_checkpoint(folder)
                continue
            debris = [p for p in folder.iterdir() if p.name.startswith((PREFIX, f".{PREFIX}"))]
            outcomes["mid-save debris"] += len(debris) > 1
            meta = json.loads((folder / "checkpoint.json").read_text())  # a link via latest
            assert 0 <= meta["epochs_completed"] <= EPOCHS
            if proc.returncode == 0:
                outcomes["finished"] += 1
            summary = _resume_in_process(folder)  # raises if the checkpoint is not valid
            outcomes["resumed"] += 1
            for key in NUMBERS:
                assert summary[key] == reference[key], (folder, key, meta["epochs_completed"])
    print("kill outcomes:", outcomes)
    assert outcomes["resumed"] >= KILLS // 3, outcomes
