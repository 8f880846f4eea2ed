"""The PyVISA transport of :mod:`phyll_core.hardware.visa`: resource managers, resource names,
device keys for the lock, TCP_NODELAY and bounded reads.

- :func:`canonical_resource` / :func:`device_key`: one key per device whatever the spelling of
  its resource string: classes and interface names in any case, board numbers, host names
  (resolved to an address, IPv4 first), USB ids in hex or decimal.
- :func:`read_reply`: read one reply of at most ``max_bytes`` bytes, the whole read bounded by a
  deadline (a device that trickles a reply byte by byte, or sends one without end, is cut off).

PyVISA is imported only when one of these is called.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

from phyll_core.errors import HardwareError
from phyll_core.hardware.errors import DeviceTimeoutError, MalformedReplyError

_CLASSES = ("INSTR", "SOCKET", "INTFC", "BACKPLANE", "SERVANT", "RAW", "MEMACC")
_CHUNK = 65536


_MANAGERS: dict[str, Any] = {}
_MANAGERS_LOCK = threading.Lock()


def _pyvisa() -> Any:
    try:
        import pyvisa
    except ImportError:
        raise HardwareError(
            "VISA instruments need PyVISA: pip install 'phyll-core[visa]' (pyvisa, pyvisa-py)"
        ) from None
    return pyvisa


def resource_manager(library: str = "@py") -> Any:
    """The process-wide PyVISA ResourceManager of ``library`` (created on first use)."""
    with _MANAGERS_LOCK:
        if library not in _MANAGERS:
            try:
                _MANAGERS[library] = _pyvisa().ResourceManager(library)
            except (OSError, ValueError) as exc:
                raise HardwareError(f"cannot load the VISA library '{library}': {exc}") from None
        return _MANAGERS[library]


def _parse(resource: str) -> Any:
    _pyvisa()
    from pyvisa import rname

    parts = resource.strip().split("::")
    head = parts[0]
    letters = len(head) - len(head.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    parts[0] = head[:letters].upper() + head[letters:]  # tcpip0 -> TCPIP0, keep ASRL paths
    if parts[-1].upper() in _CLASSES:
        parts[-1] = parts[-1].upper()
    try:
        return rname.parse_resource_name("::".join(parts))
    except rname.InvalidResourceName as exc:
        raise HardwareError(f"invalid VISA resource string {resource!r}: {exc}") from None


def canonical_resource(resource: str) -> str:
    """The canonical form of a VISA resource string (board numbers filled in, interface and
    class names upper case); HardwareError when it does not parse."""
    return str(_parse(resource))


def resolve_host(host: str) -> str:
    """The address ``host`` resolves to (the lowest IPv4 address, else the lowest IPv6 one);
    the lower-cased name itself when it does not resolve (connecting will fail then)."""
    name = host.strip().strip("[]").lower()
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return name
    v4 = sorted({str(i[4][0]) for i in infos if i[0] == socket.AF_INET})
    v6 = sorted({str(i[4][0]) for i in infos if i[0] == socket.AF_INET6})
    return (v4 or v6 or [name])[0]


def device_key(resource: str) -> str:
    """The lock key of the device at ``resource``: equal for every spelling of one device.

    TCPIP resources drop the board number and resolve the host (``TCPIP::localhost::5025::
    SOCKET`` and ``tcpip0::127.0.0.1::5025::socket`` are one device); USB resources compare ids
    as numbers and serial numbers in any case, without the board; other resources use the
    canonical form, upper case (serial-port paths keep their case)."""
    parsed = _parse(resource)
    kind = type(parsed).__name__
    if kind == "TCPIPSocket":
        return f"TCPIP::{resolve_host(parsed.host_address)}::{int(parsed.port)}::SOCKET"
    if kind == "TCPIPInstr":
        host = resolve_host(parsed.host_address)
        return f"TCPIP::{host}::{parsed.lan_device_name.lower()}::INSTR"
    if kind in ("USBInstr", "USBRaw"):
        ids = f"{int(parsed.manufacturer_id, 0)}::{int(parsed.model_code, 0)}"
        cls = "INSTR" if kind == "USBInstr" else "RAW"
        return f"USB::{ids}::{parsed.serial_number.upper()}::{parsed.usb_interface_number}::{cls}"
    text = str(parsed)
    return text if parsed.interface_type == "ASRL" else text.upper()


def set_tcp_nodelay(resource: Any) -> bool:
    """Disable Nagle's algorithm on a ``TCPIP::...::SOCKET`` resource; return True if done.

    NI-VISA does this by default. pyvisa-py (0.8) leaves Nagle on and refuses the
    ``VI_ATTR_TCPIP_NODELAY`` attribute, so back-to-back small writes (setpoints, then the
    trigger) wait for the instrument's delayed ACK: about 40 ms per measurement on Linux. We try
    the attribute first and fall back to pyvisa-py's socket. Other resources are left alone.
    """
    if not str(getattr(resource, "resource_name", "")).upper().endswith("::SOCKET"):
        return False
    constants = _pyvisa().constants
    with contextlib.suppress(Exception):
        resource.set_visa_attribute(constants.VI_ATTR_TCPIP_NODELAY, constants.VI_TRUE)
        if resource.get_visa_attribute(constants.VI_ATTR_TCPIP_NODELAY):
            return True
    try:  # pyvisa-py: the session object holds the socket as ``interface``
        sock = resource.visalib.sessions[resource.session].interface
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, KeyError, TypeError, OSError):
        return False
    return True


def read_reply(
    resource: Any, time_left: Callable[[], float], max_bytes: int, termination: str
) -> str:
    """Read one reply (without its termination) from an open PyVISA message resource.

    ``time_left()`` returns the seconds left for the whole read and raises DeviceTimeoutError
    when none are left; a reply longer than ``max_bytes`` raises MalformedReplyError (the
    caller reconnects, which discards the rest). Over pyvisa-py's raw sockets the socket is read
    directly (pyvisa-py restarts its timeout whenever a byte arrives); other sessions read in
    chunks with the VISA timeout set to the time left."""
    term = termination.encode("ascii")
    session = _socket_session(resource) if term else None  # no terminator: let VISA find END
    if session is not None:
        data = _read_socket(session, time_left, max_bytes, term)
    else:
        data = _read_chunks(resource, time_left, max_bytes, term)
    return data.decode("ascii", "replace")


def _socket_session(resource: Any) -> Any:
    """pyvisa-py's session of a ``TCPIP::...::SOCKET`` resource, if it has the expected parts."""
    if not str(getattr(resource, "resource_name", "")).upper().endswith("::SOCKET"):
        return None
    try:
        session = resource.visalib.sessions[resource.session]
    except (AttributeError, KeyError, TypeError):
        return None
    buffered = isinstance(getattr(session, "_pending_buffer", None), bytearray)
    ok = buffered and isinstance(getattr(session, "interface", None), socket.socket)
    return session if ok else None


def _too_long(max_bytes: int) -> MalformedReplyError:
    return MalformedReplyError(
        f"reply longer than max_reply = {max_bytes} bytes (no termination character in time)"
    )


def _read_socket(
    session: Any, time_left: Callable[[], float], max_bytes: int, term: bytes
) -> bytes:
    pending: bytearray = session._pending_buffer
    sock: socket.socket = session.interface
    buf = bytearray(pending)
    pending.clear()
    searched = 0
    while True:
        at = buf.find(term, max(0, searched - len(term) + 1)) if term else -1
        if at >= 0:
            if at > max_bytes:
                raise _too_long(max_bytes)
            pending.extend(buf[at + len(term):])  # the start of a next reply stays buffered
            return bytes(buf[:at])
        if len(buf) > max_bytes:
            raise _too_long(max_bytes)
        searched = len(buf)
        ready, _, _ = select.select([sock], [], [], time_left())
        if not ready:
            continue  # time_left() raises at the deadline
        chunk = sock.recv(_CHUNK)
        if not chunk:
            raise ConnectionResetError("the device closed the connection in the middle of a reply")
        buf += chunk


def _read_chunks(
    resource: Any, time_left: Callable[[], float], max_bytes: int, term: bytes
) -> bytes:
    saved = resource.timeout
    try:
        return _read_chunks_until(resource, time_left, max_bytes, term)
    finally:
        with contextlib.suppress(Exception):
            resource.timeout = saved


def _read_chunks_until(
    resource: Any, time_left: Callable[[], float], max_bytes: int, term: bytes
) -> bytes:
    pyvisa = _pyvisa()
    buf = bytearray()
    while True:
        resource.timeout = max(1, int(time_left() * 1000))
        try:
            chunk, status = resource.visalib.read(resource.session, min(_CHUNK, max_bytes + 1))
        except pyvisa.errors.VisaIOError as exc:
            if exc.error_code == pyvisa.constants.StatusCode.error_timeout:
                raise DeviceTimeoutError(f"no complete reply in time ({len(buf)} bytes)") from None
            raise
        buf += chunk
        if term and buf.endswith(term):
            buf = buf[: -len(term)]
            if len(buf) > max_bytes:
                raise _too_long(max_bytes)
            return bytes(buf)
        if len(buf) > max_bytes:
            raise _too_long(max_bytes)
        if status != pyvisa.constants.StatusCode.success_max_count_read:
            return bytes(buf)  # ended by END/EOI without the termination character
