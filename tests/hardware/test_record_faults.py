"""``phyll record`` under faults: resume rules, failed starts, Ctrl-C, SIGTERM, kill -9 and
instrument outages lose no completed work and leave nothing that blocks the next run."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hw_fakes import Interrupted, needs_emulator, start_record

from phyll_core.hardware import load_pairs, read_log
from phyll_core.hardware.errors import RecordError
from phyll_core.hardware.record import progress_path, record_pairs


def _with_params(system: Interrupted, **params: Any) -> Interrupted:
    system.params.update({"features": 64, "repeats": 1, **params})
    return system


def test_resume_accepts_changed_runtime_only_options(tmp_path: Path) -> None:
    out = tmp_path / "p.npz"
    first = _with_params(Interrupted(stop_at=3), timeout=1.0, retries=1, log="")
    with pytest.raises(KeyboardInterrupt):
        record_pairs(first, "random-features", 40, out, batch=8)
    changed = _with_params(Interrupted(), timeout=9.0, retries=7, log=str(tmp_path / "m.jsonl"))
    assert record_pairs(changed, "random-features", 40, out, batch=8).resumed == 16
    with pytest.raises(KeyboardInterrupt):
        record_pairs(_with_params(Interrupted(stop_at=2)), "random-features", 40, out, batch=8,
                     force=True)
    other = _with_params(Interrupted(), repeats=4)  # changes the measured values: refused
    with pytest.raises(RecordError, match=r"parameter repeats: 1 there, 4 now; only .*timeout"):
        record_pairs(other, "random-features", 40, out, batch=8)


def _args(emu: Any, out: Path, *options: str, samples: int = 200) -> list[str]:
    args = ["record", "scpi-demo", "-n", str(samples), "-o", str(out), "--batch", "10"]
    for option in (f"resource={emu.resource}", "batch=false", *options):
        args += ["-p", option]
    return args


def test_a_failed_start_leaves_nothing_that_blocks_the_corrected_command(
    cli: Any, emulator: Any, tmp_path: Path
) -> None:
    needs_emulator()
    emu = emulator()
    out = tmp_path / "m.npz"
    wrong = ["record", "scpi-demo", "-n", "30", "-o", str(out), "-p",
             f"resource=TCPIP0::127.0.0.1::{emu.port + 1}::SOCKET", "-p", "retries=0"]
    res = cli(*wrong)
    assert res.code == 1 and "step 'connect' failed" in res.err
    assert not progress_path(out).exists()
    # a header-only progress file left by an older phyll is no obstacle either
    header = {"type": "header", "system": "scpi-demo", "params": {"resource": "elsewhere"},
              "seed": 0, "samples": 30, "input_dim": 20, "output_dim": 20}
    progress_path(out).write_text(json.dumps(header) + "\n")
    res = cli("record", "scpi-demo", "-n", "30", "-o", str(out), "-p",
              f"resource={emu.resource}", "--json")
    assert res.code == 0, res.err
    assert res.json()["resumed"] == 0 and load_pairs(out)[0].shape == (30, 20)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_prints_the_resume_hint(
    cli: Any, emulator: Any, tmp_path: Path, sig: int
) -> None:
    needs_emulator()
    emu = emulator(delay=0.002)
    out = tmp_path / "m.npz"
    proc = start_record(_args(emu, out, samples=600), progress_path(out))
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    hint = [line for line in err.splitlines() if line.startswith("interrupted:")]
    assert len(hint) == 1 and "Traceback" not in err
    assert f"rows are saved in {progress_path(out)}; run the same command again" in hint[0]
    saved = int(hint[0].split()[1])
    res = cli(*_args(emu, out, "retries=5", "timeout=9", samples=600), "--json")
    assert res.code == 0, res.err
    assert res.json()["resumed"] == saved > 0


def test_after_kill_9_the_log_holds_every_input_once(
    cli: Any, emulator: Any, tmp_path: Path
) -> None:
    needs_emulator()
    model = pytest.importorskip("phyll_scpi_example.response").ResponseModel()
    emu = emulator(delay=0.008)
    out, log = tmp_path / "m.npz", tmp_path / "m.jsonl"
    args = _args(emu, out, f"log={log}")
    proc = start_record(args, progress_path(out))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # kill in the middle of a chunk of 10 rows
        rows = log.read_bytes().count(b'"type":"measurement"')
        if rows >= 25 and 2 <= rows % 10 <= 5:
            break
        time.sleep(0.001)
    proc.kill()
    proc.communicate(timeout=30)
    res = cli(*args, "--json")
    assert res.code == 0, res.err
    assert res.json()["recovered"] >= 1  # measured before the kill, not saved, not measured again
    measured = read_log(log)
    assert len(measured) == 200 and len(np.unique(measured.inputs, axis=0)) == 200
    x, y = load_pairs(out)
    np.testing.assert_array_equal(measured.inputs, x)
    np.testing.assert_array_equal(measured.outputs, y)
    np.testing.assert_allclose(y, model(x), rtol=1e-8, atol=1e-9)


def test_an_outage_keeps_the_rows_measured_before_it(
    cli: Any, emulator: Any, tmp_path: Path
) -> None:
    needs_emulator()
    model = pytest.importorskip("phyll_scpi_example.response").ResponseModel()
    emu = emulator(die_after=75)  # dies in the middle of the 8th chunk of 10 rows
    out = tmp_path / "m.csv"
    args = _args(emu, out, "timeout=0.3", "retries=1", "backoff=0.01", samples=120)
    res = cli(*args)
    errors = [line for line in res.err_lines if line.startswith("error:")]
    assert res.code == 1 and len(errors) == 1
    assert "step 'connect' failed after 2 attempts" in errors[0]
    assert f"75 of 120 rows are saved in {progress_path(out)}; run the same command" in errors[0]
    port = emu.port
    emu.stop()
    emulator(port=port)  # back at the same address
    res = cli(*args, "--json")
    assert res.code == 0, res.err
    assert res.json()["resumed"] == 75
    x, y = load_pairs(out)
    np.testing.assert_allclose(y, model(x), rtol=1e-8, atol=1e-9)
