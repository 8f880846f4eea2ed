"""Lazy package exports (PEP 562): a package's public names imported on first use.

A package whose ``__init__`` would otherwise import heavy modules (SciPy, a simulator) declares
a table ``name -> submodule`` and takes its module-level ``__getattr__`` and ``__dir__`` from
:func:`lazy_exports`, so that importing the package (as phyll's plugin loader does for
``phyll --help``) costs nothing. This module imports only the standard library.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for the package named ``package``.

    ``homes`` maps each public name to the submodule, relative to ``package``, that defines it.
    ``__getattr__(name)`` imports ``package.<home>`` on first use, caches the value in the
    package's namespace (so later lookups never reach it again) and raises ``AttributeError``
    for a name not in ``homes``. ``__dir__()`` lists the package's namespace and every lazy name.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(homes))

    return __getattr__, __dir__
