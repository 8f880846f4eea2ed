"""``phyll record``: pairs files, progress bar, resuming after an interruption."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hw_fakes import Interrupted

from phyll_core.factory import build_system
from phyll_core.hardware import load_pairs
from phyll_core.hardware.errors import RecordError
from phyll_core.hardware.record import progress_path, record_pairs


def _expected(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    system = build_system("random-features")
    x = system.domain.sample(np.random.default_rng(seed), (samples, system.input_dim))
    return x, system.forward(x)


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_record_writes_pairs(cli: Any, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"pairs{suffix}"
    res = cli("record", "random-features", "--samples", "50", "--out", str(out), "--json")
    assert res.code == 0, res.err
    info = res.json()
    assert info["samples"] == 50 and info["resumed"] == 0
    x, y = load_pairs(out)
    ex, ey = _expected(50)
    np.testing.assert_array_equal(x, ex)
    np.testing.assert_allclose(y, ey, rtol=1e-15)
    assert not progress_path(out).exists()
    if suffix == ".csv":
        assert [Path(f).name for f in info["files"]] == ["pairs.inputs.csv", "pairs.outputs.csv"]
    else:
        with np.load(out) as data:
            assert '"system": "random-features"' in str(data["meta"])


def test_record_refuses_to_overwrite(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "p.npz"
    assert cli("record", "identity", "-n", "5", "-o", str(out)).code == 0
    res = cli("record", "identity", "-n", "5", "-o", str(out))
    assert res.code == 1 and "already exists; use --force" in res.err
    assert cli("record", "identity", "-n", "5", "-o", str(out), "--force").code == 0
    res = cli("record", "identity", "-n", "5", "-o", str(tmp_path / "p.txt"))
    assert res.code == 1 and "must end in .npz or .csv" in res.err


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    out = tmp_path / "p.npz"
    first = Interrupted(stop_at=4)
    first.params.update(build_system("random-features").params)
    with pytest.raises(KeyboardInterrupt):
        record_pairs(first, "random-features", 100, out, batch=16)
    assert not out.exists() and progress_path(out).exists()
    again = Interrupted()
    again.params.update(first.params)
    seen: list[tuple[int, int]] = []
    result = record_pairs(
        again, "random-features", 100, out, batch=16, on_progress=lambda d, t: seen.append((d, t))
    )
    assert result.resumed == 48 and again.calls == 4  # 3 chunks kept, 4 chunks left
    assert seen[0] == (48, 100) and seen[-1] == (100, 100)
    x, y = load_pairs(out)
    ex, ey = _expected(100)
    np.testing.assert_array_equal(x, ex)
    np.testing.assert_allclose(y, ey, rtol=1e-15)


def test_a_progress_file_of_another_run_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "p.npz"
    first = Interrupted(stop_at=2)
    with pytest.raises(KeyboardInterrupt):
        record_pairs(first, "random-features", 40, out, batch=8)
    with pytest.raises(RecordError, match=r"belongs to another run \(seed: 0 there, 1 now"):
        record_pairs(Interrupted(), "random-features", 40, out, batch=8, seed=1)
    with pytest.raises(RecordError, match="samples: 40 there, 41 now"):
        record_pairs(Interrupted(), "random-features", 41, out, batch=8)
    result = record_pairs(Interrupted(), "random-features", 40, out, batch=8, seed=1, restart=True)
    assert result.resumed == 0


def test_recording_through_the_instrument_survives_an_outage(
    cli: Any, emulator: Any, tmp_path: Path
) -> None:
    pytest.importorskip("pyvisa_py")
    model = pytest.importorskip("phyll_scpi_example.response").ResponseModel()
    emu = emulator(die_after=100)
    out = tmp_path / "measured.csv"
    args = ["record", "scpi-demo", "-n", "200", "-o", str(out), "--batch", "32"]
    for option in (f"resource={emu.resource}", "timeout=0.3", "retries=1", "backoff=0.01"):
        args += ["-p", option]
    res = cli(*args)
    errors = [line for line in res.err_lines if line.startswith("error:")]
    assert res.code == 1 and len(errors) == 1
    assert f"device 'scpi-demo' at {emu.resource}: step 'connect' failed after 2" in errors[0]
    port = emu.port
    emu.stop()
    emulator(port=port)  # the instrument is back, at the same address
    res = cli(*args, "--json")
    assert res.code == 0, res.err
    assert res.json()["resumed"] == 96  # three chunks of 32 were saved before the outage
    x, y = load_pairs(out)
    assert x.shape == (200, 20)
    np.testing.assert_allclose(y, model(x), rtol=1e-8, atol=1e-9)
