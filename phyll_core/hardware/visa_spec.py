"""``VisaSpec``: the data that describe a simple SCPI instrument for
:class:`~phyll_core.hardware.visa.VisaInstrumentSystem` (dimensions, the command templates of
the device steps, the encode and decode maps), and :func:`load_visa_spec` to read one from TOML
(the format is described in :mod:`phyll_core.hardware.visa`).
"""

from __future__ import annotations

import difflib
import functools
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from phyll_core.domain import Binary, Domain, Interval
from phyll_core.errors import ParameterError

_APPLY_FIELDS = frozenset({"values", "n", "ch", "index", "value"})
PER_CHANNEL = frozenset({"ch", "index", "value"})
_BATCH_FIELDS = frozenset({"rows", "n", "values"})


def _tuple_of_str(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _optional_ints(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(int(v) for v in value)


@functools.lru_cache(maxsize=256)
def template_fields(template: str) -> frozenset[str]:
    """The placeholder names of a command template (``"SOUR{ch}:VOLT {value}"`` -> ``{"ch",
    "value"}``); ValueError for a malformed template."""
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
            unknown = template_fields(template) - _APPLY_FIELDS
            if unknown:
                raise ValueError(
                    f"apply template {template!r} uses unknown placeholder(s)"
                    f" {sorted(unknown)}; known: {sorted(_APPLY_FIELDS)}"
                )
        if self.measure_batch is not None:
            unknown = template_fields(self.measure_batch) - _BATCH_FIELDS
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
