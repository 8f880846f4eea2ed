"""Exclusive, cross-process locks on devices (``flock`` on a lock file).

Two processes must never drive the same instrument. :class:`DeviceLock` takes an exclusive,
non-blocking ``flock`` on a file named after a device key (a normalised address, or
:func:`identity_key` of the identity the device reports) in the lock folder and writes the
holder's pid, host and start time into it. A second process (or a second open file in the same
process) fails at once with a :class:`~phyll_core.hardware.errors.DeviceBusyError` naming the
holder. The operating system releases the lock when the holder exits, even after ``kill -9``, so
no stale lock can remain. POSIX only (Linux, macOS): on other platforms acquiring raises a
HardwareError.

The lock folder (:func:`default_lock_dir`) is ``$PHYLL_LOCK_DIR`` if set, else a per-user
folder. A folder not owned by the user or by root, or writable by others without the sticky
bit, is refused (anyone who can replace its files can defeat the locks); lock files are opened
with ``O_NOFOLLOW`` (a planted symbolic link is refused, never followed) and must be regular
files. To share locks between users (several people driving the same lab instruments), an
administrator creates a root-owned sticky folder (``install -d -m 1777 /var/lock/phyll``) and
everyone sets ``PHYLL_LOCK_DIR`` to it; lock files in such a folder are made readable and
writable by all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from phyll_core.errors import HardwareError
from phyll_core.hardware.errors import DeviceBusyError

ENV_LOCK_DIR = "PHYLL_LOCK_DIR"


def default_lock_dir() -> Path:
    """``$PHYLL_LOCK_DIR`` if set; else ``$XDG_RUNTIME_DIR/phyll-locks`` when that per-user
    runtime folder exists; else ``<system temp>/phyll-locks-<uid>``. The per-user defaults are
    created with mode 0700; a predictable path taken by someone else is refused, see
    :func:`check_lock_dir`."""
    env = os.environ.get(ENV_LOCK_DIR)
    if env:
        return Path(env)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "phyll-locks"
    return Path(tempfile.gettempdir()) / f"phyll-locks-{_uid()}"


def _uid() -> int:
    getuid = getattr(os, "geteuid", None)
    return int(getuid()) if getuid is not None else 0


def check_lock_dir(path: Path) -> None:
    """Create ``path`` (mode 0700) if missing; raise HardwareError when it is not a folder, is
    owned by someone other than this user or root, or is writable by others without the sticky
    bit (whoever can replace its lock files can defeat the locks)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except OSError as exc:
        raise HardwareError(f"cannot use the lock folder {path}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise HardwareError(f"lock folder {path} is not a folder")
    uid = _uid()
    if info.st_uid not in (uid, 0):
        raise HardwareError(
            f"lock folder {path} belongs to user id {info.st_uid}, not to you ({uid}) or root:"
            f" refusing it (set {ENV_LOCK_DIR} to a folder of your own)"
        )
    shared = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if shared and not info.st_mode & stat.S_ISVTX:
        raise HardwareError(
            f"lock folder {path} is writable by other users and not sticky (mode"
            f" {stat.S_IMODE(info.st_mode):o}): anyone could replace its lock files; use"
            " chmod 700 (private) or 1777 (shared)"
        )


def identity_key(identity: str) -> str:
    """The lock key of a device identity: for an IEEE 488.2 ``*IDN?`` answer
    (``maker,model,serial,firmware``) the maker, model and serial number, case-folded and
    stripped (the firmware version is ignored); '' for an empty identity."""
    fields = [f.strip().casefold() for f in identity.strip().split(",")]
    if len(fields) >= 4:
        fields = fields[:3]
    text = ",".join(fields)
    return f"IDN::{text}" if text.strip(",") else ""


def lock_file_name(address: str) -> str:
    """A file name unique to ``address``: a readable slug plus a hash of the exact address."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", address).strip("_")[:60] or "device"
    digest = hashlib.sha256(address.encode("utf-8")).hexdigest()[:12]
    return f"{slug}-{digest}.lock"


class DeviceLock:
    """An exclusive lock on one device key (``address``); use :meth:`acquire` /
    :meth:`release` or ``with DeviceLock(address): ...``. ``label`` names the device in
    messages (default: the key). Not re-entrant: acquiring twice raises."""

    def __init__(
        self,
        address: str,
        lock_dir: str | os.PathLike[str] | None = None,
        label: str | None = None,
    ) -> None:
        self.address = address
        self.label = label if label is not None else address
        self.folder = Path(lock_dir) if lock_dir is not None else default_lock_dir()
        self.path = self.folder / lock_file_name(address)
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
            raise HardwareError(f"lock on device '{self.label}' is already held by this object")
        check_lock_dir(self.folder)
        fd, writable = self._open_file()
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise HardwareError(f"lock file {self.path} is not a regular file; refusing it")
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DeviceBusyError(
                f"device '{self.label}' is in use by {self.describe_holder()}; two processes"
                " must not drive the same instrument (lock file"
                f" {self.path})"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        if not writable:  # another user's file in a shared folder: locked, holder not recorded
            self._fd = fd
            return
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "address": self.address,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        self._fd = fd

    def _open_file(self) -> tuple[int, bool]:
        """Open (or create) the lock file without following a symbolic link; return the
        descriptor and whether it is writable."""
        flags = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        for _ in range(10):
            try:
                try:
                    return os.open(self.path, os.O_RDWR | flags), True
                except PermissionError:  # another user's lock file: flock works read-only too
                    return os.open(self.path, os.O_RDONLY | flags), False
                except FileNotFoundError:
                    fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | flags, 0o600)
                    if self.folder.stat().st_mode & stat.S_IWOTH:  # shared folder
                        os.fchmod(fd, 0o666)
                    return fd, True
            except FileExistsError:
                continue  # created by another process between the two opens: open it
            except OSError as exc:
                if os.path.islink(self.path):
                    raise HardwareError(
                        f"lock file {self.path} is a symbolic link; refusing to follow it"
                        " (remove it if you did not create it)"
                    ) from None
                raise HardwareError(f"cannot open the lock file {self.path}: {exc}") from None
        raise HardwareError(f"cannot open the lock file {self.path}: it keeps changing")

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
                fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
                try:
                    text = os.read(fd, 65536).decode("utf-8", "replace")
                finally:
                    os.close(fd)
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
