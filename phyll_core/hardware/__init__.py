"""Real hardware: instrument-driven physical systems and their measurement runtime.

- :class:`InstrumentSystem`: subclass it and implement only the device steps (connect,
  encode, apply, acquire, decode); the runtime adds locking, timeouts, retries, repeats,
  safety and output bounds, reference measurements, metadata and a crash-safe measurement log;
  a device that stops answering raises :class:`DeviceOutageError` (a DeviceFailedError).
- :class:`VisaInstrumentSystem` + :class:`VisaSpec`: a SCPI instrument over PyVISA described by
  data only (PyVISA is imported only when such a system is built).
- :func:`read_log`, :func:`load_pairs`, :func:`save_pairs`: measured pairs for twins.

Nothing heavy is imported here.
"""

from phyll_core.hardware.errors import (
    DeviceBusyError,
    DeviceFailedError,
    DeviceOutageError,
    DeviceTimeoutError,
    MalformedReplyError,
    SetpointOutOfBoundsError,
)
from phyll_core.hardware.instrument import InstrumentSystem
from phyll_core.hardware.lock import DeviceLock
from phyll_core.hardware.log import JsonlAppender, LogContents, read_jsonl, read_log
from phyll_core.hardware.meta import MeasurementMeta
from phyll_core.hardware.options import RUNTIME_PARAMS, runtime_options
from phyll_core.hardware.pairs import load_pairs, pair_paths, save_pairs
from phyll_core.hardware.visa import (
    VISA_PARAMS,
    VisaInstrumentSystem,
    VisaSpec,
    load_visa_spec,
    visa_dims,
    visa_system_factory,
)

__all__ = [
    "RUNTIME_PARAMS",
    "VISA_PARAMS",
    "DeviceBusyError",
    "DeviceFailedError",
    "DeviceLock",
    "DeviceOutageError",
    "DeviceTimeoutError",
    "InstrumentSystem",
    "JsonlAppender",
    "LogContents",
    "MalformedReplyError",
    "MeasurementMeta",
    "SetpointOutOfBoundsError",
    "VisaInstrumentSystem",
    "VisaSpec",
    "load_pairs",
    "load_visa_spec",
    "pair_paths",
    "read_jsonl",
    "read_log",
    "runtime_options",
    "save_pairs",
    "visa_dims",
    "visa_system_factory",
]
