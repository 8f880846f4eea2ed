"""Issue 12, item 12: bad input that used to end in "this looks like a bug" (or worse) is one
clear line naming the file, option or value, and a non-zero exit."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from phyll_core.engine.checkpoint import checkpoint_dir

SMALL = ["--system", "identity", "--dataset", "iris", "--epochs", "2", "--width", "8", "-q"]


def one_line(res, *needles: str) -> None:
    assert res.code not in (0, None), res
    lines = res.err_lines
    assert len(lines) == 1, res.err
    assert "Traceback" not in res.err and "looks like a bug" not in res.err, res.err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def saved_run(cli, tmp_path):
    out = tmp_path / "run"
    res = cli("train", *SMALL, "--out", str(out))
    assert res.code == 0, res.err
    return out


def _npz_with_header(path: Path, shape: tuple[int, ...], payload: bytes = b"") -> Path:
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        head, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", head.getvalue() + payload)
        z.writestr("y.npy", head.getvalue() + payload)
    return path


def test_csv_field_over_the_csv_limit(cli, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("a,label\n" + "1" * 200_000 + ",x\n2,y\n")
    one_line(cli("train", "--dataset", f"csv:{path}"), str(path), "line 2", "131,072")


def test_npz_whose_header_claims_a_huge_shape(cli, tmp_path):
    path = _npz_with_header(tmp_path / "huge.npz", (10**12, 2), b"\0" * 16)
    one_line(cli("train", "--dataset", f"npz:{path}"), str(path), "(1000000000000, 2)")


def test_npz_headers_are_checked_before_anything_is_inflated(tmp_path):
    from phyll_core.errors import DatasetError
    from phyll_core.readers import read_npz

    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, x=np.zeros((2_000_000, 4)), y=np.zeros(2_000_000))  # 80 MB inflated
    assert path.stat().st_size < 1_000_000
    with pytest.raises(DatasetError, match="needs at least 80 MB of memory; 1 MB is available"):
        read_npz(path, ("x", "y"), available=1_000_000)

    def wrong_shape(headers):
        raise DatasetError(f"shape {headers['x'][0]} refused before reading")

    with pytest.raises(DatasetError, match=r"\(2000000, 4\) refused before reading"):
        read_npz(path, ("x", "y"), check=wrong_shape)


@pytest.mark.parametrize("seed", ["-1", str(2**70)])
def test_seed_out_of_range(cli, seed):
    one_line(cli("train", *SMALL, "--no-save", "--seed", seed), "--seed", seed)


def test_width_that_cannot_fit_in_memory_is_refused_at_once(cli, tmp_path):
    start = time.perf_counter()
    one_line(cli("train", "--width", "10000000"), "--width 10000000", "memory")
    assert time.perf_counter() - start < 30
    assert not (tmp_path / "runs").exists()  # nothing left behind


def test_probe_with_a_billion_samples_is_refused(cli):
    one_line(cli("probe", "identity", "--samples", "1000000000"), "--samples 1,000,000,000")


def test_checkpoint_claiming_a_huge_width(cli, saved_run):
    meta_path = checkpoint_dir(saved_run) / "checkpoint.json"
    meta = json.loads(meta_path.read_text())
    meta["config"]["width"] = 10**9
    meta_path.write_text(json.dumps(meta))
    one_line(cli("evaluate", str(saved_run)), "checkpoint.json", "width 1000000000", "memory")


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("utf16.csv", None, None),
        ("binary.csv", bytes(range(256)) * 4, "binary data"),
        ("cut.npz", "truncated", "not a .npz archive"),
    ],
)
def test_predict_input_utf16_binary_truncated(cli, saved_run, tmp_path, name, content, needle):
    path = tmp_path / name
    if name == "utf16.csv":  # UTF-16 with a BOM (Excel's "Unicode text") is read as text
        path.write_text("a,b,c,d\n5.1,3.5,1.4,0.2\n", encoding="utf-16")
        res = cli("predict", str(saved_run), "--input", str(path))
        assert res.code == 0, res.err
        assert res.out.splitlines()[0] == "row,label" and len(res.out.splitlines()) == 2
        return
    if content == "truncated":
        np.savez(tmp_path / "full.npz", x=np.ones((5, 4)))
        content = (tmp_path / "full.npz").read_bytes()[:100]
    path.write_bytes(content)
    one_line(cli("predict", str(saved_run), "--input", str(path)), str(path), needle)


def test_a_system_whose_forward_raises(cli, monkeypatch, tmp_path):
    from phyll_core.builtin_systems import Identity

    calls = {"n": 0}
    forward = Identity._forward

    def flaky(self, x):
        calls["n"] += 1
        if calls["n"] > 6:
            raise RuntimeError("amplifier tripped")
        return forward(self, x)

    monkeypatch.setattr(Identity, "_forward", flaky)
    out = tmp_path / "run"
    res = cli("train", "--system", "identity", "--dataset", "iris", "--epochs", "20",
              "--width", "8", "--eval-every", "20", "-q", "--out", str(out),
              "--checkpoint-every", "off")
    assert res.code == 1 and "Traceback" not in res.err
    assert "system 'identity' failed in its forward pass: RuntimeError: amplifier tripped" in (
        res.err_lines[-1]
    )
    assert f"continue with: phyll train --resume {out}" in res.err
    meta = json.loads((out / "checkpoint.json").read_text())
    assert meta["epochs_completed"] >= 1  # the last good epoch was saved, not epoch 0


def test_lr_nan(cli):
    one_line(cli("train", *SMALL, "--no-save", "--lr", "nan"), "--lr", "nan")


def test_complex_x_in_npz(cli, tmp_path):
    path = tmp_path / "c.npz"
    np.savez(path, x=np.ones((6, 2)) * (1 + 1j), y=np.array([0, 1] * 3))
    one_line(cli("train", "--dataset", f"npz:{path}"), str(path), "complex")


def test_a_folder_given_as_csv_path(cli, tmp_path):
    one_line(cli("train", "--dataset", f"csv:{tmp_path}"), str(tmp_path), "is a folder")


def test_format_given_as_a_string(cli, saved_run):
    meta_path = checkpoint_dir(saved_run) / "checkpoint.json"
    meta = json.loads(meta_path.read_text())
    meta["format"] = "1"
    meta_path.write_text(json.dumps(meta))
    res = cli("evaluate", str(saved_run))
    one_line(res, '"format" must be a whole number, got "1"')
    assert "reads formats 1, 2" in res.err


def test_predict_output_in_a_missing_folder_creates_nothing(cli, saved_run, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b,c,d\n5.1,3.5,1.4,0.2\n")
    target = tmp_path / "nonexist" / "x.csv"
    one_line(cli("predict", str(saved_run), "-i", str(rows), "-o", str(target)),
             "does not exist")
    assert not target.parent.exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_ctrl_c_during_start_up_prints_no_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    # Python's own start-up (site, .pth files) and runpy's import of the package run before any
    # code of phyll's main() can, and take any time on a loaded machine: the signal is sent only
    # once the child reports (-X importtime, one stderr line per finished import) that it has
    # imported ``phyll_core.cli``, the first thing main() does, and then at later points of the
    # CLI's start-up (imports, plugin loading) and of the run.
    for delay in (0.0, 0.05, 0.15, 0.3, 0.6):
        out = (tmp_path / f"out-{delay}.txt").open("w+")
        proc = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "phyll_core", "train", "--epochs",
             "100000", "--no-save"],
            stdout=out, stderr=subprocess.PIPE, text=True, env=env,
        )
        lines: list[str] = []
        in_main = threading.Event()

        def read(stream=proc.stderr, lines=lines, in_main=in_main) -> None:
            for line in stream:
                lines.append(line)
                name = line.rpartition("|")[2].strip()
                if line.startswith("import time:") and name.startswith("phyll_core.cli"):
                    in_main.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            assert in_main.wait(timeout=120), "".join(lines)
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
        finally:
            proc.kill()
            reader.join(timeout=10)
            out.seek(0)
            stdout = out.read()
            out.close()
        err = "".join(ln for ln in lines if not ln.startswith("import time:"))
        assert "Traceback" not in err + stdout, (delay, err, stdout)
        assert proc.returncode == 130, (delay, proc.returncode, err, stdout)
        assert len(err.splitlines()) <= 1, (delay, err)


def test_ctrl_c_inside_string_exec_under_python_m_exits_130(tmp_path):
    # CPython marks a plain KeyboardInterrupt that ends a string exec (attrs, dataclasses and
    # typing build code that way while the CLI imports) as unhandled, and `python -m` then dies
    # by SIGINT (-2) even after sys.exit(130); phyll's handler raises a subclass, which it does
    # not mark. The loop runs inside a string exec, where the signal always lands.
    (tmp_path / "spin.py").write_text(
        "import sys\n"
        "from phyll_core import interrupts\n"
        "interrupts.install()\n"
        "try:\n"
        "    exec('print(\"ready\", flush=True)\\nwhile True: pass')\n"
        "except KeyboardInterrupt as exc:\n"
        "    assert isinstance(exc, interrupts.Interrupted)\n"
        "    sys.exit(130)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "spin"], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
