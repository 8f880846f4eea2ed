"""``VisaInstrumentSystem``: a SCPI instrument over PyVISA, described by data only.

A :class:`VisaSpec` holds the instrument's dimensions and the SCPI command templates of the four
device steps (encode = an affine map to setpoints plus the number format; apply; trigger and
acquire; decode = selection and an affine map of the returned numbers), so a simple instrument
needs no Python beyond a spec, e.g. in TOML (see :func:`load_visa_spec`)::

    inputs = 20
    outputs = 20
    setup = ["*RST"]
    apply = ["SOUR:VOLT:LIST {values}"]    # or per channel: ["SOUR{ch}:VOLT {value}"]
    trigger = ["INIT"]
    acquire = "FETC?"
    setpoint_low = 0.0
    setpoint_high = 1.0

Placeholders: apply templates take ``{values}`` (all setpoints joined by ``separator``) and
``{n}``; a template with ``{ch}`` (1-based channel), ``{index}`` (0-based) or ``{value}`` is
sent once per setpoint. The optional ``measure_batch`` query takes ``{rows}``, ``{n}`` and
``{values}`` (all rows, row-major) and must answer ``rows * trace_length`` numbers.

PyVISA (``pip install 'phyll-core[visa]'``, pyvisa + pyvisa-py) is imported only when a
VisaInstrumentSystem is built; the default backend is pyvisa-py (``@py``).
"""

from __future__ import annotations

import difflib
import functools
import string
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from phyll_core.domain import Binary, Domain, Interval
from phyll_core.errors import HardwareError, ParameterError
from phyll_core.hardware.errors import MalformedReplyError
from phyll_core.hardware.instrument import InstrumentSystem
from phyll_core.hardware.options import OUTPUT_LIMIT, RUNTIME_PARAMS, runtime_options
from phyll_core.hardware.visa_io import (
    _pyvisa,
    canonical_resource,
    device_key,
    read_reply,
    resource_manager,
    set_tcp_nodelay,
)
from phyll_core.params import Param
from phyll_core.system import Dims

_APPLY_FIELDS = frozenset({"values", "n", "ch", "index", "value"})
_PER_CHANNEL = frozenset({"ch", "index", "value"})
_BATCH_FIELDS = frozenset({"rows", "n", "values"})


def _tuple_of_str(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _optional_ints(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(int(v) for v in value)


@functools.lru_cache(maxsize=256)
def _fields(template: str) -> frozenset[str]:
    try:
        return frozenset(f for _, f, _, _ in string.Formatter().parse(template) if f is not None)
    except ValueError as exc:
        raise ValueError(f"malformed command template {template!r}: {exc}") from None


@attrs.frozen(kw_only=True)
class VisaSpec:
    """The data that describe a simple SCPI instrument (see the module docstring).

    ``inputs`` / ``outputs`` the dimensions; ``input_low`` / ``input_high`` the input interval
    (or ``binary`` inputs); encode: ``setpoint = setpoint_offset + setpoint_scale * x`` written
    with ``value_format``; ``setpoint_low`` / ``setpoint_high`` the safety bounds; ``setup``
    commands sent after every (re)connect; ``apply`` templates; ``trigger`` commands written
    before the ``acquire`` query; optional ``measure_batch`` query of up to ``max_batch`` rows;
    ``trace_length`` numbers per reply (default ``outputs``) separated by ``separator``; decode:
    ``output = output_offset + output_scale * trace[output_select]``; ``output_low`` /
    ``output_high`` the output bounds (default ``|v| <= 1e12``; a value outside is a malformed
    reply, retried); ``identify`` asks ``*IDN?`` at connect and locks the device also by that
    identity (turn it off for an instrument without ``*IDN?``); ``idn_contains`` checks the
    ``*IDN?`` answer at connect (guards against the wrong instrument).
    """

    inputs: int = attrs.field(validator=attrs.validators.ge(1))
    outputs: int = attrs.field(validator=attrs.validators.ge(1))
    apply: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    acquire: str
    trigger: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    setup: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    measure_batch: str | None = None
    max_batch: int = attrs.field(default=256, validator=attrs.validators.ge(1))
    input_low: float = 0.0
    input_high: float = 1.0
    binary: bool = False
    setpoint_scale: float = 1.0
    setpoint_offset: float = 0.0
    setpoint_low: float | None = None
    setpoint_high: float | None = None
    value_format: str = ".10g"
    separator: str = ","
    trace_length: int | None = None
    output_select: tuple[int, ...] | None = attrs.field(default=None, converter=_optional_ints)
    output_scale: float = 1.0
    output_offset: float = 0.0
    read_termination: str = "\n"
    write_termination: str = "\n"
    output_low: float | None = None
    output_high: float | None = None
    identify: bool = True
    idn_contains: str | None = None
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.apply:
            raise ValueError("VisaSpec.apply needs at least one command template")
        for template in self.apply:
            unknown = _fields(template) - _APPLY_FIELDS
            if unknown:
                raise ValueError(
                    f"apply template {template!r} uses unknown placeholder(s)"
                    f" {sorted(unknown)}; known: {sorted(_APPLY_FIELDS)}"
                )
        if self.measure_batch is not None:
            unknown = _fields(self.measure_batch) - _BATCH_FIELDS
            if unknown:
                raise ValueError(
                    f"measure_batch template {self.measure_batch!r} uses unknown placeholder(s)"
                    f" {sorted(unknown)}; known: {sorted(_BATCH_FIELDS)}"
                )
        format(0.5, self.value_format)  # raises ValueError for a bad format spec
        if self.output_select is not None:
            if len(self.output_select) != self.outputs:
                raise ValueError(
                    f"output_select has {len(self.output_select)} indices; outputs is"
                    f" {self.outputs}"
                )
            if min(self.output_select) < 0 or max(self.output_select) >= self.length:
                raise ValueError(f"output_select indices must lie in [0, {self.length})")
        elif self.length != self.outputs:
            raise ValueError(
                f"trace_length {self.length} differs from outputs {self.outputs}: give"
                " output_select"
            )
        if not self.binary and not self.input_low < self.input_high:
            raise ValueError(
                f"need input_low < input_high, got {self.input_low}, {self.input_high}"
            )

    @property
    def length(self) -> int:
        """Numbers per acquisition reply."""
        return self.trace_length if self.trace_length is not None else self.outputs

    @property
    def domain(self) -> Domain:
        """The set every input lies in: ``{0, 1}`` for binary inputs, else
        ``[input_low, input_high]``."""
        return Binary() if self.binary else Interval(self.input_low, self.input_high)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> VisaSpec:
        """Build a spec from plain data (e.g. parsed TOML); unknown keys are refused with a
        suggestion. Raises ParameterError for any invalid content."""
        known = [a.name for a in attrs.fields(cls)]
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise ParameterError(f"unknown VISA spec key '{key}'{hint}")
        try:
            return cls(**dict(data))
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"invalid VISA instrument spec: {exc}") from None


def load_visa_spec(path: str | Path) -> VisaSpec:
    """Read a :class:`VisaSpec` from a TOML file (top level, or an ``[instrument]`` table)."""
    import tomllib

    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(f"VISA spec file not found: {p}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{p}: not valid TOML ({exc})") from None
    return VisaSpec.from_mapping(data.get("instrument", data))


@attrs.define(kw_only=True, eq=False)
class VisaInstrumentSystem(InstrumentSystem):
    """An instrument reached through PyVISA at ``address`` (a VISA resource string such as
    ``TCPIP0::192.168.0.5::5025::SOCKET``) and described by ``spec``.

    ``name`` names this instrument in messages; ``visa_library`` picks the PyVISA backend
    (``@py`` = pyvisa-py); ``use_batch`` uses ``spec.measure_batch`` when the spec has one;
    ``tcp_nodelay`` disables Nagle's algorithm on raw TCP sockets (see
    :func:`set_tcp_nodelay`); ``max_reply_bytes`` caps the size of one reply (0: 32 bytes per
    number the largest reply should hold, plus 64 KiB). Every reply is read under the deadline
    of its device call (:func:`~phyll_core.hardware.visa_io.read_reply`). The device lock is
    keyed on :func:`~phyll_core.hardware.visa_io.device_key` of the address and, with
    ``spec.identify``, on the ``*IDN?`` identity too.
    All runtime options of :class:`InstrumentSystem` apply (the VISA I/O timeout is set to
    ``timeout``). Transient errors: VisaIOError (timeouts, lost connections), OSError,
    malformed replies.
    """

    name: str = "visa"  # type: ignore[misc]  # an instance attribute here, not a ClassVar
    spec: VisaSpec = attrs.field(validator=attrs.validators.instance_of(VisaSpec))
    visa_library: str = "@py"
    use_batch: bool = True
    tcp_nodelay: bool = True
    max_reply_bytes: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    _resource: Any = attrs.field(default=None, init=False, repr=False)
    _key: str = attrs.field(default="", init=False, repr=False)
    _reply_cap: int = attrs.field(default=0, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        canonical_resource(self.address)  # refuse a malformed resource string at once
        rows = max(1, self.spec.max_batch if self.spec.measure_batch else 1)
        auto = 32 * rows * self.spec.length + 65536
        self._reply_cap = self.max_reply_bytes or auto

    @property
    def input_dim(self) -> int:
        return self.spec.inputs

    @property
    def output_dim(self) -> int:
        return self.spec.outputs

    @property
    def domain(self) -> Domain:
        return self.spec.domain

    @property
    def lock_key(self) -> str:
        if not self._key:  # resolved when first opened (host names may need DNS)
            self._key = device_key(self.address)
        return self._key

    @property
    def output_bounds(self) -> tuple[float, float]:
        low, high = self.spec.output_low, self.spec.output_high
        return (-OUTPUT_LIMIT if low is None else low, OUTPUT_LIMIT if high is None else high)

    @property
    def max_batch(self) -> int:
        return self.spec.max_batch if self.use_batch and self.spec.measure_batch else 0

    @property
    def setpoint_bounds(self) -> tuple[float, float] | None:
        low, high = self.spec.setpoint_low, self.spec.setpoint_high
        if low is None and high is None:
            return None
        return (-np.inf if low is None else low, np.inf if high is None else high)

    def transient_error_types(self) -> tuple[type[BaseException], ...]:
        errors = _pyvisa().errors
        visa = (errors.VisaIOError, errors.InvalidSession, OSError)
        return (*super().transient_error_types(), *visa)

    # -- device steps ------------------------------------------------------------------------
    def _connect(self) -> None:
        spec = self.spec
        res = resource_manager(self.visa_library).open_resource(
            self.address,
            read_termination=spec.read_termination,
            write_termination=spec.write_termination,
            timeout=max(1, round(self.timeout * 1000)),
        )
        self._resource = res
        if self.tcp_nodelay:
            set_tcp_nodelay(res)
        if spec.identify or spec.idn_contains is not None:
            idn = self._query("*IDN?").strip()
            if spec.identify:
                self.claim_identity(idn)  # before any command that changes the device's state
            if spec.idn_contains is not None and spec.idn_contains not in idn:
                raise HardwareError(
                    f"device at {self.address} answered *IDN? with {idn!r}, which does not"
                    f" contain {spec.idn_contains!r}: wrong instrument?"
                )
        for command in spec.setup:
            res.write(command)

    def _disconnect(self) -> None:
        res, self._resource = self._resource, None
        if res is not None:
            res.close()

    def _encode(self, x: np.ndarray) -> np.ndarray:
        return self.spec.setpoint_offset + self.spec.setpoint_scale * x

    def _format(self, values: Sequence[float]) -> list[str]:
        fmt = self.spec.value_format
        return [format(v, fmt) for v in values]

    def _apply(self, setpoints: np.ndarray) -> None:
        spec, res = self.spec, self._resource
        texts = self._format(setpoints.tolist())
        joined = spec.separator.join(texts)
        for template in spec.apply:
            if _fields(template) & _PER_CHANNEL:
                for i, text in enumerate(texts):
                    res.write(template.format(ch=i + 1, index=i, value=text, n=len(texts)))
            else:
                res.write(template.format(values=joined, n=len(texts)))

    def _acquire(self) -> np.ndarray:
        res = self._resource
        for command in self.spec.trigger:
            res.write(command)
        return self._parse(self._query(self.spec.acquire), self.spec.length)

    def _measure_batch(self, setpoints: np.ndarray) -> np.ndarray:
        spec = self.spec
        assert spec.measure_batch is not None
        values = spec.separator.join(self._format(setpoints.ravel().tolist()))
        rows, n = setpoints.shape
        query = spec.measure_batch.format(rows=rows, n=n, values=values)
        return self._parse(self._query(query), rows * spec.length).reshape(rows, -1)

    def _query(self, command: str) -> str:
        """Write ``command`` and read the reply, bounded in size and by the call's deadline."""
        res = self._resource
        res.write(command)
        return read_reply(res, self.call_time_left, self._reply_cap, self.spec.read_termination)

    def _parse(self, reply: str, count: int) -> np.ndarray:
        parts = reply.strip().split(self.spec.separator)
        if len(parts) != count:
            raise MalformedReplyError(
                f"expected {count} numbers, got {len(parts)} in reply {_clip(reply)}"
            )
        try:
            return np.array(parts, dtype=np.float64)
        except ValueError:
            raise MalformedReplyError(f"non-numeric reply {_clip(reply)}") from None

    def _decode(self, traces: np.ndarray) -> np.ndarray:
        spec = self.spec
        picked = traces if spec.output_select is None else traces[:, list(spec.output_select)]
        if spec.output_scale == 1.0 and spec.output_offset == 0.0:
            return picked
        return spec.output_offset + spec.output_scale * picked


def _clip(reply: str, limit: int = 60) -> str:
    text = reply.strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")


VISA_PARAMS: tuple[Param, ...] = (
    Param("batch", "bool", True, "use the instrument's batched measurement command if it has one"),
    Param(
        "max_reply", "int", 0,
        "largest device reply in bytes (0: 32 bytes per expected number + 64 KiB)", low=0,
    ),
    *RUNTIME_PARAMS,
)


def visa_system_factory(spec: VisaSpec | str | Path, name: str = "visa") -> Any:
    """A SystemSpec factory for a VISA instrument: ``factory(resource=..., **VISA_PARAMS)``.

    ``spec`` is a :class:`VisaSpec` or the path of a TOML spec (read when the system is built).
    Use it with ``SystemSpec(name, visa_system_factory(spec, name), description,
    (Param("resource", "str", DEFAULT), *VISA_PARAMS))``.
    """

    def factory(
        resource: str, batch: bool = True, max_reply: int = 0, **values: Any
    ) -> VisaInstrumentSystem:
        the_spec = spec if isinstance(spec, VisaSpec) else load_visa_spec(spec)
        return VisaInstrumentSystem(
            name=name, spec=the_spec, address=resource, use_batch=batch,
            max_reply_bytes=max_reply, **runtime_options(values),
        )

    return factory


def visa_dims(spec: VisaSpec | str | Path) -> Callable[[Mapping[str, Any]], Dims]:
    """The ``dims`` of a :func:`visa_system_factory` spec: the instrument's widths and input
    domain read from ``spec`` (the TOML file is read, no instrument is contacted), so
    ``phyll systems`` lists them: ``SystemSpec(..., dims=visa_dims(spec))``."""

    def dims(params: Mapping[str, Any]) -> Dims:
        the_spec = spec if isinstance(spec, VisaSpec) else load_visa_spec(spec)
        return Dims(the_spec.inputs, the_spec.outputs, the_spec.domain)

    return dims
