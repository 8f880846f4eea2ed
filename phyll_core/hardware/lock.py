"""Exclusive, cross-process locks on device addresses (``flock`` on a lock file).

Two processes must never drive the same instrument. :class:`DeviceLock` takes an exclusive,
non-blocking ``flock`` on a file named after the device address in the lock folder
(``$PHYLL_LOCK_DIR``, default ``<tmp>/phyll-locks``) and writes the holder's pid, host and start
time into it. A second process (or a second open file in the same process) fails at once with a
:class:`~phyll_core.hardware.errors.DeviceBusyError` naming the holder. The operating system
releases the lock when the holder exits, even after ``kill -9``, so no stale lock can remain.
POSIX only (Linux, macOS): on other platforms acquiring raises a HardwareError.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from phyll_core.errors import HardwareError
from phyll_core.hardware.errors import DeviceBusyError

ENV_LOCK_DIR = "PHYLL_LOCK_DIR"


def default_lock_dir() -> Path:
    """``$PHYLL_LOCK_DIR`` if set, else ``<system temp>/phyll-locks`` (shared by all users)."""
    env = os.environ.get(ENV_LOCK_DIR)
    return Path(env) if env else Path(tempfile.gettempdir()) / "phyll-locks"


def lock_file_name(address: str) -> str:
    """A file name unique to ``address``: a readable slug plus a hash of the exact address."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", address).strip("_")[:60] or "device"
    digest = hashlib.sha256(address.encode("utf-8")).hexdigest()[:12]
    return f"{slug}-{digest}.lock"


class DeviceLock:
    """An exclusive lock on one device address; use :meth:`acquire` / :meth:`release` or
    ``with DeviceLock(address): ...``. Not re-entrant: acquiring twice raises."""

    def __init__(self, address: str, lock_dir: str | os.PathLike[str] | None = None) -> None:
        self.address = address
        self.path = Path(lock_dir) if lock_dir is not None else default_lock_dir()
        self.path = self.path / lock_file_name(address)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise DeviceBusyError naming the current holder."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            raise HardwareError(
                "device locks need POSIX file locking (fcntl); this platform has none"
            ) from None
        if self._fd is not None:
            raise HardwareError(f"lock on device '{self.address}' is already held by this object")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # let other users lock devices too (sticky, like /tmp)
            os.chmod(self.path.parent, 0o1777)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DeviceBusyError(
                f"device '{self.address}' is in use by {self.describe_holder()}; two processes"
                " must not drive the same instrument (lock file"
                f" {self.path})"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "address": self.address,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        self._fd = fd

    def release(self) -> None:
        """Release the lock (a no-op when not held). The file stays, emptied."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor drops the flock

    def holder(self) -> dict[str, Any] | None:
        """The holder's pid, host and start time as written in the lock file, if readable."""
        for _ in range(5):  # the holder writes right after locking: retry an empty read briefly
            try:
                text = self.path.read_text(encoding="utf-8")
            except OSError:
                return None
            if text.strip():
                try:
                    data = json.loads(text)
                except ValueError:
                    return None
                return data if isinstance(data, dict) else None
            time.sleep(0.01)
        return None

    def describe_holder(self) -> str:
        """``process 123 on host lab-pc (since ...)``, marking this process, or a fallback."""
        info = self.holder()
        if not info:
            return "another process (holder unknown)"
        pid, host = info.get("pid"), info.get("host")
        mine = " (this process)" if pid == os.getpid() and host == socket.gethostname() else ""
        return f"process {pid}{mine} on host {host} since {info.get('since', '?')}"

    def __enter__(self) -> DeviceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.release()
