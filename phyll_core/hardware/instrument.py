"""``InstrumentSystem``: a PhysicalSystem driven by a real instrument.

A hardware author subclasses :class:`InstrumentSystem` and writes only the device's own steps:

- ``_connect()`` / ``_disconnect()``: open and close the transport;
- ``_encode(x)``: map validated input rows (batch, input_dim) to setpoints (batch, n_setpoints)
  (default: the inputs themselves), vectorised, no device access;
- ``_apply(setpoints_row)``: send one row of setpoints to the device;
- ``_acquire()``: trigger and read one trace (a 1-D float array);
- ``_decode(traces)``: map traces (n, trace_length) to outputs (n, output_dim), vectorised
  (default: the traces themselves);
- optionally ``_measure_batch(setpoints)`` with ``max_batch > 0`` for a device that takes many
  rows per call (apply, trigger and acquire of a whole chunk; it then settles by itself).

Everything that is the same for every instrument lives here: open/close and a context manager,
an exclusive cross-process lock per device address, settle time, a timeout on every device call,
retries with exponential backoff on transient errors (then one clear
:class:`~phyll_core.hardware.errors.DeviceFailedError`), ``repeats`` averaging with the spread in
the metadata, safety bounds on setpoints (checked for the whole batch before anything reaches
the device), periodic reference measurements with a drift estimate, metadata for every
measurement, and a crash-safe measurement log reusable as twin training pairs.

Timeouts: every device call runs under ``timeout`` seconds. By default the transport enforces
it (the subclass passes ``self.timeout`` to its driver in ``_connect``, as the VISA transport
does) and a call that returns late counts as timed out. With ``hard_timeout=True`` every call runs
on a worker thread and is abandoned at its deadline even if the driver hangs (about 0.1 ms more
per call).
"""

from __future__ import annotations

import abc
import contextlib
import math
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import attrs
import numpy as np

from phyll_core.errors import HardwareError
from phyll_core.hardware.errors import (
    DeviceFailedError,
    DeviceTimeoutError,
    MalformedReplyError,
    SetpointOutOfBoundsError,
)
from phyll_core.hardware.lock import DeviceLock
from phyll_core.hardware.log import JsonlAppender
from phyll_core.params import Param
from phyll_core.system import PhysicalSystem

REFERENCE_SEED = 20231117  # seed of the default reference input (any fixed value would do)


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


class _Worker:
    """One daemon thread running device calls, so that a call can be abandoned at a deadline."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=_worker_loop, args=(self._jobs,), name="phyll-device-call", daemon=True
        )
        self._thread.start()

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Any:
        """Run ``fn(*args)`` on the worker; raise DeviceTimeoutError after ``timeout`` s."""
        done = threading.Event()
        box: list[Any] = []
        self._jobs.put((fn, args, done, box))
        if not done.wait(timeout):
            raise DeviceTimeoutError(f"no answer within the timeout of {timeout:g} s")
        ok, value = box[0]
        if ok:
            return value
        raise value

    def stop(self) -> None:
        self._jobs.put(None)


def _worker_loop(jobs: queue.SimpleQueue[Any]) -> None:
    while True:
        job = jobs.get()
        if job is None:
            return
        fn, args, done, box = job
        try:
            box.append((True, fn(*args)))
        except BaseException as exc:  # handed to the caller
            box.append((False, exc))
        finally:
            done.set()
        del fn, args, done, box, job  # drop references to the caller's objects


class _Chunk:
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


class _Runtime:
    """Mutable per-instrument runtime state (a plain slotted object: assigning its attributes
    in the measurement loop costs nothing, unlike validated attrs fields)."""

    __slots__ = (
        "connected",
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
        self.transient: tuple[type[BaseException], ...] | None = None
        self.worker: _Worker | None = None
        self.index = 0  # rows measured since construction, references included
        self.measured = 0  # rows measured for queries
        self.retries_total = 0
        self.since_reference = 0
        self.references = 0
        self.reference_first: np.ndarray | None = None
        self.drift: float | None = None
        self.last_chunks: list[_Chunk] = []
        self.last_metadata: tuple[MeasurementMeta, ...] | None = ()


def _positive(instance: Any, attribute: Any, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a finite number > 0, got {value!r}")


def _non_negative(instance: Any, attribute: Any, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


def _optional_path(value: Any) -> str | None:
    return None if value is None or str(value) == "" else os.fspath(value)


def _optional_array(value: Any) -> np.ndarray | None:
    return None if value is None else np.array(value, dtype=np.float64).reshape(-1)


@attrs.define(kw_only=True, eq=False)
class InstrumentSystem(PhysicalSystem):
    """A PhysicalSystem backed by an instrument at ``address`` (see the module docstring).

    Runtime options (all keyword-only):

    ``address`` the device address (lock key, messages); ``timeout`` seconds per device call;
    ``settle`` seconds to wait after applying setpoints; ``retries`` retries after a transient
    error (then DeviceFailedError); ``backoff`` the first retry delay in seconds, doubling each
    retry up to ``backoff_max``; ``repeats`` acquisitions averaged per row;
    ``reference_every`` re-measure the reference input every N rows (0: never);
    ``reference_input`` the fixed probe row (default: a seeded random row of the domain);
    ``log_path`` append every measurement to this JSON-lines log (None: no log);
    ``log_fsync_interval`` seconds between fsyncs of the log (0: after every record);
    ``lock_dir`` folder of the lock files (default ``$PHYLL_LOCK_DIR`` or ``<tmp>/phyll-locks``);
    ``hard_timeout`` run device calls on a worker thread abandoned at the deadline.

    Subclasses declare ``transient_errors`` (exception types worth a retry; timeouts and
    :class:`MalformedReplyError` always are), ``setpoint_bounds`` and ``max_batch``.
    """

    transient_errors: ClassVar[tuple[type[BaseException], ...]] = ()

    address: str = attrs.field(validator=attrs.validators.instance_of(str))
    timeout: float = attrs.field(default=5.0, validator=_positive)
    settle: float = attrs.field(default=0.0, validator=_non_negative)
    retries: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    backoff: float = attrs.field(default=0.05, validator=_non_negative)
    backoff_max: float = attrs.field(default=2.0, validator=_non_negative)
    repeats: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    reference_every: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    reference_input: np.ndarray | None = attrs.field(default=None, converter=_optional_array)
    log_path: str | None = attrs.field(default=None, converter=_optional_path)
    log_fsync_interval: float = attrs.field(default=1.0, validator=_non_negative)
    lock_dir: str | None = attrs.field(default=None, converter=_optional_path)
    hard_timeout: bool = False

    _lock: DeviceLock | None = attrs.field(default=None, init=False, repr=False)
    _log: JsonlAppender | None = attrs.field(default=None, init=False, repr=False)
    _rt: _Runtime = attrs.field(factory=_Runtime, init=False, repr=False)

    # -- what a hardware author implements ---------------------------------------------------
    @abc.abstractmethod
    def _connect(self) -> None:
        """Open the transport to the device (apply ``self.timeout`` to it if it can)."""

    @abc.abstractmethod
    def _disconnect(self) -> None:
        """Close the transport; must work after a failed or partial connect."""

    def _encode(self, x: np.ndarray) -> np.ndarray:
        """Map validated inputs (batch, input_dim) to setpoints (batch, n_setpoints)."""
        return x.copy()

    @abc.abstractmethod
    def _apply(self, setpoints: np.ndarray) -> None:
        """Send one row of setpoints (n_setpoints,) to the device."""

    @abc.abstractmethod
    def _acquire(self) -> np.ndarray:
        """Trigger one acquisition and return its trace as a 1-D float array."""

    def _decode(self, traces: np.ndarray) -> np.ndarray:
        """Map traces (n, trace_length) to outputs (n, output_dim); vectorised."""
        return traces

    def _measure_batch(self, setpoints: np.ndarray) -> np.ndarray:
        """Optional: measure a chunk of rows (b, n_setpoints) <= ``max_batch`` in one device
        call and return traces (b, trace_length)."""
        raise NotImplementedError

    @property
    def max_batch(self) -> int:
        """Rows per ``_measure_batch`` call; 0 (default) measures row by row."""
        return 0

    @property
    def setpoint_bounds(self) -> tuple[Any, Any] | None:
        """Safety bounds ``(low, high)`` on setpoints (scalars or per-setpoint arrays), or None.
        A setpoint outside them is refused before anything is sent to the device."""
        return None

    def transient_error_types(self) -> tuple[type[BaseException], ...]:
        """Exception types that are retried: ``transient_errors`` plus timeouts and malformed
        replies. Override to add types that can only be imported lazily."""
        return (*self.transient_errors, DeviceTimeoutError, MalformedReplyError)

    @property
    def lock_key(self) -> str:
        """The string the device lock is keyed on (default: ``address``)."""
        return self.address

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """True between :meth:`open` (or the first query) and :meth:`close`."""
        return self._lock is not None

    def open(self) -> InstrumentSystem:
        """Lock the device address, open the log, connect (with retries) and take the first
        reference measurement. Idempotent; the first query opens the system automatically.
        Raises DeviceBusyError when another process holds the device."""
        if self._lock is not None:
            return self
        lock = DeviceLock(self.lock_key, self.lock_dir)
        lock.acquire()
        self._lock = lock
        try:
            if self.log_path is not None:
                self._log = JsonlAppender(self.log_path, self.log_fsync_interval).open()
                self._log.append(self._session_record())
            self._run_with_retries(lambda: None)  # connects (and retries connecting)
            if self.reference_every > 0:
                self._measure_reference()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Disconnect, close the log and release the device lock. Idempotent, never raises
        for a device that is already gone."""
        if self._rt.connected:
            self._disconnect_quietly()
        worker, self._rt.worker = self._rt.worker, None
        if worker is not None:
            worker.stop()
        log, self._log = self._log, None
        if log is not None:
            with contextlib.suppress(OSError):
                log.close()
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def __enter__(self) -> InstrumentSystem:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # -- what phyll calls --------------------------------------------------------------------
    def encode(self, x: Any) -> np.ndarray:
        """Validate ``x``, encode it and check the setpoints against the safety bounds, without
        touching the device. Returns float64 setpoints (batch, n_setpoints)."""
        return self._setpoints(self.validate_input(x))

    @property
    def last_metadata(self) -> tuple[MeasurementMeta, ...]:
        """Metadata of the rows of the most recent query, in order."""
        if self._rt.last_metadata is None:
            self._rt.last_metadata = tuple(m for c in self._rt.last_chunks for m in c.expand())
        return self._rt.last_metadata

    def status(self) -> dict[str, Any]:
        """Live facts for ``phyll probe``: address, rows measured, retries, reference
        measurements and the drift estimate (relative change of the reference output since the
        first reference, None until there are two)."""
        return {
            "address": self.address,
            "measurements": self._rt.measured,
            "retries": self._rt.retries_total,
            "reference_measurements": self._rt.references,
            "drift": self._rt.drift,
            "log": self.log_path,
        }

    def _forward(self, x: np.ndarray) -> np.ndarray:
        setpoints = self._setpoints(x)  # refuse out-of-bounds batches before connecting
        self.open()
        chunks: list[_Chunk] = []
        outputs = np.empty((x.shape[0], self.output_dim))
        chunk = max(1, self.max_batch)
        start = 0
        while start < x.shape[0]:
            if self.reference_every and self._rt.since_reference >= self.reference_every:
                self._measure_reference()
            stop = start + chunk
            if self.reference_every:
                stop = min(stop, start + self.reference_every - self._rt.since_reference)
            stop = min(stop, x.shape[0])
            y, chunk_meta = self._measure_rows(x[start:stop], setpoints[start:stop], False)
            outputs[start:stop] = y
            chunks.append(chunk_meta)
            self._rt.since_reference += stop - start
            start = stop
        self._rt.last_chunks = chunks
        self._rt.last_metadata = None
        return outputs

    # -- the runtime -------------------------------------------------------------------------
    def _setpoints(self, x: np.ndarray) -> np.ndarray:
        sp = np.asarray(self._encode(x), dtype=np.float64)
        if sp.ndim != 2 or sp.shape[0] != x.shape[0]:
            raise HardwareError(
                f"system '{self.name}': _encode returned shape {sp.shape}; expected"
                f" ({x.shape[0]}, n_setpoints)"
            )
        bounds = self.setpoint_bounds
        bad = ~np.isfinite(sp)
        low = high = None
        if bounds is not None:
            low = np.broadcast_to(np.asarray(bounds[0], dtype=np.float64), sp.shape[1:])
            high = np.broadcast_to(np.asarray(bounds[1], dtype=np.float64), sp.shape[1:])
            bad |= (sp < low) | (sp > high)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            where = (
                f"outside the safety bounds [{low[col]:g}, {high[col]:g}]"
                if low is not None and high is not None
                else "not finite"
            )
            raise SetpointOutOfBoundsError(
                f"system '{self.name}' at {self.address}: setpoint {col} of row {row} is"
                f" {sp[row, col]:g}, {where} ({int(bad.sum())} setpoints refused); nothing was"
                " sent to the device"
            )
        return sp

    def _measure_rows(
        self, x: np.ndarray, setpoints: np.ndarray, reference: bool
    ) -> tuple[np.ndarray, _Chunk]:
        """Measure a chunk (one row, or up to ``max_batch`` rows on a batching device) with
        retries, average the repeats, log every row; return the outputs and the chunk's
        metadata (expanded to MeasurementMeta objects only when asked for)."""
        timestamp = time.time()
        started = time.perf_counter()
        (mean, spread), retries = self._run_with_retries(lambda: self._acquire_rows(setpoints))
        n = x.shape[0]
        chunk = _Chunk(
            self._rt.index, n, timestamp, (time.perf_counter() - started) / n, self.repeats,
            retries, spread, reference, self._rt.drift,
        )
        self._rt.index += n
        if self._log is not None:
            kind = "reference" if reference else "measurement"
            for meta, row_in, row_out in zip(chunk.dicts(), x.tolist(), mean.tolist(), strict=True):
                record = {"type": kind, "index": meta["index"], "input": row_in, "output": row_out}
                self._log.append({**record, "meta": meta})
        if not reference:
            self._rt.measured += n
        return mean, chunk

    def _acquire_rows(self, setpoints: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Device steps for one chunk: returns the mean over repeats (b, output_dim) and the
        standard deviation over repeats (None for one repeat)."""
        n, reps = setpoints.shape[0], self.repeats
        if self.max_batch > 0:
            traces = [
                self._trace(self._call("measure", self._measure_batch, setpoints), n)
                for _ in range(reps)
            ]
        else:
            self._call("apply", self._apply, setpoints[0])
            if self.settle > 0:
                time.sleep(self.settle)
            traces = [self._trace(self._call("acquire", self._acquire), 1) for _ in range(reps)]
        self._rt.step = "decode"
        flat = traces[0] if reps == 1 else np.concatenate(traces)  # (reps * n, length)
        decoded = np.asarray(self._decode(flat), dtype=np.float64)
        if decoded.shape != (reps * n, self.output_dim):
            raise HardwareError(
                f"system '{self.name}': _decode returned shape {decoded.shape}; expected"
                f" ({reps * n}, {self.output_dim})"
            )
        if not np.isfinite(decoded).all():
            raise MalformedReplyError("the device returned NaN, inf or an overload value")
        if reps == 1:
            return decoded, None
        decoded = decoded.reshape(reps, n, self.output_dim)
        return decoded.mean(axis=0), decoded.std(axis=0)

    def _trace(self, trace: Any, rows: int) -> np.ndarray:
        """The trace(s) of ``rows`` rows as a float64 (rows, length) array."""
        try:
            arr = np.asarray(trace, dtype=np.float64)
        except (TypeError, ValueError):
            raise MalformedReplyError(f"non-numeric trace ({type(trace).__name__})") from None
        if arr.ndim == 1 and rows == 1:
            return arr[None, :]
        if arr.ndim != 2 or arr.shape[0] != rows:
            raise MalformedReplyError(f"trace of shape {arr.shape} for {rows} row(s)")
        return arr

    def _call(self, step: str, fn: Callable[..., Any], *args: Any) -> Any:
        """One device call under the timeout (see the module docstring)."""
        self._rt.step = step
        if self.hard_timeout:
            if self._rt.worker is None:
                self._rt.worker = _Worker()
            try:
                return self._rt.worker.run(fn, args, self.timeout)
            except DeviceTimeoutError:
                self._rt.worker = None  # abandon the stuck thread; a fresh one takes over
                raise
        started = time.perf_counter()
        result = fn(*args)
        elapsed = time.perf_counter() - started
        if elapsed > self.timeout:
            raise DeviceTimeoutError(
                f"the call took {elapsed:.3g} s, longer than the timeout of {self.timeout:g} s"
            )
        return result

    def _run_with_retries(self, work: Callable[[], Any]) -> tuple[Any, int]:
        """Run ``work`` (device steps), connecting first if needed. A transient error
        disconnects, waits ``backoff * 2**k`` (capped) and reconnects before the next attempt;
        after ``retries`` retries, or on any other error, raise one DeviceFailedError naming
        the device, the step and the cause. Returns (result, retries used)."""
        transient = self._rt.transient
        if transient is None:
            transient = self._rt.transient = self.transient_error_types()
        failures = 0
        while True:
            try:
                if not self._rt.connected:
                    self._call("connect", self._connect)
                    self._rt.connected = True
                return work(), failures
            except HardwareError:
                raise
            except transient as exc:
                failures += 1
                self._disconnect_quietly()
                if failures > self.retries:
                    raise self._failure(exc, failures, transient=True) from exc
                self._rt.retries_total += 1
                time.sleep(min(self.backoff * 2 ** (failures - 1), self.backoff_max))
            except Exception as exc:
                self._disconnect_quietly()
                raise self._failure(exc, failures + 1, transient=False) from exc
            except BaseException:  # Ctrl-C inside a device call: a reply may still be in flight
                self._disconnect_quietly()
                raise

    def _failure(self, exc: BaseException, attempts: int, transient: bool) -> DeviceFailedError:
        cause = " ".join(str(exc).split()) or "no message"
        cause = f"{type(exc).__name__}: {cause}"
        how = (
            f"failed after {attempts} attempts"
            if transient
            else "failed with an error that is not transient for this device (not retried)"
        )
        return DeviceFailedError(
            f"device '{self.name}' at {self.address}: step '{self._rt.step}' {how}: {cause}",
            device=self.address,
            step=self._rt.step,
            attempts=attempts,
        )

    def _disconnect_quietly(self) -> None:
        self._rt.connected = False
        with contextlib.suppress(Exception):
            self._disconnect()

    def _measure_reference(self) -> None:
        ref = self._reference_row()
        y, _ = self._measure_rows(ref, self._setpoints(ref), True)
        self._rt.references += 1
        self._rt.since_reference = 0
        if self._rt.reference_first is None:
            self._rt.reference_first = y[0]
        else:
            first = self._rt.reference_first
            norm = float(np.linalg.norm(first))
            change = float(np.linalg.norm(y[0] - first))
            self._rt.drift = change / norm if norm > 0 else change

    def _reference_row(self) -> np.ndarray:
        if self.reference_input is not None:
            return self.validate_input(self.reference_input.reshape(1, -1))
        rng = np.random.default_rng(REFERENCE_SEED)
        return self.domain.sample(rng, (1, self.input_dim))

    def _session_record(self) -> dict[str, Any]:
        return {
            "type": "session",
            "system": self.name,
            "address": self.address,
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "params": {k: v for k, v in self.params.items() if _jsonable(v)},
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.time(),
        }


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


RUNTIME_PARAMS: tuple[Param, ...] = (
    Param("timeout", "float", 5.0, "seconds allowed for every device call", low=1e-6),
    Param("settle", "float", 0.0, "seconds to wait after applying setpoints", low=0.0),
    Param("retries", "int", 3, "retries after a transient device error", low=0),
    Param("backoff", "float", 0.05, "first retry delay in seconds (doubles each retry)", low=0.0),
    Param("repeats", "int", 1, "acquisitions averaged per measurement", low=1),
    Param(
        "reference_every", "int", 0, "re-measure the reference input every N rows (0: off)", low=0
    ),
    Param("log", "str", "", "append every measurement to this JSON-lines log ('' = no log)"),
    Param("hard_timeout", "bool", False, "abandon device calls at the timeout on a worker thread"),
)
"""Parameters of the runtime options, for a plugin's SystemSpec: ``(*my_params,
*RUNTIME_PARAMS)`` and pass ``**runtime_options(values)`` to the system."""


def runtime_options(values: dict[str, Any]) -> dict[str, Any]:
    """Pick the runtime options out of resolved parameter ``values`` (see RUNTIME_PARAMS) as
    keyword arguments of :class:`InstrumentSystem`; ``log`` becomes ``log_path``."""
    out = {p.name: values[p.name] for p in RUNTIME_PARAMS if p.name in values}
    if "log" in out:
        out["log_path"] = out.pop("log")
    return out
