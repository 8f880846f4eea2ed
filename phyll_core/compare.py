"""Compare learning rules on the same systems, data splits and seeds, optionally under drift.

For each seed the data split is made once and shared by every rule. With ``drift`` > 0, after
``drift_at`` epochs every physical system is perturbed (``perturb(drift, rng)`` with an rng
derived from the seed, so every rule sees the same drift), the test accuracy right after the
drift is recorded, and training continues to the last epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

from phyll_core.datasets import load, split
from phyll_core.engine.config import TrainConfig
from phyll_core.engine.trainer import Run
from phyll_core.errors import PhyllError


@attrs.define
class RuleResult:
    """One rule over all seeds."""

    rule: str
    test_accuracy: list[float] = attrs.field(factory=list)
    before_drift: list[float] = attrs.field(factory=list)
    after_drift: list[float] = attrs.field(factory=list)
    physical_queries: list[int] = attrs.field(factory=list)
    flops: list[float] = attrs.field(factory=list)
    seconds: list[float] = attrs.field(factory=list)
    curves: list[list[tuple[int, float]]] = attrs.field(factory=list)

    def summary(self) -> dict[str, Any]:
        def stats(values: Sequence[float]) -> dict[str, float] | None:
            if not values:
                return None
            return {"mean": float(np.mean(values)), "std": float(np.std(values))}

        return {
            "rule": self.rule,
            "test_accuracy": stats(self.test_accuracy),
            "accuracy_before_drift": stats(self.before_drift),
            "accuracy_after_drift": stats(self.after_drift),
            "physical_queries": float(np.mean(self.physical_queries)),
            "digital_flops": float(np.mean(self.flops)),
            "seconds": float(np.mean(self.seconds)),
            "per_seed_test_accuracy": list(self.test_accuracy),
        }


def compare(
    base: TrainConfig,
    rules: Sequence[str],
    seeds: int = 3,
    drift: float = 0.0,
    drift_at: int | None = None,
    on_run: Callable[[str, int], None] | None = None,
) -> list[RuleResult]:
    """Train every rule in ``rules`` for ``seeds`` seeds (0..seeds-1) with ``base``'s other
    settings; return one :class:`RuleResult` per rule."""
    if drift < 0:
        raise PhyllError(f"--drift must be >= 0, got {drift}")
    at = drift_at if drift_at is not None else base.epochs // 2
    if drift and not 0 < at < base.epochs:
        raise PhyllError(f"--drift-at must be between 1 and {base.epochs - 1}, got {at}")
    results = {r: RuleResult(r) for r in rules}
    data = load(base.dataset, **base.dataset_options)
    for seed in range(seeds):
        shared = split(data, seed, base.test_fraction)
        for rule in rules:
            if on_run:
                on_run(rule, seed)
            config = attrs.evolve(
                base,
                rule=rule,
                seed=seed,
                predict=None,
                rule_params=_declared(rule, base.rule_params),
            )
            run = Run(config, data=shared)
            res = results[rule]
            if drift:
                run.train(at)
                res.before_drift.append(run.accuracy(run.method)[1])
                rng = np.random.default_rng([seed, 3])
                for system in run.unique_systems():
                    system.perturb(drift, rng)
                res.after_drift.append(run.accuracy(run.method)[1])
            run.train()
            summary = run.summary()
            res.test_accuracy.append(summary["test_accuracy"])
            res.physical_queries.append(summary["physical_queries"])
            res.flops.append(summary["digital_flops"])
            res.seconds.append(summary["seconds"])
            res.curves.append(
                [(m.epoch, m.test_accuracy) for m in run.history if m.test_accuracy is not None]
            )
    return list(results.values())


def _declared(rule: str, params: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``params`` that ``rule`` declares (options are shared across rules)."""
    from phyll_core.plugins import get_host

    names = {p.name for p in get_host().rules.get(rule).spec.params}
    return {k: v for k, v in params.items() if k in names}


def mean_curve(curves: list[list[tuple[int, float]]]) -> list[tuple[int, float]]:
    """Average accuracy per epoch over seeds (epochs present in every seed)."""
    if not curves:
        return []
    common = set.intersection(*(set(e for e, _ in c) for c in curves))
    return [(e, float(np.mean([dict(c)[e] for c in curves]))) for e in sorted(common)]
