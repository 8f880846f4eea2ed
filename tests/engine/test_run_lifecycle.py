"""The life cycle of a ``phyll train`` run: where it is saved, when, what survives which fault,
and that a resumed run reports the same numbers as an uninterrupted one (issues 12 and 13)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from phyll_core.engine.checkpoint import LATEST, checkpoint_dir, load_checkpoint
from phyll_core.engine.trainer import Run

SMALL = ["--system", "identity", "--dataset", "iris", "--width", "8", "--inner-steps", "3", "-q"]
NUMBERS = ("epochs", "physical_queries", "digital_flops", "accuracy_by_method")


def numbers(summary: dict) -> dict:
    return {k: summary[k] for k in NUMBERS}


def test_interrupted_and_resumed_run_reports_the_counters_of_an_uninterrupted_one(
    cli, tmp_path, monkeypatch
):
    full = cli("train", *SMALL, "--epochs", "6", "--no-save", "--json")
    assert full.code == 0, full.err

    out = tmp_path / "run"
    train_epoch = Run.train_epoch

    def interrupted_in_epoch_4(self):
        if self.epoch == 3:
            raise KeyboardInterrupt
        return train_epoch(self)

    monkeypatch.setattr(Run, "train_epoch", interrupted_in_epoch_4)
    part = cli("train", *SMALL, "--epochs", "6", "--out", str(out))
    assert part.code == 130 and "interrupted: saved the last completed epoch (3)" in part.err
    monkeypatch.setattr(Run, "train_epoch", train_epoch)
    resumed = cli("train", "--resume", str(out), "--json", "-q")
    assert resumed.code == 0, resumed.err
    assert numbers(resumed.json()) == numbers(full.json())


def test_finished_run_continued_equals_one_longer_run(cli, tmp_path):
    # the same evaluation cadence (a run evaluates on its last epoch, so pin it)
    longer = cli("train", *SMALL, "--epochs", "5", "--eval-every", "1", "--no-save", "--json")
    out = tmp_path / "run"
    assert cli("train", *SMALL, "--epochs", "3", "--eval-every", "1", "--out", str(out)).code == 0
    more = cli("train", "--resume", str(out), "--epochs", "5", "--json", "-q")
    assert more.code == 0, more.err
    # the counters also hold the 3-epoch run's own last-epoch evaluation, which it did run
    for key in ("epochs", "accuracy_by_method"):
        assert more.json()[key] == longer.json()[key]


def test_ctrl_c_between_epochs_saves_that_epoch(cli, tmp_path, monkeypatch):
    from phyll_core.cli import lifecycle

    def interrupt_after_epoch_2(self, run):
        if run.epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(lifecycle.Saver, "after_epoch", interrupt_after_epoch_2)
    out = tmp_path / "run"
    res = cli("train", *SMALL, "--epochs", "6", "--out", str(out))
    assert res.code == 130, res.err
    assert load_checkpoint(out).epoch == 2


def test_a_signal_during_a_save_is_held_until_the_save_is_complete(tmp_path, monkeypatch):
    from phyll_core.cli import lifecycle
    from phyll_core.engine import checkpoint
    from phyll_core.engine.config import TrainConfig

    run = Run(TrainConfig(system="identity", dataset="iris", width=8, epochs=2, inner_steps=2))
    run.train()
    save = checkpoint.save_checkpoint

    def save_with_a_second_ctrl_c(*args, **kw):
        os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of the save
        time.sleep(0.05)
        return save(*args, **kw)

    monkeypatch.setattr(checkpoint, "save_checkpoint", save_with_a_second_ctrl_c)
    saver = lifecycle.Saver(tmp_path / "run", lifecycle.Cadence())
    with pytest.raises(KeyboardInterrupt):
        saver.save(run)
    assert load_checkpoint(tmp_path / "run").epoch == 2  # the save completed first


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    out = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "phyll_core", "train", *SMALL, "--epochs", "100000",
         "--checkpoint-every", "1", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until an epoch >= 1 is on disk
        meta = out / "checkpoint.json"
        if meta.exists() and json.loads(meta.read_text() or "{}").get("epochs_completed", 0):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted: saved the last completed epoch" in err and "Traceback" not in err
    assert f"phyll train --resume {out}" in err
    assert load_checkpoint(out).epoch >= 1


def test_default_folder_never_overwritten_force_and_no_save(cli, tmp_path):
    res = cli("train", *SMALL, "--epochs", "2")
    assert res.code == 0, res.err
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.endswith("-identity-iris")
    assert f"saved the run to runs/{folder.name}" in res.err
    assert (folder / "metrics.csv").is_file() and load_checkpoint(folder).epoch == 2

    refused = cli("train", *SMALL, "--epochs", "3", "--out", str(folder))
    assert refused.code == 1 and "already holds a run" in refused.err and "--force" in refused.err
    assert load_checkpoint(folder).epoch == 2
    forced = cli("train", *SMALL, "--epochs", "3", "--out", str(folder), "--force")
    assert forced.code == 0 and load_checkpoint(folder).epoch == 3
    assert len([p for p in folder.iterdir() if p.name.startswith("ckpt-")]) == 1

    nothing = cli("train", *SMALL, "--epochs", "2", "--no-save")
    assert nothing.code == 0 and "nothing saved (--no-save)" in nothing.err
    assert len(list((tmp_path / "runs").iterdir())) == 1


def test_unwritable_out_is_refused_before_training(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    start = time.perf_counter()
    res = cli("train", *SMALL, "--epochs", "500", "--out", str(blocker / "run"))
    assert res.code == 1 and "cannot write there" in res.err
    assert time.perf_counter() - start < 20


def test_resume_refuses_options_that_would_change_the_run(cli, tmp_path):
    out = tmp_path / "run"
    assert cli("train", *SMALL, "--epochs", "2", "--out", str(out)).code == 0
    for args, flag in [(["--lr", "0.5"], "--lr"), (["--width", "16"], "--width"),
                       (["--system", "random-features"], "--system"),
                       (["--dataset", "wine"], "--dataset")]:
        res = cli("train", "--resume", str(out), *args)
        assert res.code == 1 and flag in res.err and "cannot change" in res.err, res.err
        assert len(res.err_lines) == 1
    same = cli("train", "--resume", str(out), "--width", "8", "--epochs", "3", "--patience", "5")
    assert same.code == 0, same.err
    run = load_checkpoint(out)
    assert run.epoch == 3 and run.config.patience == 5


def test_checkpoint_every_epochs_and_seconds(cli, tmp_path, monkeypatch):
    from phyll_core.cli.lifecycle import Cadence
    from phyll_core.errors import PhyllError

    assert Cadence.parse("10") == Cadence(10, None)
    assert Cadence.parse("90s") == Cadence(None, 90.0)
    assert Cadence.parse("5,2m") == Cadence(5, 120.0)
    assert Cadence.parse("off") == Cadence()
    with pytest.raises(PhyllError, match="--checkpoint-every"):
        Cadence.parse("often")

    from phyll_core.engine import checkpoint

    saved: list[int] = []
    save = checkpoint.save_checkpoint

    def counting(run, folder, **kw):
        saved.append(run.epoch)
        return save(run, folder, **kw)

    monkeypatch.setattr(checkpoint, "save_checkpoint", counting)
    res = cli("train", *SMALL, "--epochs", "7", "--checkpoint-every", "3",
              "--out", str(tmp_path / "run"))
    assert res.code == 0, res.err
    assert saved == [0, 3, 6, 7, 7]  # start, every 3, trained, final (readout fitted)


def test_progress_lines_when_stderr_is_not_a_terminal(cli):
    res = cli("train", "--system", "identity", "--dataset", "iris", "--width", "8",
              "--epochs", "20", "--no-save")
    lines = [x for x in res.err_lines if x.startswith("train: epoch")]
    assert lines[0].startswith("train: epoch 2/20 loss") and lines[-1].startswith(
        "train: epoch 20/20"
    )
    assert 10 <= len(lines) <= 12
    quiet = cli("train", "--system", "identity", "--dataset", "iris", "--width", "8",
                "--epochs", "20", "--no-save", "-q")
    assert not [x for x in quiet.err_lines if x.startswith("train:")]


@pytest.fixture
def csv_run(cli, tmp_path):
    data = tmp_path / "data" / "ab.csv"
    data.parent.mkdir()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    y = np.where(x[:, 0] + x[:, 2] > 0, "yes", "no")
    cells = zip(x, y, strict=True)
    rows = ["f1,f2,f3,label", *(f"{a:.4f},{b:.4f},{c:.4f},{t}" for (a, b, c), t in cells)]
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    res = cli("train", "--system", "identity", "--dataset", f"csv:{data}", "--width", "8",
              "--epochs", "3", "-q", "--out", str(out))
    assert res.code == 0, res.err
    return out, data, x


def test_predict_needs_only_the_checkpoint_and_matches_columns_by_name(cli, csv_run, tmp_path):
    out, data, x = csv_run
    rows = tmp_path / "rows.csv"
    rows.write_text("f1,f2,f3\n" + "\n".join(f"{a},{b},{c}" for a, b, c in x[:20]) + "\n")
    by_readout = cli("predict", str(out), "--input", str(rows), "--predict", "readout")
    assert by_readout.code == 0, by_readout.err
    moved = tmp_path / "elsewhere" / "run"
    shutil.move(str(out), moved)
    shutil.rmtree(data.parent)  # the training data are gone
    os.chdir(tmp_path / "elsewhere")
    ordered, shuffled = tmp_path / "in.csv", tmp_path / "shuffled.csv"
    ordered.write_text("f1,f2,f3\n" + "\n".join(f"{a},{b},{c}" for a, b, c in x[:20]) + "\n")
    shuffled.write_text("f3,label,f1,f2\n" + "\n".join(f"{c},?,{a},{b}" for a, b, c in x[:20]))
    first = cli("predict", "run", "--input", str(ordered))
    second = cli("predict", "run", "--input", str(shuffled))
    assert first.code == 0 and second.code == 0, first.err + second.err
    assert first.out == second.out and len(first.out.splitlines()) == 21
    # the stored readout of the finished run, without its training data
    assert cli("predict", "run", "--input", str(ordered), "--predict", "readout").out == (
        by_readout.out
    )

    missing = tmp_path / "missing.csv"
    missing.write_text("f1,f3,extra\n1,2,3\n")
    res = cli("predict", "run", "--input", str(missing))
    assert res.code == 1 and len(res.err_lines) == 1
    assert "missing column(s) f2" in res.err and "unknown column(s) extra" in res.err

    ev = cli("evaluate", "run")
    assert ev.code == 1 and "not found from here" in ev.err and "--dataset" in ev.err


def test_evaluate_finds_the_data_from_another_folder(cli, csv_run, tmp_path):
    out, _, _ = csv_run
    other = tmp_path / "other"
    other.mkdir()
    os.chdir(other)
    res = cli("evaluate", str(out), "--json")
    assert res.code == 0, res.err
    assert set(res.json()) >= {"goodness", "readout", "noisy_systems"}


def test_evaluate_on_a_noisy_system_says_so_and_repeats(cli, tmp_path, monkeypatch):
    from phyll_core.builtin_systems import Identity

    out = tmp_path / "run"
    assert cli("train", *SMALL, "--epochs", "3", "--out", str(out)).code == 0
    rng = np.random.default_rng(1)
    monkeypatch.setattr(Identity, "noisy", True, raising=False)
    monkeypatch.setattr(Identity, "_forward", lambda self, x: x + rng.normal(0, 0.3, x.shape))
    res = cli("evaluate", str(out), "--repeats", "5", "--json")
    assert res.code == 0, res.err
    assert "adds measurement noise" in res.err and "fresh noisy measurement" in res.err
    result = res.json()
    assert result["repeats"] == 5 and result["noisy_systems"] == ["identity"]
    assert result["goodness"]["test_accuracy_std"] > 0


def test_format_1_checkpoints_are_still_read_and_upgraded(tmp_path):
    from phyll_core.engine.checkpoint import save_checkpoint
    from phyll_core.engine.config import TrainConfig

    run = Run(TrainConfig(system="identity", dataset="iris", width=8, epochs=3, inner_steps=2))
    run.train(2)
    save_checkpoint(run, tmp_path / "new")
    old = tmp_path / "old"
    old.mkdir()
    for name in ("weights.npz", "checkpoint.json"):  # the layout of format 1: plain files
        shutil.copyfile(checkpoint_dir(tmp_path / "new") / name, old / name)
    meta = json.loads((old / "checkpoint.json").read_text())
    meta["format"] = 1
    for key in ("label_constant", "feature_names", "n_train", "dataset_path", "final"):
        meta.pop(key)
    (old / "checkpoint.json").write_text(json.dumps(meta))
    back = load_checkpoint(old)
    assert back.epoch == 2
    back.train()
    save_checkpoint(back, old)
    assert (old / LATEST).is_symlink() and (old / "checkpoint.json").is_symlink()
    assert load_checkpoint(old).epoch == 3


def test_resume_refuses_a_changed_system_parameter(cli, tmp_path):
    out = tmp_path / "run"
    assert cli("train", *SMALL, "--epochs", "2", "--out", str(out)).code == 0
    res = cli("train", "--resume", str(out), "--param", "dim=5")
    assert res.code == 1 and "--param dim cannot change" in res.err and "timeout" in res.err


def test_instrument_outage_saves_the_last_good_epoch_and_resumes(tmp_path):
    emulator = pytest.importorskip("phyll_scpi_example.emulator")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    env["PHYLL_LOAD_PLUGINS"] = "phyll-scpi-example"
    out = tmp_path / "run"
    emu = emulator.ScpiEmulator(port=0, die_after=1500).start()  # dies during epoch 2
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "phyll_core", "train", "--system", "scpi-demo",
             "--param", f"resource={emu.resource}", "--param", "timeout=0.5",
             "--param", "retries=1", "--param", "backoff=0.01", "--dataset", "iris",
             "--epochs", "3", "--width", "8", "--blocks", "1", "--inner-steps", "2",
             "--checkpoint-every", "off", "--labels", "physical", "-q", "--out", str(out)],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )
        port = emu.port
    finally:
        emu.stop()
    assert proc.returncode == 1, proc.stderr
    assert "saved the last completed epoch (1)" in proc.stderr, proc.stderr
    assert f"continue with: phyll train --resume {out}" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: device 'scpi-demo'")
    emu = emulator.ScpiEmulator(port=port).start()  # the instrument is back
    try:
        resumed = subprocess.run(
            [sys.executable, "-m", "phyll_core", "train", "--resume", str(out),
             "--param", "timeout=2", "-q", "--json"],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )
    finally:
        emu.stop()
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["epochs"] == 3
    assert load_checkpoint(out).config.params["timeout"] == "2"


def test_without_symbolic_links_latest_is_a_file_swapped_atomically(tmp_path, monkeypatch):
    from phyll_core.engine import checkpoint, checkpoint_folder
    from phyll_core.engine.config import TrainConfig

    def no_links(target, link):
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(checkpoint_folder, "atomic_symlink", no_links)
    run = Run(TrainConfig(system="identity", dataset="iris", width=8, epochs=2, inner_steps=2))
    run.train(1)
    checkpoint.save_checkpoint(run, tmp_path / "run")
    run.train(2)
    checkpoint.save_checkpoint(run, tmp_path / "run")
    latest = tmp_path / "run" / LATEST
    assert latest.is_file() and not latest.is_symlink()
    assert load_checkpoint(tmp_path / "run").epoch == 2
    assert len([p for p in (tmp_path / "run").iterdir() if p.name.startswith("ckpt-")]) == 1
    latest.write_text("../../elsewhere")
    with pytest.raises(checkpoint.CheckpointError, match="does not name a checkpoint"):
        load_checkpoint(tmp_path / "run")


@pytest.mark.skipif(os.name != "posix", reason="flock: POSIX only")
def test_two_trainings_never_write_one_folder(cli, tmp_path):
    from phyll_core.cli.lifecycle import folder_lock

    out = tmp_path / "run"
    out.mkdir()
    with folder_lock(out):  # another `phyll train --out run` is writing it
        res = cli("train", *SMALL, "--epochs", "2", "--out", str(out))
        assert res.code == 1 and "another phyll train is writing this folder (pid" in res.err
    assert cli("train", *SMALL, "--epochs", "2", "--out", str(out)).code == 0
