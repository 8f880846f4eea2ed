"""``phyll train/evaluate/predict`` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

KEYS = {
    "test_accuracy",
    "train_accuracy",
    "epochs",
    "physical_queries",
    "seconds",
    "train_seconds_per_epoch",
    "seed",
}


def phyll(*args, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "phyll_core", *args], capture_output=True, text=True, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_train_json_evaluate_predict(tmp_path):
    out = tmp_path / "run"
    proc = phyll(
        "train", "--dataset", "iris", "--epochs", "3", "--width", "8", "--json", "--out", str(out)
    )
    summary = json.loads(proc.stdout)
    assert set(summary) >= KEYS
    assert summary["epochs"] == 3 and summary["seed"] == 0
    assert (out / "checkpoint.json").is_file() and (out / "metrics.csv").is_file()
    assert (out / "curves.png").is_file() and (out / "confusion.png").is_file()

    ev = json.loads(phyll("evaluate", str(out), "--json").stdout)
    assert ev["goodness"]["test_accuracy"] == pytest.approx(summary["test_accuracy"])

    rows = tmp_path / "rows.csv"
    rows.write_text("a,b,c,d\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
    labels = tmp_path / "labels.csv"
    phyll("predict", str(out), "--input", str(rows), "--output", str(labels))
    lines = labels.read_text().splitlines()
    assert lines[0] == "row,label" and len(lines) == 3

    resumed = json.loads(phyll("train", "--resume", str(out), "--epochs", "4", "--json").stdout)
    assert resumed["epochs"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--system", "idenity"], "did you mean 'identity'"),
        (["train", "--rule", "phyl"], "did you mean 'phyll'"),
        (["train", "--param", "scale=abc"], "expects float"),
        (["train", "--dataset", "csv:/no/such.csv"], "no such file"),
        (["evaluate", "/no/such/run"], "no such checkpoint folder"),
        (["train", "--lr", "x"], "--lr expects numbers"),
    ],
)
def test_errors_are_one_line(args, message):
    proc = phyll(*args, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_ctrl_c_saves_the_last_completed_epoch_and_resumes(tmp_path):
    import signal
    import time

    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "phyll_core", "train", "--dataset", "iris", "--epochs", "100000",
         "--checkpoint-every", "1", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120  # until an epoch >= 1 is saved (every epoch here)
    meta_file = out / "checkpoint.json"
    while time.monotonic() < deadline and proc.poll() is None:
        if meta_file.exists() and json.loads(meta_file.read_text()).get("epochs_completed", 0):
            break
        time.sleep(0.05)
    time.sleep(0.2)  # into a later epoch
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "phyll train --resume" in err and "Traceback" not in err
    meta = json.loads((out / "checkpoint.json").read_text())
    done = meta["epochs_completed"]
    assert done >= 1 and meta["interrupted"] is True
    resumed = json.loads(
        phyll("train", "--resume", str(out), "--epochs", str(done + 1), "--json").stdout
    )
    assert resumed["epochs"] == done + 1
