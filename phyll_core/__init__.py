"""phyll: train physical neural networks without backpropagation (PhyLL).

The public API of the core. Heavy modules (the training engine, scikit-learn, matplotlib) are
imported only where they are used, so importing this package and ``phyll --help`` stay fast.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phyll_core.api import Model, build_system, load_model, probe_system, train_model
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
    from phyll_core.fields import param
    from phyll_core.hookspecs import hookimpl
    from phyll_core.params import Param
    from phyll_core.specs import DatasetSpec, LossSpec, RuleSpec, SystemSpec
    from phyll_core.system import Dims, PhysicalSystem, QueryCounter

# name -> module: imported on first use (PEP 562), so that `import phyll_core` is instant and a
# Ctrl-C while the CLI starts meets the CLI's own handler, not a traceback.
_EXPORTS = {
    **dict.fromkeys(("Binary", "Domain", "Interval"), "phyll_core.domain"),
    **dict.fromkeys(
        (
            "CheckpointError", "DatasetError", "DuplicateNameError", "HardwareError",
            "ParameterError", "PhyllError", "PhysicalInputError", "PhysicalOutputError",
            "PluginError", "UnknownNameError",
        ),
        "phyll_core.errors",
    ),
    "param": "phyll_core.fields",
    "hookimpl": "phyll_core.hookspecs",
    "Param": "phyll_core.params",
    **dict.fromkeys(("DatasetSpec", "LossSpec", "RuleSpec", "SystemSpec"), "phyll_core.specs"),
    **dict.fromkeys(("Dims", "PhysicalSystem", "QueryCounter"), "phyll_core.system"),
    # the Python API of trained models and systems (phyll_core.api)
    **dict.fromkeys(
        ("Model", "build_system", "load_model", "probe_system", "train_model"), "phyll_core.api"
    ),
}

__all__ = [
    "Binary",
    "CheckpointError",
    "DatasetError",
    "DatasetSpec",
    "Dims",
    "Domain",
    "DuplicateNameError",
    "HardwareError",
    "Interval",
    "LossSpec",
    "Model",
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
    "build_system",
    "hookimpl",
    "load_model",
    "param",
    "probe_system",
    "train_model",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from phyll_core.plugins import core_version

        return core_version()
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'phyll_core' has no attribute {name!r}")
