"""phyll: train physical neural networks without backpropagation (PhyLL).

The public API of the core. Heavy modules (the training engine, scikit-learn, matplotlib) are
imported only where they are used, so importing this package and ``phyll --help`` stay fast.
"""

from phyll_core.domain import Binary, Domain, Interval
from phyll_core.errors import (
    CheckpointError,
    DatasetError,
    DuplicateNameError,
    HardwareError,
    ParameterError,
    PhyllError,
    PhysicalInputError,
    PhysicalOutputError,
    PluginError,
    UnknownNameError,
)
from phyll_core.hookspecs import hookimpl
from phyll_core.params import Param
from phyll_core.specs import DatasetSpec, LossSpec, RuleSpec, SystemSpec
from phyll_core.system import PhysicalSystem, QueryCounter

__all__ = [
    "Binary",
    "CheckpointError",
    "DatasetError",
    "DatasetSpec",
    "Domain",
    "DuplicateNameError",
    "HardwareError",
    "Interval",
    "LossSpec",
    "Param",
    "ParameterError",
    "PhyllError",
    "PhysicalInputError",
    "PhysicalOutputError",
    "PhysicalSystem",
    "PluginError",
    "QueryCounter",
    "RuleSpec",
    "SystemSpec",
    "UnknownNameError",
    "__version__",
    "hookimpl",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from phyll_core.plugins import core_version

        return core_version()
    raise AttributeError(name)
