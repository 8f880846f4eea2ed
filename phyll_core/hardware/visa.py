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

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import attrs
import numpy as np

from phyll_core.domain import Domain
from phyll_core.errors import HardwareError
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
from phyll_core.hardware.visa_spec import PER_CHANNEL, VisaSpec, load_visa_spec, template_fields
from phyll_core.params import Param
from phyll_core.system import Dims


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

    def open(self) -> Self:
        """Load the VISA library first (once per process: PyVISA's imports and backend set-up
        take most of a second), so that it never counts against the connect step's timeout;
        then open as :meth:`InstrumentSystem.open` does."""
        if not self.is_open:
            resource_manager(self.visa_library)
        return super().open()

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
            if template_fields(template) & PER_CHANNEL:
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
