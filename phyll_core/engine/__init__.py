"""The PhyLL training engine (numpy/scipy only).

Public API: :class:`TrainConfig`, :class:`Run` (build, train epoch by epoch, evaluate; used for
drift experiments), :func:`train` (one call, returns the summary dict of ``phyll train --json``),
:func:`save_checkpoint` / :func:`load_checkpoint`, and the contracts :class:`LearningRule`,
:class:`Problem`, :class:`Goodness`, :class:`Objective` for plugin authors. Attributes are
imported on first use, so importing this package (and ``phyll --help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "phyll_core.engine.config",
    "Goodness": "phyll_core.engine.losses",
    "Objective": "phyll_core.engine.losses",
    "LearningRule": "phyll_core.engine.rule",
    "Problem": "phyll_core.engine.rule",
    "EpochMetrics": "phyll_core.engine.trainer",
    "Run": "phyll_core.engine.trainer",
    "train": "phyll_core.engine.trainer",
    "save_checkpoint": "phyll_core.engine.checkpoint",
    "load_checkpoint": "phyll_core.engine.checkpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'phyll_core.engine' has no attribute {name!r}")
