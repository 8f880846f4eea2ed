"""Session of an instrument: the device locks, the measurement log and the connection, from
:meth:`~DeviceSession.open` to :meth:`~DeviceSession.close` (also as a context manager).

:class:`DeviceSession` is a mixin of :class:`~phyll_core.hardware.instrument.InstrumentSystem`:
the device is locked by its normalised address (``lock_key``) and, once connected, by the
identity it reports (:meth:`DeviceSession.claim_identity`), so that one instrument has one
owner across processes however it is reached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from phyll_core.errors import HardwareError
from phyll_core.hardware.lock import DeviceLock, identity_key
from phyll_core.hardware.log import JsonlAppender
from phyll_core.hardware.meta import RuntimeState


class DeviceSession:
    """Locks, log and connection of an instrument (see the module docstring). The host class
    provides the attributes and steps declared here."""

    address: str
    lock_dir: str | None
    log_path: str | None
    log_fsync_interval: float
    reference_every: int
    _lock: DeviceLock | None
    _id_lock: DeviceLock | None
    _log: JsonlAppender | None
    _rt: RuntimeState

    if TYPE_CHECKING:  # provided by the host class and DeviceCalls (never shadowed here)

        @property
        def lock_key(self) -> str: ...

        def _run_with_retries(self, work: Callable[[], Any]) -> tuple[Any, int]: ...

        def _disconnect_quietly(self) -> None: ...

        def _measure_reference(self) -> None: ...

        def _session_record(self) -> dict[str, Any]: ...

    # -- what a device step may call ---------------------------------------------------------
    def claim_identity(self, identity: str) -> None:
        """Lock the device also by the identity it reports (e.g. its ``*IDN?`` answer: maker,
        model, serial number), so that one instrument reached through two addresses still has
        one owner. Call it from ``_connect`` right after reading the identity and before any
        command that changes the device's state: a refused process then changed nothing.
        Raises DeviceBusyError when another process holds that identity, HardwareError when a
        reconnect finds a different identity than the first connect (another instrument now
        answers at the address)."""
        key = identity_key(identity)
        if not key:
            return
        held = self._id_lock
        if held is not None:
            if held.address != key:
                raise HardwareError(
                    f"device at {self.address} now identifies as {identity.strip()!r}, not as"
                    f" {held.label!r} when it was opened: another instrument answers there"
                )
            return
        lock = DeviceLock(key, self.lock_dir, label=identity.strip())
        lock.acquire()
        self._id_lock = lock

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """True between :meth:`open` (or the first query) and :meth:`close`."""
        return self._lock is not None

    def open(self) -> Self:
        """Lock the device address, open the log, connect (with retries) and take the first
        reference measurement. Idempotent; the first query opens the system automatically.
        Raises DeviceBusyError when another process holds the device (its address or, once
        connected, its identity)."""
        if self._lock is not None:
            return self
        lock = DeviceLock(self.lock_key, self.lock_dir, label=self.address)
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
        for name in ("_id_lock", "_lock"):
            lock = getattr(self, name)
            setattr(self, name, None)
            if lock is not None:
                lock.release()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
