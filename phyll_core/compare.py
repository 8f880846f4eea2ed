"""Compare learning rules, or physical systems, on the same data splits and seeds, optionally
under drift. Runs go through the sweep machinery (:mod:`phyll_core.sweep`): in this process by
default, on Dask with ``workers``/``scheduler``, saved to and resumed from ``store``.

For each seed the data split is made once and shared by every rule (or system). With ``drift``
> 0, after ``drift_at`` epochs every physical system is perturbed (``perturb(drift, rng)`` with
an rng derived from the seed, so every rule sees the same drift), the test accuracy right after
the drift is recorded, and training continues to the last epoch; a rule's recovery is the number
of epochs after the drift until its test accuracy is back within :data:`RECOVERED` of the
accuracy before it (at the evaluation cadence of the runs: every epoch up to 10 epochs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

from phyll_core.engine.config import TrainConfig
from phyll_core.errors import PhyllError
from phyll_core.sweep.grid import RunSpec, make_spec, rule_params_of, system_params
from phyll_core.sweep.store import ResultStore
from phyll_core.sweep.summary import stats

REFERENCE = "identity"
RECOVERED = 0.02  # back within 2 points of the pre-drift accuracy


def epochs_to_recover(
    curve: Sequence[tuple[int, float]], before: float, drift_at: int
) -> int | None:
    """Epochs after ``drift_at`` until the first evaluated accuracy of ``curve`` (epoch,
    accuracy) that is at least ``before - RECOVERED``; ``None`` if none is."""
    for epoch, accuracy in curve:
        if epoch > drift_at and accuracy >= before - RECOVERED - 1e-12:
            return epoch - drift_at
    return None


@attrs.define
class RuleResult:
    """One rule over all seeds."""

    rule: str
    test_accuracy: list[float] = attrs.field(factory=list)
    before_drift: list[float] = attrs.field(factory=list)
    after_drift: list[float] = attrs.field(factory=list)
    recovery: list[int | None] = attrs.field(factory=list)  # epochs to recover, per seed
    physical_queries: list[int] = attrs.field(factory=list)
    control_queries: list[int] = attrs.field(factory=list)  # of which: control updates
    flops: list[float] = attrs.field(factory=list)
    seconds: list[float] = attrs.field(factory=list)
    curves: list[list[tuple[int, float]]] = attrs.field(factory=list)

    def summary(self) -> dict[str, Any]:
        def stat(values: Sequence[float]) -> dict[str, float] | None:
            s = stats(values)
            return None if s is None else {"mean": s["mean"], "std": s["std"]}

        return {
            "rule": self.rule,
            "test_accuracy": stat(self.test_accuracy),
            "accuracy_before_drift": stat(self.before_drift),
            "accuracy_after_drift": stat(self.after_drift),
            "epochs_to_recover": list(self.recovery) if self.before_drift else None,
            "physical_queries": float(np.mean(self.physical_queries)),
            "control_queries": float(np.mean(self.control_queries or [0])),
            "digital_flops": float(np.mean(self.flops)),
            "seconds": float(np.mean(self.seconds)),
            "per_seed_test_accuracy": list(self.test_accuracy),
        }


@attrs.define
class SystemResult:
    """One system over all seeds: test accuracy per prediction method and seed."""

    system: str
    seeds: list[int] = attrs.field(factory=list)
    accuracy: dict[str, list[float]] = attrs.field(factory=dict)
    physical_queries: list[int] = attrs.field(factory=list)
    flops: list[float] = attrs.field(factory=list)
    seconds: list[float] = attrs.field(factory=list)

    def summary(self, reference: SystemResult | None = None) -> dict[str, Any]:
        """Mean ± std per method, and the gain over ``reference`` (mean and std of the paired
        per-seed differences, same seeds and splits)."""
        out: dict[str, Any] = {
            "system": self.system,
            "accuracy": {m: stats(v) for m, v in self.accuracy.items()},
            "gain_over_identity": {},
            "physical_queries": float(np.mean(self.physical_queries)),
            "digital_flops": float(np.mean(self.flops)),
            "seconds": float(np.mean(self.seconds)),
            "per_seed": {m: list(v) for m, v in self.accuracy.items()},
        }
        if reference is not None:
            for method, values in self.accuracy.items():
                ref = dict(zip(reference.seeds, reference.accuracy.get(method, []), strict=False))
                diffs = [v - ref[s] for s, v in zip(self.seeds, values, strict=True) if s in ref]
                out["gain_over_identity"][method] = stats(diffs)
        return out


OnRun = Callable[[str, int], None]


def compare(
    base: TrainConfig,
    rules: Sequence[str],
    seeds: int = 3,
    drift: float = 0.0,
    drift_at: int | None = None,
    on_run: OnRun | None = None,
    workers: int | None = 0,
    scheduler: str | None = None,
    store: ResultStore | None = None,
) -> list[RuleResult]:
    """Train every rule in ``rules`` for ``seeds`` seeds (0..seeds-1) with ``base``'s other
    settings; return one :class:`RuleResult` per rule. ``on_run(rule, seed)`` is called as
    each run finishes. A failed run raises :class:`PhyllError` (after the others finished)."""
    if drift < 0:
        raise PhyllError(f"--drift must be >= 0, got {drift}")
    at = drift_at if drift_at is not None else base.epochs // 2
    if drift and not 0 < at < base.epochs:
        raise PhyllError(f"--drift-at must be between 1 and {base.epochs - 1}, got {at}")
    _check_declared(base.params, base.system)
    specs = {
        (rule, seed): _spec(base, base.system, rule, seed, drift, at if drift else None)
        for seed in range(seeds)
        for rule in rules
    }
    records = _execute(specs, workers, scheduler, store, on_run, lambda k: k[0])
    results = {r: RuleResult(r) for r in rules}
    for (rule, _seed), spec in specs.items():
        rec = records[spec.key]
        res = results[rule]
        if drift:
            res.before_drift.append(rec["accuracy_before_drift"])
            res.after_drift.append(rec["accuracy_after_drift"])
        res.test_accuracy.append(rec["accuracy_by_method"][rec["predict"]]["test_accuracy"])
        res.physical_queries.append(rec["physical_queries"])
        res.control_queries.append(rec.get("control_queries", 0))
        res.flops.append(rec["digital_flops"])
        res.seconds.append(rec["seconds"])
        res.curves.append([(int(e), float(a)) for e, a in rec["curve"]])
        if drift:
            res.recovery.append(epochs_to_recover(res.curves[-1], res.before_drift[-1], at))
    return list(results.values())


def compare_systems(
    base: TrainConfig,
    systems: Sequence[str],
    seeds: int = 3,
    on_run: OnRun | None = None,
    workers: int | None = 0,
    scheduler: str | None = None,
    store: ResultStore | None = None,
) -> list[SystemResult]:
    """Train ``base.rule`` through each system (``identity`` always included, first) for
    ``seeds`` seeds on the same splits; return one :class:`SystemResult` per system. Each
    system gets the parameters of ``base.params`` that it declares."""
    names = list(dict.fromkeys([REFERENCE, *systems]))
    _check_declared(base.params, names)
    specs = {
        (name, seed): _spec(base, (name,), base.rule, seed, 0.0, None)
        for seed in range(seeds)
        for name in names
    }
    records = _execute(specs, workers, scheduler, store, on_run, lambda k: k[0])
    results = {n: SystemResult(n) for n in names}
    for (name, seed), spec in specs.items():
        rec = records[spec.key]
        res = results[name]
        res.seeds.append(seed)
        for method, values in rec["accuracy_by_method"].items():
            res.accuracy.setdefault(method, []).append(values["test_accuracy"])
        res.physical_queries.append(rec["physical_queries"])
        res.flops.append(rec["digital_flops"])
        res.seconds.append(rec["seconds"])
    return list(results.values())


def _check_declared(params: dict[str, Any], systems: Sequence[str]) -> None:
    """Raise :class:`PhyllError` for an unknown system name in ``systems`` (with a suggestion)
    or a parameter of ``params`` that none of ``systems`` declares."""
    unknown = set(params) - set().union(*(system_params(n) for n in systems))
    if unknown:
        raise PhyllError(f"no system of {', '.join(systems)} declares {sorted(unknown)}")


def _spec(
    base: TrainConfig,
    system: Sequence[str],
    rule: str,
    seed: int,
    drift: float,
    drift_at: int | None,
) -> RunSpec:
    declared = set().union(*(system_params(s) for s in system))
    settings = base.to_json() | {
        "system": list(system),
        "params": {k: v for k, v in base.params.items() if k in declared},
        "rule": rule,
        "seed": seed,
        "predict": None,
        "rule_params": _declared(rule, base.rule_params),
    }
    return make_spec(settings, drift, drift_at)


def _execute(
    specs: dict[tuple[str, int], RunSpec],
    workers: int | None,
    scheduler: str | None,
    store: ResultStore | None,
    on_run: OnRun | None,
    label: Callable[[tuple[str, int]], str],
) -> dict[str, dict[str, Any]]:
    from phyll_core.sweep.execute import run_specs

    by_key = {spec.key: k for k, spec in specs.items()}

    def done(record: dict[str, Any]) -> None:
        if on_run and record["key"] in by_key:
            name, seed = by_key[record["key"]]
            on_run(name, seed)

    outcome = run_specs(list(specs.values()), store, workers, scheduler, on_record=done)
    records = {r["key"]: r for r in outcome.records}
    for failed in outcome.failed:
        name, seed = by_key[failed["key"]]
        raise PhyllError(f"{label((name, seed))}, seed {seed}: {failed['error']}")
    return records


def _declared(rule: str, params: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``params`` that ``rule`` declares (options are shared across rules)."""
    names = rule_params_of(rule)
    return {k: v for k, v in params.items() if k in names}


def mean_curve(curves: list[list[tuple[int, float]]]) -> list[tuple[int, float]]:
    """Average accuracy per epoch over seeds (epochs present in every seed)."""
    if not curves:
        return []
    common = set.intersection(*(set(e for e, _ in c) for c in curves))
    return [(e, float(np.mean([dict(c)[e] for c in curves]))) for e in sorted(common)]
