"""Crash-safe, append-only measurement logs (JSON lines) and their reader.

Every record is one JSON object on one line, written with a single ``write`` call on a file
opened in append mode, so a record is either wholly in the file or (if the process dies inside
that call) a truncated last line. The file is ``fsync``-ed at most every ``fsync_interval``
seconds (``0``: after every record) and on close: a killed or crashed process loses at most the
record in flight; a power failure loses at most the last ``fsync_interval`` seconds. Reopening a
log for appending first cuts off a truncated last line, and :func:`read_jsonl` ignores one.

A measurement log holds ``session`` records (written when an instrument is opened) followed by
``measurement`` and ``reference`` records with the input row, the output row and the
measurement's metadata; :func:`read_log` returns them as arrays reusable as twin training pairs.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from phyll_core.errors import DatasetError


class JsonlAppender:
    """Append JSON records to ``path`` as lines (see the module docstring for the guarantees)."""

    def __init__(self, path: str | os.PathLike[str], fsync_interval: float = 1.0) -> None:
        if not fsync_interval >= 0:
            raise ValueError(f"fsync_interval must be >= 0, got {fsync_interval!r}")
        self.path = Path(path)
        self.fsync_interval = float(fsync_interval)
        self._fd: int | None = None
        self._last_sync = 0.0
        self._dirty = False
        self.records = 0

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def open(self) -> JsonlAppender:
        """Open for appending (creating folders and file), cutting off a truncated last line."""
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _cut_partial_tail(self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._last_sync = time.monotonic()
        return self

    def append(self, record: dict[str, Any]) -> None:
        """Write one record (one line, one ``write`` call); fsync when the interval is due."""
        if self._fd is None:
            raise ValueError(f"log {self.path} is not open")
        data = (json.dumps(record, separators=(",", ":"), allow_nan=True) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:  # a regular file takes it in one call; loop only for robustness
            written = os.write(self._fd, view)
            view = view[written:]
        self.records += 1
        self._dirty = True
        now = time.monotonic()
        if now - self._last_sync >= self.fsync_interval:
            os.fsync(self._fd)
            self._last_sync, self._dirty = now, False

    def sync(self) -> None:
        """Force the records written so far to stable storage."""
        if self._fd is not None and self._dirty:
            os.fsync(self._fd)
            self._last_sync, self._dirty = time.monotonic(), False

    def close(self) -> None:
        """fsync and close (a no-op when closed)."""
        if self._fd is None:
            return
        try:
            self.sync()
        finally:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> JsonlAppender:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cut_partial_tail(path: Path) -> None:
    """Truncate ``path`` after its last newline (drop a record cut short by a crash)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        block = 65536
        end = size
        while end > 0:  # search backwards for the last newline
            start = max(0, end - block)
            fh.seek(start)
            chunk = fh.read(end - start)
            pos = chunk.rfind(b"\n")
            if pos >= 0:
                fh.truncate(start + pos + 1)
                return
            end = start
        fh.truncate(0)


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read the records of a JSON-lines file. A truncated last line (a crash inside a write) is
    ignored; any other unreadable line raises :class:`~phyll_core.errors.DatasetError`."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"log file not found: {p}") from None
    lines = raw.split(b"\n")
    complete, tail = lines[:-1], lines[-1]  # tail is b"" when the file ends with a newline
    records: list[dict[str, Any]] = []
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise DatasetError(f"{p}: line {number} is not valid JSON (file damaged)") from None
        if not isinstance(record, dict):
            raise DatasetError(f"{p}: line {number} is not a JSON object")
        records.append(record)
    del tail  # a partial last record: the measurement that was in flight
    return records


@attrs.frozen(eq=False)
class LogContents:
    """What :func:`read_log` returns: ``inputs`` (n, input_dim), ``outputs`` (n, output_dim),
    one metadata dict per row (with ``type`` and ``index``) and the session records."""

    inputs: np.ndarray
    outputs: np.ndarray
    metadata: list[dict[str, Any]]
    sessions: list[dict[str, Any]]

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


MEASUREMENT_TYPES = ("measurement", "reference")


def read_log(path: str | os.PathLike[str], include_references: bool = False) -> LogContents:
    """Read a measurement log written by :class:`~phyll_core.hardware.InstrumentSystem`.

    Returns the (input, output) pairs in measurement order, ready as twin training pairs;
    ``include_references`` also returns the periodic reference measurements. Raises
    DatasetError when rows of different widths were logged into the same file.
    """
    records = read_jsonl(path)
    wanted = MEASUREMENT_TYPES if include_references else ("measurement",)
    rows = [r for r in records if r.get("type") in wanted]
    sessions = [r for r in records if r.get("type") == "session"]
    if not rows:
        last = sessions[-1] if sessions else {}
        empty_in = np.zeros((0, int(last.get("input_dim", 0))))
        return LogContents(empty_in, np.zeros((0, int(last.get("output_dim", 0)))), [], sessions)
    try:
        inputs = np.array([r["input"] for r in rows], dtype=np.float64)
        outputs = np.array([r["output"] for r in rows], dtype=np.float64)
    except (KeyError, ValueError, TypeError):
        raise DatasetError(
            f"{path}: measurement records have missing fields or rows of different widths"
        ) from None
    if inputs.ndim != 2 or outputs.ndim != 2:
        raise DatasetError(f"{path}: measurement records have rows of different widths")
    meta = [{"type": r["type"], "index": r.get("index"), **r.get("meta", {})} for r in rows]
    return LogContents(inputs, outputs, meta, sessions)
