"""The ``phyll-insitu`` rule: PhyLL that also trains the systems' physical controls.

It is :class:`~phyll_core.engine.phyll_rules.PhyLL` with ``physics="auto"`` by default (SPSA for
interval controls, greedy bit flips for binary ones; :mod:`phyll_core.engine.controls`), so
that ``phyll compare --rules phyll,phyll-insitu`` sets frozen against trained controls on the
same systems, splits, seeds and drift. ``--rule-param physics=...`` still chooses another
estimator.
"""

from __future__ import annotations

from typing import Any

from phyll_core.engine.phyll_rules import PhyLL


class PhyLLInSitu(PhyLL):
    """Supervised PhyLL whose blocks train their physical controls too."""

    name = "phyll-insitu"

    def __init__(self, negatives: str = "hardest", physics: str = "auto", **rest: Any) -> None:
        super().__init__(negatives, physics=physics, **rest)
