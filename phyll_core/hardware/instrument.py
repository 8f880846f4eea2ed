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

Everything that is the same for every instrument lives here and in its mixins: open/close and a
context manager, exclusive cross-process locks on the device (its normalised address, see
``lock_key``, and the identity it reports, see :meth:`InstrumentSystem.claim_identity`; both in
:mod:`phyll_core.hardware.session`), settle time, a timeout on
every device call, retries with exponential backoff on transient errors (then one clear
:class:`~phyll_core.hardware.errors.DeviceFailedError`, a
:class:`~phyll_core.hardware.errors.DeviceOutageError` when the device stopped answering),
``repeats`` averaging with the spread in the metadata, safety bounds on setpoints (checked for
the whole batch before anything reaches the device) and output bounds on replies
(:mod:`phyll_core.hardware.bounds`), periodic reference measurements with a drift estimate,
metadata for every measurement (:mod:`phyll_core.hardware.meta`), and a crash-safe measurement
log reusable as twin training pairs.

Physical controls (docs/in-situ.md): a subclass that declares ``controls`` (a
:class:`~phyll_core.system.Controls`) gets ``get_controls``/``set_controls`` for free. The
controls become extra setpoints, ``_control_setpoints(theta)`` (default: ``theta``), appended
to every row's setpoints: they are checked against ``setpoint_bounds`` with the rest of the row
(already when set: a refused setting changes nothing and sends nothing), reach the device only
through ``_apply``/``_measure_batch`` while the device lock is held, and are written to the log
with each measurement. ``initial_controls()`` gives the setting before the first
``set_controls`` (default: the low end of the domain, 0 for bits).

Timeouts: every device call runs under ``timeout`` seconds. By default the transport enforces
it: the subclass passes ``self.timeout`` to its driver in ``_connect`` and bounds every read by
:meth:`InstrumentSystem.call_time_left` (the VISA transport does both), and a call that returns
late counts as timed out. With ``hard_timeout=True`` every call runs on a worker thread
(:mod:`phyll_core.hardware.worker`) and is abandoned at its deadline even if the driver hangs
(about 0.1 ms more per call).
"""

from __future__ import annotations

import abc
import time
from typing import Any, ClassVar

import attrs
import numpy as np

from phyll_core.errors import HardwareError
from phyll_core.hardware.bounds import check_outputs, check_setpoints
from phyll_core.hardware.calls import DeviceCalls
from phyll_core.hardware.control_setpoints import ControlSetpoints
from phyll_core.hardware.errors import (
    DeviceFailedError,
    DeviceTimeoutError,
    MalformedReplyError,
)
from phyll_core.hardware.lock import DeviceLock
from phyll_core.hardware.log import JsonlAppender
from phyll_core.hardware.meta import (
    ChunkMeta,
    MeasurementMeta,
    RuntimeState,
    relative_change,
    session_record,
)
from phyll_core.hardware.options import (
    OUTPUT_LIMIT,
    non_negative,
    optional_array,
    optional_path,
    positive,
)
from phyll_core.hardware.session import DeviceSession
from phyll_core.system import PhysicalSystem

REFERENCE_SEED = 20231117  # seed of the default reference input (any fixed value would do)


@attrs.define(kw_only=True, eq=False)
class InstrumentSystem(ControlSetpoints, PhysicalSystem, DeviceCalls, DeviceSession):
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
    ``lock_dir`` folder of the lock files (default: ``$PHYLL_LOCK_DIR`` or a per-user folder,
    see :func:`~phyll_core.hardware.lock.default_lock_dir`);
    ``hard_timeout`` run device calls on a worker thread abandoned at the deadline.

    Subclasses declare ``transient_errors`` (exception types worth a retry; timeouts and
    :class:`MalformedReplyError` always are), ``setpoint_bounds``, ``output_bounds`` and
    ``max_batch``.
    """

    transient_errors: ClassVar[tuple[type[BaseException], ...]] = ()

    address: str = attrs.field(validator=attrs.validators.instance_of(str))
    timeout: float = attrs.field(default=5.0, validator=positive)
    settle: float = attrs.field(default=0.0, validator=non_negative)
    retries: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    backoff: float = attrs.field(default=0.05, validator=non_negative)
    backoff_max: float = attrs.field(default=2.0, validator=non_negative)
    repeats: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    reference_every: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    reference_input: np.ndarray | None = attrs.field(default=None, converter=optional_array)
    log_path: str | None = attrs.field(default=None, converter=optional_path)
    log_fsync_interval: float = attrs.field(default=1.0, validator=non_negative)
    lock_dir: str | None = attrs.field(default=None, converter=optional_path)
    hard_timeout: bool = False

    _lock: DeviceLock | None = attrs.field(default=None, init=False, repr=False)
    _id_lock: DeviceLock | None = attrs.field(default=None, init=False, repr=False)
    _log: JsonlAppender | None = attrs.field(default=None, init=False, repr=False)
    _rt: RuntimeState = attrs.field(factory=RuntimeState, init=False, repr=False)
    _control_values: np.ndarray | None = attrs.field(default=None, init=False, repr=False)

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
    def noisy(self) -> bool:
        """A measured device is noisy (override with ``False`` only for a device that returns
        the same reading for the same setpoints, e.g. a deterministic emulator)."""
        return True

    @property
    def setpoint_bounds(self) -> tuple[Any, Any] | None:
        """Safety bounds ``(low, high)`` on setpoints (scalars or per-setpoint arrays), or None.
        A setpoint outside them is refused before anything is sent to the device."""
        return None

    @property
    def output_bounds(self) -> tuple[Any, Any]:
        """Bounds ``(low, high)`` on decoded outputs (scalars or per-output arrays); default
        ``|v| <= 1e12``. An output outside them, or not finite, is a malformed reply (retried)."""
        return (-OUTPUT_LIMIT, OUTPUT_LIMIT)

    def transient_error_types(self) -> tuple[type[BaseException], ...]:
        """Exception types that are retried: ``transient_errors`` plus timeouts and malformed
        replies. Override to add types that can only be imported lazily."""
        return (*self.transient_errors, DeviceTimeoutError, MalformedReplyError)

    @property
    def lock_key(self) -> str:
        """The string the device lock is keyed on: one key per device, whatever the spelling of
        its address (default: ``address`` stripped; the VISA transport resolves host names and
        normalises the resource string)."""
        return self.address.strip()

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
        chunks: list[ChunkMeta] = []
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
            try:
                y, chunk_meta = self._measure_rows(x[start:stop], setpoints[start:stop], False)
            except DeviceFailedError as exc:  # hand over the rows measured so far
                exc.completed, exc.partial_outputs = start, outputs[:start].copy()
                raise
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
        sp = self._with_controls(sp)
        check_setpoints(sp, self.setpoint_bounds, f"system '{self.name}' at {self.address}")
        return sp

    def _measure_rows(
        self, x: np.ndarray, setpoints: np.ndarray, reference: bool
    ) -> tuple[np.ndarray, ChunkMeta]:
        """Measure a chunk (one row, or up to ``max_batch`` rows on a batching device) with
        retries, average the repeats, log every row; return the outputs and the chunk's
        metadata (expanded to MeasurementMeta objects only when asked for)."""
        timestamp = time.time()
        started = time.perf_counter()
        (mean, spread), retries = self._run_with_retries(lambda: self._acquire_rows(setpoints))
        n = x.shape[0]
        chunk = ChunkMeta(
            self._rt.index, n, timestamp, (time.perf_counter() - started) / n, self.repeats,
            retries, spread, reference, self._rt.drift,
        )
        self._rt.index += n
        if self._log is not None:
            kind = "reference" if reference else "measurement"
            for meta, row_in, row_out in zip(chunk.dicts(), x.tolist(), mean.tolist(), strict=True):
                record = {"type": kind, "index": meta["index"], "input": row_in, "output": row_out}
                if self.controls is not None:
                    record["controls"] = self._get_controls().tolist()
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
        check_outputs(decoded, self.output_bounds)
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

    def _measure_reference(self) -> None:
        ref = self._reference_row()
        y, _ = self._measure_rows(ref, self._setpoints(ref), True)
        self._rt.references += 1
        self._rt.since_reference = 0
        if self._rt.reference_first is None:
            self._rt.reference_first = y[0]
        else:
            self._rt.drift = relative_change(self._rt.reference_first, y[0])

    def _reference_row(self) -> np.ndarray:
        if self.reference_input is not None:
            return self.validate_input(self.reference_input.reshape(1, -1))
        rng = np.random.default_rng(REFERENCE_SEED)
        return self.domain.sample(rng, (1, self.input_dim))

    def _session_record(self) -> dict[str, Any]:
        return session_record(self.name, self.address, self.input_dim, self.output_dim, self.params)
