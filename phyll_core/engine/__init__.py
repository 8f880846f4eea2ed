"""The PhyLL training engine (numpy/scipy only).

Public API: :class:`TrainConfig`, :class:`Run` (build, train epoch by epoch, evaluate; used for
drift experiments), :func:`train` (one call, returns the summary dict of ``phyll train --json``),
:func:`save_checkpoint` / :func:`load_checkpoint`, and the contracts :class:`LearningRule`,
:class:`Problem`, :class:`Goodness`, :class:`Objective` for plugin authors.
"""

from phyll_core.engine.config import TrainConfig
from phyll_core.engine.losses import Goodness, Objective
from phyll_core.engine.rule import LearningRule, Problem
from phyll_core.engine.trainer import EpochMetrics, Run, train

__all__ = [
    "EpochMetrics",
    "Goodness",
    "LearningRule",
    "Objective",
    "Problem",
    "Run",
    "TrainConfig",
    "train",
]
