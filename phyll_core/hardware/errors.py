"""Error types of the hardware runtime.

Errors a user sees are :class:`~phyll_core.errors.HardwareError` subclasses (one line in the
CLI). :class:`DeviceTimeoutError` and :class:`MalformedReplyError` are raised *inside* device
steps and are always treated as transient: the runtime retries them and, when the retries are
exhausted, raises one :class:`DeviceFailedError` naming the device, the step and the cause.
"""

from __future__ import annotations

from typing import Any

from phyll_core.errors import HardwareError


class DeviceBusyError(HardwareError):
    """The device address is locked by another process (or another object of this one)."""


class SetpointOutOfBoundsError(HardwareError, ValueError):
    """An encoded setpoint lies outside the safety bounds the instrument declares; nothing was
    sent to the device."""


class DeviceFailedError(HardwareError):
    """A device step kept failing after every retry, or failed with a non-transient error.

    ``device``, ``step`` and ``attempts`` name what failed. ``completed`` is the number of
    leading rows of the failed query that were measured before the failure and
    ``partial_outputs`` their outputs (``completed`` rows; they are also in the measurement
    log): work done before an outage is never lost. Rows of earlier queries are unaffected.
    """

    def __init__(self, message: str, *, device: str, step: str, attempts: int) -> None:
        super().__init__(message)
        self.device, self.step, self.attempts = device, step, attempts
        self.completed = 0
        self.partial_outputs: Any = None


class DeviceOutageError(DeviceFailedError):
    """The device stopped answering: transient errors (refused or dropped connections,
    timeouts, malformed or out-of-range replies) went on through every retry. The instrument is
    down or unreachable; a caller that keeps state (a training run, ``phyll record``) should
    save its last good state and tell the user how to resume once the device is back."""


class DeviceTimeoutError(TimeoutError):
    """A device call exceeded the runtime's timeout (transient: retried after reconnecting)."""


class MalformedReplyError(ValueError):
    """A device reply could not be parsed (wrong count, non-numeric text); transient."""


class RecordError(HardwareError):
    """``phyll record`` cannot proceed: output exists, or the progress file belongs to another
    run (different system, parameters, seed or sample count)."""
