"""Atomic writes: a reader or a crash never sees a half-written file."""

from __future__ import annotations

from pathlib import Path

import pytest

from phyll_core.io import atomic_open, atomic_write_bytes, atomic_write_text


def test_write_text_creates_folders_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second ✓")
    assert target.read_text(encoding="utf-8") == "second ✓"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_open(target) as fh:
        fh.write("half of the new content")
        raise RuntimeError("disk on fire")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_write_bytes(tmp_path: Path) -> None:
    target = tmp_path / "blob.bin"
    atomic_write_bytes(target, lambda fh: fh.write(b"\x00\x01"))
    assert target.read_bytes() == b"\x00\x01"


def test_make_parents_false_creates_no_folder(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.txt"
    with pytest.raises(FileNotFoundError), atomic_open(target, make_parents=False) as fh:
        fh.write("x")
    assert not target.parent.exists()


def test_atomic_symlink_swaps_in_one_step(tmp_path: Path) -> None:
    from phyll_core.io import atomic_symlink

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    atomic_symlink("a", tmp_path / "latest")
    assert (tmp_path / "latest").resolve() == (tmp_path / "a").resolve()
    atomic_symlink("b", tmp_path / "latest")  # replaces the link, never leaves none
    assert (tmp_path / "latest").resolve() == (tmp_path / "b").resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "latest"]
