"""Device calls under a deadline, with retries: the part of the runtime that talks to the device.

:class:`DeviceCalls` is a mixin of :class:`~phyll_core.hardware.instrument.InstrumentSystem`.
Every device step runs through :meth:`DeviceCalls._call` (one ``timeout`` per call, enforced by
the transport through :meth:`DeviceCalls.call_time_left`, or by a worker thread with
``hard_timeout``) inside :meth:`DeviceCalls._run_with_retries` (connect when needed; on a
transient error disconnect, back off, reconnect and try again; then one
:class:`~phyll_core.hardware.errors.DeviceOutageError`, or at once a
:class:`~phyll_core.hardware.errors.DeviceFailedError` for a non-transient error).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from phyll_core.errors import HardwareError
from phyll_core.hardware.errors import DeviceFailedError, DeviceOutageError, DeviceTimeoutError
from phyll_core.hardware.meta import RuntimeState
from phyll_core.hardware.worker import CallWorker


class DeviceCalls:
    """Deadline, retry and failure handling of device calls (see the module docstring). The
    host class provides the attributes and device steps declared here."""

    __slots__ = ()

    name: str
    address: str
    timeout: float
    retries: int
    backoff: float
    backoff_max: float
    hard_timeout: bool
    _rt: RuntimeState

    def _connect(self) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        raise NotImplementedError

    def transient_error_types(self) -> tuple[type[BaseException], ...]:
        raise NotImplementedError

    def call_time_left(self) -> float:
        """Seconds left before the deadline of the device call in progress (each call gets
        ``timeout`` seconds); raises DeviceTimeoutError when none is left. A transport that
        reads in pieces bounds the whole read by it."""
        left = self._rt.deadline - time.monotonic()
        if left <= 0:
            raise DeviceTimeoutError(f"no complete answer within the timeout of {self.timeout:g} s")
        return left

    def _call(self, step: str, fn: Callable[..., Any], *args: Any) -> Any:
        """One device call under the timeout (see the module docstring)."""
        self._rt.step = step
        started = time.monotonic()
        self._rt.deadline = started + self.timeout
        if self.hard_timeout:
            if self._rt.worker is None:
                self._rt.worker = CallWorker()
            try:
                return self._rt.worker.run(fn, args, self.timeout)
            except DeviceTimeoutError:
                self._rt.worker = None  # abandon the stuck thread; a fresh one takes over
                raise
        result = fn(*args)
        elapsed = time.monotonic() - started
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
                self._disconnect_quietly()  # e.g. a refused identity: close the partial connect
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
        kind = DeviceOutageError if transient else DeviceFailedError
        return kind(
            f"device '{self.name}' at {self.address}: step '{self._rt.step}' {how}: {cause}",
            device=self.address,
            step=self._rt.step,
            attempts=attempts,
        )

    def _disconnect_quietly(self) -> None:
        self._rt.connected = False
        with contextlib.suppress(Exception):
            self._disconnect()
