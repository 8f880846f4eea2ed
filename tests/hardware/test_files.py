"""Pair files, JSON-lines logs and device locks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from phyll_core.errors import DatasetError
from phyll_core.hardware import (
    DeviceBusyError,
    DeviceLock,
    JsonlAppender,
    load_pairs,
    pair_paths,
    read_jsonl,
    save_pairs,
)

RNG = np.random.default_rng(0)
X, Y = RNG.uniform(size=(7, 3)), RNG.normal(size=(7, 2))


@pytest.mark.parametrize("name", ["p.npz", "p.csv"])
def test_pairs_round_trip_exactly(tmp_path: Path, name: str) -> None:
    written = save_pairs(tmp_path / name, X, Y, {"system": "s"})
    assert written == pair_paths(tmp_path / name) and all(p.exists() for p in written)
    x, y = load_pairs(tmp_path / name)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(y, Y)
    x2, y2 = load_pairs(*written) if len(written) == 2 else load_pairs(written[0], written[0])
    np.testing.assert_array_equal(x2, X)
    np.testing.assert_array_equal(y2, Y)


def test_csv_layout_is_two_header_less_tables(tmp_path: Path) -> None:
    inputs, outputs = save_pairs(tmp_path / "run.csv", X, Y)
    assert (inputs.name, outputs.name) == ("run.inputs.csv", "run.outputs.csv")
    lines = inputs.read_text().splitlines()
    assert len(lines) == 7 and len(lines[0].split(",")) == 3
    assert float(lines[0].split(",")[0]) == X[0, 0]


def test_csv_with_a_header_line_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("u,v\n1,2\n3,4\n")
    (tmp_path / "b.csv").write_text("5\n6\n")
    x, y = load_pairs(tmp_path / "a.csv", tmp_path / "b.csv")
    assert x.shape == (2, 2) and y.shape == (2, 1)


def test_bad_pairs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"must end in \.npz or \.csv"):
        save_pairs(tmp_path / "p.txt", X, Y)
    with pytest.raises(DatasetError, match="7 input rows but 6 output rows"):
        save_pairs(tmp_path / "p.npz", X, Y[:6])
    bad = Y.copy()
    bad[3, 1] = np.nan
    with pytest.raises(DatasetError, match="outputs row 3 holds NaN"):
        save_pairs(tmp_path / "p.npz", X, bad)
    with pytest.raises(DatasetError, match="not found"):
        load_pairs(tmp_path / "none.npz")
    save_pairs(tmp_path / "a.csv", X, Y)
    save_pairs(tmp_path / "b.csv", X[:5], Y[:5])
    with pytest.raises(DatasetError, match="7 input rows but 5 output rows"):
        load_pairs(tmp_path / "a.inputs.csv", tmp_path / "b.outputs.csv")
    with pytest.raises(DatasetError, match="alone does not hold both"):
        load_pairs(tmp_path / "a.inputs.csv")
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DatasetError, match=r"cut\.npz: not a valid \.npz file"):
        load_pairs(tmp_path / "cut.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(DatasetError, match="not a valid"):
        load_pairs(tmp_path / "empty.npz")


def test_jsonl_tail_handling(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with JsonlAppender(path, fsync_interval=0.0) as log:
        for i in range(3):
            log.append({"i": i})
    with open(path, "ab") as fh:
        fh.write(b'{"i": 3, "x": [1.0, 2')  # crash inside a write
    assert [r["i"] for r in read_jsonl(path)] == [0, 1, 2]
    with JsonlAppender(path) as log:  # reopening cuts the partial record off first
        log.append({"i": 4})
    assert [r["i"] for r in read_jsonl(path)] == [0, 1, 2, 4]
    path.write_text('{"i": 0}\nnot json\n{"i": 2}\n')
    with pytest.raises(DatasetError, match="line 2 is not valid JSON"):
        read_jsonl(path)
    path.write_text('{"i": 0')  # only a partial record
    with JsonlAppender(path) as log:
        log.append({"i": 9})
    assert read_jsonl(path) == [{"i": 9}]


def test_lock_records_and_releases_its_holder(lock_dir: Path) -> None:
    lock = DeviceLock("GPIB0::12::INSTR")
    assert lock.path.parent == lock_dir
    with lock:
        holder = lock.holder()
        assert holder is not None and holder["pid"] == os.getpid()
        with pytest.raises(DeviceBusyError, match=rf"in use by process {os.getpid()}"):
            DeviceLock("GPIB0::12::INSTR").acquire()
        DeviceLock("GPIB0::13::INSTR").acquire()  # another address is independent
    with DeviceLock("GPIB0::12::INSTR"):
        pass


CHILD = textwrap.dedent(
    """
    import sys
    from phyll_core.hardware import DeviceLock, DeviceBusyError
    try:
        DeviceLock(sys.argv[1]).acquire()
    except DeviceBusyError as exc:
        print(exc)
        sys.exit(3)
    print("acquired")
    """
)


def _child(address: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, address], capture_output=True, text=True, timeout=60
    )


def test_a_second_process_is_refused_and_told_the_holder() -> None:
    import socket

    with DeviceLock("ASRL/dev/ttyUSB0::INSTR"):
        proc = _child("ASRL/dev/ttyUSB0::INSTR")
        assert proc.returncode == 3, proc.stderr
        assert f"in use by process {os.getpid()} on host {socket.gethostname()}" in proc.stdout
    proc = _child("ASRL/dev/ttyUSB0::INSTR")  # released: now the child gets it
    assert proc.returncode == 0 and "acquired" in proc.stdout, proc.stderr
