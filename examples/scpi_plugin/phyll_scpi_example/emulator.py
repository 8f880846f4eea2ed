"""A small SCPI instrument emulator: a real TCP socket server on 127.0.0.1.

It serves the example instrument of :mod:`phyll_scpi_example.response` the way a lab
instrument's raw SCPI socket does (one command per line, ``;`` separates commands, replies end
with a newline), and can misbehave on purpose: a delay per acquisition, and with probability
``fault_rate`` a data query answered by a fault: ``timeout`` (the reply is held back for
``hang`` seconds, then the connection is dropped), ``drop`` (the connection is closed without a
reply), ``malformed`` (a corrupted reply), and, when asked for by ``faults``, ``trickle`` (the
reply is sent one byte every ``trickle`` seconds), ``endless`` (digits without end, no newline,
until the client hangs up; at most 256 MiB) or ``outlier`` (one value is 1e308).
``die_after`` makes the instrument go down for good after that many acquisitions (connections
are closed and new ones refused). ``*IDN?`` answers ``phyll,SCPI-EMULATOR,SERIAL,1.0`` with
``serial`` (default ``SEED-PORT``: every emulator is a different instrument).

Run it::

    phyll-scpi-emulator --port 5025 --delay 0.003
    python -m phyll_scpi_example.emulator --port 5025 --fault-rate 0.05
    phyll-scpi-emulator --fault-rate 0.1 --faults trickle,endless,outlier

Commands (short SCPI forms): ``*IDN?``, ``*RST``, ``*CLS``, ``*OPC?``, ``SYST:ERR?``,
``CONF:DIM?`` (inputs,outputs), ``SOUR:VOLT:LIST v1,...,vN`` and ``SOUR:VOLT:LIST?``,
``SOUR<ch>:VOLT v`` (one channel, 1-based), ``INIT`` (acquire), ``FETC?`` (last trace),
``READ?`` (INIT + FETC?), ``MEAS:ARR? rows,v11,...`` (a batch of rows, one acquisition,
``rows * outputs`` numbers). Errors go to the queue read by ``SYST:ERR?``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import re
import signal
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from phyll_scpi_example.response import ResponseModel

HOST = "127.0.0.1"
FAULTS = ("timeout", "drop", "malformed")
"""The default fault kinds."""
ALL_FAULTS = (*FAULTS, "trickle", "endless", "outlier")
MAX_LINE = 1 << 22  # 4 MiB: a batch of 8192 rows of 20 values fits
ENDLESS_LIMIT = 1 << 28  # an endless reply stops after 256 MiB even if nobody hangs up
_DROP = object()
_HANG = object()
_ENDLESS = object()


class _Trickle(str):
    """A reply to be sent one byte at a time."""
_CHANNEL = re.compile(r"^SOUR(\d+):VOLT$")


@attrs.define(kw_only=True)
class EmulatorConfig:
    """Behaviour of the emulated instrument (see the module docstring)."""

    inputs: int = 20
    outputs: int = 20
    seed: int = 0
    beta: float = 0.5
    noise: float = 0.0
    drift: float = 0.0
    delay: float = 0.0
    fault_rate: float = attrs.field(default=0.0, validator=attrs.validators.and_(
        attrs.validators.ge(0.0), attrs.validators.le(1.0)))
    faults: tuple[str, ...] = attrs.field(default=FAULTS, converter=tuple)
    fault_seed: int = 0
    hang: float = 1.0
    trickle: float = 0.05
    die_after: int | None = None
    serial: str | None = None
    vmin: float = 0.0
    vmax: float = 1.0

    def __attrs_post_init__(self) -> None:
        unknown = set(self.faults) - set(ALL_FAULTS)
        if unknown or not self.faults:
            raise ValueError(
                f"faults must be a non-empty subset of {ALL_FAULTS}, got {self.faults}"
            )


@attrs.define
class EmulatorStats:
    """What the instrument saw: connections accepted, commands executed, setpoint commands,
    acquisitions (rows measured) and faults injected."""

    connections: int = 0
    commands: int = 0
    setpoint_commands: int = 0
    acquisitions: int = 0
    faults: int = 0
    bytes_sent: int = 0


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: ScpiEmulator

    def verify_request(self, request: Any, client_address: Any) -> bool:
        return not self.emulator.is_down


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        emu = self.server.emulator
        emu._register(self.request)
        try:
            while not emu.is_down:
                line = self.rfile.readline(MAX_LINE)
                if not line:
                    return
                text = line.decode("ascii", "replace").strip()
                for command in filter(None, (c.strip() for c in text.split(";"))):
                    reply = emu.execute(command)
                    if reply is _DROP:
                        return
                    if reply is _HANG:
                        emu._stopping.wait(emu.config.hang)
                        return
                    if reply is _ENDLESS:
                        self._send_endless(emu)
                        return
                    if isinstance(reply, _Trickle):
                        self._send_trickle(emu, reply)
                    elif reply is not None:
                        self._send(emu, reply.encode("ascii") + b"\n")
        except OSError:
            return
        finally:
            emu._unregister(self.request)

    def _send(self, emu: ScpiEmulator, data: bytes) -> None:
        self.wfile.write(data)
        with emu._state:
            emu.stats.bytes_sent += len(data)

    def _send_trickle(self, emu: ScpiEmulator, reply: str) -> None:
        for byte in reply.encode("ascii") + b"\n":
            if emu._stopping.wait(emu.config.trickle):
                return
            self._send(emu, bytes([byte]))
            self.wfile.flush()

    def _send_endless(self, emu: ScpiEmulator) -> None:
        block = b"1," * 32768
        for _ in range(ENDLESS_LIMIT // len(block)):
            if emu._stopping.is_set():
                return
            self._send(emu, block)


class ScpiEmulator:
    """The emulated instrument and its socket server; ``start()`` / ``stop()`` or a ``with``
    block. ``port=0`` picks a free port (read ``.port`` / ``.resource`` after starting)."""

    def __init__(self, config: EmulatorConfig | None = None, port: int = 0, **options: Any):
        self.config = config if config is not None else EmulatorConfig(**options)
        self.model = ResponseModel(
            self.config.inputs, self.config.outputs, self.config.seed, self.config.beta
        )
        self.stats = EmulatorStats()
        self._requested_port = port
        self._state = threading.RLock()  # go_down() may run inside a command
        self._matrix = self.model.matrix.copy()
        self._noise_rng = np.random.default_rng(self.config.seed + 1)
        self._fault_rng = np.random.default_rng(self.config.fault_seed)
        self._setpoints = np.zeros(self.config.inputs)
        self._trace: np.ndarray | None = None
        self._errors: collections.deque[str] = collections.deque(maxlen=32)
        self._clients: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._down = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def resource(self) -> str:
        """The VISA resource string of this instrument."""
        return f"TCPIP0::{HOST}::{self.port}::SOCKET"

    @property
    def serial(self) -> str:
        """The serial number in the ``*IDN?`` answer (``config.serial`` or ``SEED-PORT``)."""
        if self.config.serial is not None:
            return self.config.serial
        return f"{self.config.seed}-{self.port}"

    @property
    def is_down(self) -> bool:
        return self._down.is_set()

    def start(self) -> ScpiEmulator:
        server = _Server((HOST, self._requested_port), _Handler)
        server.emulator = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name="scpi-emulator",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and wait for the server thread."""
        self._stopping.set()
        self._down.set()
        self._close_listener()
        self._close_clients()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def go_down(self) -> None:
        """Make the instrument unreachable (as if unplugged): close connections, refuse new."""
        if self._down.is_set():
            return
        self._down.set()
        threading.Thread(target=self._close_listener, daemon=True).start()
        self._close_clients()

    def _close_listener(self) -> None:
        server = self._server
        if server is None:
            return
        with contextlib.suppress(Exception):
            server.shutdown()
        with contextlib.suppress(Exception):
            server.server_close()

    def _close_clients(self) -> None:
        with self._state:
            clients = list(self._clients)
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> ScpiEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _register(self, sock: socket.socket) -> None:
        with self._state:
            self._clients.add(sock)
            self.stats.connections += 1

    def _unregister(self, sock: socket.socket) -> None:
        with self._state:
            self._clients.discard(sock)

    # -- the instrument ------------------------------------------------------------------------
    def execute(self, command: str) -> Any:
        """Run one SCPI command; return the reply text, None (no reply) or a fault marker."""
        head, _, arg = command.partition(" ")
        head = head.upper()
        with self._state:
            self.stats.commands += 1
        if head == "*IDN?":
            return f"phyll,SCPI-EMULATOR,{self.serial},1.0"
        if head == "*RST":
            with self._state:
                self._setpoints[:] = 0.0
                self._trace = None
                self._errors.clear()
            return None
        if head == "*CLS":
            with self._state:
                self._errors.clear()
            return None
        if head == "*OPC?":
            return "1"
        if head == "SYST:ERR?":
            with self._state:
                return self._errors.popleft() if self._errors else '0,"No error"'
        if head == "CONF:DIM?":
            return f"{self.config.inputs},{self.config.outputs}"
        if head == "SOUR:VOLT:LIST":
            values = self._numbers(arg, self.config.inputs)
            if values is not None:
                with self._state:
                    self.stats.setpoint_commands += 1
                    self._setpoints[:] = values
            return None
        if head == "SOUR:VOLT:LIST?":
            with self._state:
                return _format(self._setpoints)
        match = _CHANNEL.match(head)
        if match:
            return self._set_channel(int(match.group(1)), arg)
        if head == "INIT":
            return self._acquire_current()
        if head == "FETC?":
            with self._state:
                trace = self._trace
            if trace is None:
                self._error('-230,"Data corrupt or stale"')
                return None
            return self._data_reply(trace)
        if head == "READ?":
            fault = self._acquire_current()
            if fault is not None:
                return fault
            with self._state:
                trace = self._trace
            assert trace is not None
            return self._data_reply(trace)
        if head == "MEAS:ARR?":
            return self._measure_array(arg)
        self._error(f'-113,"Undefined header; {head}"')
        return None

    def _error(self, text: str) -> None:
        with self._state:
            self._errors.append(text)

    def _numbers(self, arg: str, count: int) -> np.ndarray | None:
        try:
            values = np.array(arg.split(","), dtype=np.float64)
        except ValueError:
            self._error('-104,"Data type error"')
            return None
        if values.size != count:
            self._error(f'-109,"Missing parameter; expected {count} values, got {values.size}"')
            return None
        if not np.isfinite(values).all() or (values < self.config.vmin).any() or (
            values > self.config.vmax
        ).any():
            self._error('-222,"Data out of range"')
            return None
        return values

    def _set_channel(self, channel: int, arg: str) -> None:
        if not 1 <= channel <= self.config.inputs:
            self._error('-114,"Header suffix out of range"')
            return None
        values = self._numbers(arg, 1)
        if values is not None:
            with self._state:
                self.stats.setpoint_commands += 1
                self._setpoints[channel - 1] = values[0]
        return None

    def _acquisition_allowed(self, rows: int) -> bool:
        die = self.config.die_after
        if die is not None and self.stats.acquisitions + rows > die:
            self.go_down()
            return False
        return True

    def _acquire_current(self) -> Any:
        with self._state:
            if not self._acquisition_allowed(1):
                return _DROP
            trace = self._respond(self._setpoints[None, :])[0]
        if self.config.delay > 0:
            time.sleep(self.config.delay)
        with self._state:
            self._trace = trace
        return None

    def _measure_array(self, arg: str) -> Any:
        rows_text, _, rest = arg.partition(",")
        try:
            rows = int(rows_text)
        except ValueError:
            self._error('-104,"Data type error"')
            return None
        if rows < 1:
            self._error('-222,"Data out of range"')
            return None
        values = self._numbers(rest, rows * self.config.inputs)
        if values is None:
            return None
        with self._state:
            if not self._acquisition_allowed(rows):
                return _DROP
            traces = self._respond(values.reshape(rows, self.config.inputs))
        if self.config.delay > 0:
            time.sleep(self.config.delay)
        return self._data_reply(traces.ravel())

    def _respond(self, x: np.ndarray) -> np.ndarray:
        """The physics for rows ``x`` (called with the state lock held)."""
        cfg = self.config
        self.stats.acquisitions += x.shape[0]
        if cfg.drift > 0:
            walk = self._noise_rng.standard_normal(self._matrix.shape)
            self._matrix = self._matrix * np.exp(1j * cfg.drift * walk)
        return self.model(x, cfg.noise, self._noise_rng, self._matrix)

    def _data_reply(self, values: np.ndarray) -> Any:
        cfg = self.config
        with self._state:
            fault = None
            if cfg.fault_rate > 0 and self._fault_rng.random() < cfg.fault_rate:
                fault = cfg.faults[int(self._fault_rng.integers(len(cfg.faults)))]
                self.stats.faults += 1
        if fault == "drop":
            return _DROP
        if fault == "timeout":
            return _HANG
        if fault == "endless":
            return _ENDLESS
        if fault == "outlier":
            values = np.array(values, dtype=np.float64).ravel()
            values[values.size // 2] = 1e308
        text = _format(values)
        if fault == "malformed":
            parts = text.split(",")
            parts[len(parts) // 2] = "#ERR"
            return ",".join(parts[:-1])
        if fault == "trickle":
            return _Trickle(text)
        return text


def _format(values: np.ndarray) -> str:
    """Numbers as the instrument sends them: 10 significant digits, comma-separated."""
    return ",".join([format(v, ".10g") for v in np.asarray(values).ravel().tolist()])


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="phyll-scpi-emulator",
        description="SCPI-over-TCP emulator of the phyll example instrument (127.0.0.1 only).",
    )
    d = EmulatorConfig()
    p.add_argument("--port", type=int, default=5025, help="TCP port (0: any free port)")
    p.add_argument("--port-file", type=Path, help="write the port number to this file")
    p.add_argument("--inputs", type=int, default=d.inputs, help="source channels")
    p.add_argument("--outputs", type=int, default=d.outputs, help="detector bins")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the resonator")
    p.add_argument("--beta", type=float, default=d.beta, help="transducer nonlinearity")
    p.add_argument("--noise", type=float, default=d.noise, help="detector noise std")
    p.add_argument("--drift", type=float, default=d.drift, help="phase walk per acquisition")
    p.add_argument("--delay", type=float, default=d.delay, help="seconds per acquisition")
    p.add_argument("--fault-rate", type=float, default=d.fault_rate, help="fault probability")
    p.add_argument(
        "--faults", default=",".join(FAULTS),
        help=f"fault kinds to inject, of {','.join(ALL_FAULTS)}",
    )
    p.add_argument("--fault-seed", type=int, default=d.fault_seed, help="seed of the faults")
    p.add_argument("--hang", type=float, default=d.hang, help="seconds a timeout fault hangs")
    p.add_argument(
        "--trickle", type=float, default=d.trickle, help="seconds per byte of a trickle fault"
    )
    p.add_argument("--die-after", type=int, default=None, help="go down after N acquisitions")
    p.add_argument("--serial", default=None, help="serial number in *IDN? (default SEED-PORT)")
    return p


def _single_threaded_blas() -> None:
    """The emulator's matrices are tiny: BLAS worker threads only compete for the cores."""
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM."""
    parser = _parser()
    args = parser.parse_args(argv)
    _single_threaded_blas()
    try:
        config = _config(args)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        emulator = ScpiEmulator(config, port=args.port).start()
    except OSError as exc:
        parser.error(f"cannot listen on {HOST}:{args.port}: {exc.strerror or exc}")
    _serve(emulator, args.port_file)


def _config(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        inputs=args.inputs, outputs=args.outputs, seed=args.seed, beta=args.beta,
        noise=args.noise, drift=args.drift, delay=args.delay, fault_rate=args.fault_rate,
        faults=tuple(f.strip() for f in args.faults.split(",") if f.strip()),
        fault_seed=args.fault_seed, hang=args.hang, trickle=args.trickle,
        die_after=args.die_after, serial=args.serial,
    )


def _serve(emulator: ScpiEmulator, port_file: Path | None) -> None:
    if port_file is not None:
        tmp = port_file.with_name(port_file.name + ".tmp")
        tmp.write_text(str(emulator.port), encoding="utf-8")
        tmp.replace(port_file)
    print(f"SCPI emulator listening on {emulator.resource} (Ctrl-C to stop)", file=sys.stderr)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.2) and not emulator.is_down:
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
