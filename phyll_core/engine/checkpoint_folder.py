"""The on-disk layout of a checkpoint folder, written so that a crash at any instant leaves a
valid checkpoint (see :mod:`phyll_core.engine.checkpoint` for what a checkpoint holds).

``DIR/ckpt-<epoch>-<id>/`` holds the files of one checkpoint; ``DIR/latest`` names the current
one: a symbolic link, or on file systems without links a small file holding the name. A write
makes a new sub-folder under a temporary name, flushes its files and itself to disk, renames it,
then switches ``latest`` in one rename; older sub-folders are removed afterwards.
``DIR/checkpoint.json`` and ``DIR/weights.npz`` are links through ``latest``. A folder of the
format-1 layout (the files directly in ``DIR``) is read as it is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from phyll_core.errors import CheckpointError
from phyll_core.io import atomic_symlink, atomic_write_text, fsync_dir

WEIGHTS, META, LATEST = "weights.npz", "checkpoint.json", "latest"
PREFIX = "ckpt-"


def write_checkpoint_folder(out: Path, epoch: int, files: dict[str, bytes]) -> str:
    """Write ``files`` (name -> content) as the new current checkpoint of ``out`` in one
    atomic step; return the sub-folder's name."""
    name = f"{PREFIX}{epoch:06d}-{os.urandom(4).hex()}"
    tmp = out / f".{name}.tmp"
    tmp.mkdir()
    try:
        for file, data in files.items():
            _write(tmp / file, data)
        fsync_dir(tmp)
        os.rename(tmp, out / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(out)
    _point_latest(out, name)  # the one step that switches to the new checkpoint
    _remove_stale(out, keep=name)
    return name


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _point_latest(out: Path, name: str) -> None:
    """Make ``latest`` name the checkpoint folder ``name`` in one rename: a symbolic link, or
    on a file system without links (FAT, some network shares) a small file holding the name;
    and the convenience links ``checkpoint.json`` and ``weights.npz`` through it (made before
    the switch where missing, so that they exist whenever ``latest`` does; a format-1 file is
    replaced only after it)."""
    links = [(out / f, f"{LATEST}/{f}") for f in (META, WEIGHTS)]
    try:
        for link, target in links:
            if not link.exists() and not link.is_symlink():
                atomic_symlink(target, link)
        atomic_symlink(name, out / LATEST)
    except OSError:
        if (out / LATEST).is_symlink():
            raise
        for link, target in links:  # no links here: none of them were made
            if link.is_symlink() and os.readlink(link) == target:
                link.unlink()
        atomic_write_text(out / LATEST, name + "\n")
        fsync_dir(out)
        return
    for link, target in links:
        if not (link.is_symlink() and os.readlink(link) == target):
            atomic_symlink(target, link)


def _remove_stale(out: Path, keep: str) -> None:
    for entry in out.iterdir():
        stale = entry.name.startswith(PREFIX) or (
            entry.name.startswith(f".{PREFIX}") and entry.name.endswith(".tmp")
        )
        if stale and entry.name != keep and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def has_checkpoint(folder: str | Path) -> bool:
    """True when ``folder`` holds a checkpoint (of either layout), valid or not."""
    out = Path(folder)
    return (out / LATEST).is_symlink() or (out / LATEST).is_file() or (out / META).is_file()


def checkpoint_dir(folder: str | Path) -> Path:
    """The folder that holds the current ``checkpoint.json`` and ``weights.npz`` of ``folder``:
    the target of ``latest``, or ``folder`` itself for the format-1 layout."""
    out = Path(folder)
    if not out.is_dir():
        raise CheckpointError(f"{folder}: no such checkpoint folder")
    link = out / LATEST
    if link.is_symlink() or link.is_file():
        name = os.readlink(link) if link.is_symlink() else link.read_text(encoding="utf-8")
        name = name.strip()
        if not name.startswith(PREFIX) or "/" in name or "\\" in name:
            raise CheckpointError(f"{link}: does not name a checkpoint of this folder ({name!r})")
        target = out / name
        if not target.is_dir():
            raise CheckpointError(f"{link}: points to a missing checkpoint ({target.name})")
        return target
    if (out / META).is_file():
        return out
    raise CheckpointError(f"{out / META}: missing (not a phyll checkpoint folder?)")
