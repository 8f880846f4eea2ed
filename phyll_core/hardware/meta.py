"""Per-measurement metadata and the mutable runtime state of an instrument.

:class:`MeasurementMeta` is what a user sees (``system.last_metadata``); :class:`ChunkMeta`
keeps the metadata of one measured chunk as plain values in the measurement loop and expands
to MeasurementMeta objects only when asked; :class:`RuntimeState` holds the counters, the
connection flag, the drift estimate and the deadline of the device call in progress.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from phyll_core.hardware.worker import CallWorker


@attrs.frozen
class MeasurementMeta:
    """Metadata of one measured row.

    ``index`` counts rows measured since the system was built (references included);
    ``timestamp`` is the Unix time at the start; ``duration`` the seconds spent on it (settle,
    repeats and retries included; for a batched device call, the call's time divided by its
    rows); ``retries`` the retries it needed; ``spread`` / ``spread_max`` the mean / max over
    output components of the standard deviation across the ``repeats`` acquisitions (0 with one
    repeat); ``reference`` marks a reference measurement; ``drift`` is the latest drift estimate
    when the row was done (None without reference measurements).
    """

    index: int
    timestamp: float
    duration: float
    repeats: int
    retries: int
    spread: float
    spread_max: float
    reference: bool = False
    drift: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


class ChunkMeta:
    """Metadata of one measured chunk of rows, kept as plain values in the measurement loop."""

    __slots__ = (
        "drift", "duration", "first", "reference", "repeats", "retries", "rows", "spread",
        "timestamp",
    )

    def __init__(
        self,
        first: int,
        rows: int,
        timestamp: float,
        duration: float,
        repeats: int,
        retries: int,
        spread: np.ndarray | None,
        reference: bool,
        drift: float | None,
    ) -> None:
        self.first, self.rows, self.timestamp, self.duration = first, rows, timestamp, duration
        self.repeats, self.retries, self.spread = repeats, retries, spread
        self.reference, self.drift = reference, drift

    def dicts(self) -> list[dict[str, Any]]:
        """One metadata dict per row (the fields of MeasurementMeta)."""
        if self.spread is None:
            means = maxes = [0.0] * self.rows
        else:
            means, maxes = self.spread.mean(axis=1).tolist(), self.spread.max(axis=1).tolist()
        return [
            {
                "index": self.first + i,
                "timestamp": self.timestamp,
                "duration": self.duration,
                "repeats": self.repeats,
                "retries": self.retries,
                "spread": means[i],
                "spread_max": maxes[i],
                "reference": self.reference,
                "drift": self.drift,
            }
            for i in range(self.rows)
        ]

    def expand(self) -> list[MeasurementMeta]:
        """One MeasurementMeta per row."""
        return [MeasurementMeta(**d) for d in self.dicts()]


class RuntimeState:
    """Mutable per-instrument runtime state (a plain slotted object: assigning its attributes
    in the measurement loop costs nothing, unlike validated attrs fields)."""

    __slots__ = (
        "connected",
        "deadline",
        "drift",
        "index",
        "last_chunks",
        "last_metadata",
        "measured",
        "reference_first",
        "references",
        "retries_total",
        "since_reference",
        "step",
        "transient",
        "worker",
    )

    def __init__(self) -> None:
        self.connected = False
        self.step = ""
        self.deadline = 0.0  # time.monotonic() deadline of the device call in progress
        self.transient: tuple[type[BaseException], ...] | None = None
        self.worker: CallWorker | None = None
        self.index = 0  # rows measured since construction, references included
        self.measured = 0  # rows measured for queries
        self.retries_total = 0
        self.since_reference = 0
        self.references = 0
        self.reference_first: np.ndarray | None = None
        self.drift: float | None = None
        self.last_chunks: list[ChunkMeta] = []
        self.last_metadata: tuple[MeasurementMeta, ...] | None = ()


def relative_change(first: np.ndarray, now: np.ndarray) -> float:
    """The drift estimate ``||now - first|| / ||first||`` (the absolute change if first is 0)."""
    norm = float(np.linalg.norm(first))
    change = float(np.linalg.norm(now - first))
    return change / norm if norm > 0 else change


def session_record(
    system: str, address: str, input_dim: int, output_dim: int, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``session`` record a measurement log gets each time an instrument is opened."""
    return {
        "type": "session",
        "system": system,
        "address": address,
        "input_dim": input_dim,
        "output_dim": output_dim,
        "params": {k: v for k, v in params.items() if _jsonable(v)},
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.time(),
    }


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None
