"""Training goes on learning after the system drifts: the physical layer measures its output
standardisation again when a training pass finds the outputs off the scale it was fixed for
(before, a drift step left the outputs far off scale and PhyLL with hardest negatives stayed at
chance; benchmarks/drift_collapse.py)."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from phyll_core import Interval, PhysicalSystem
from phyll_core.domain import Domain
from phyll_core.engine import Problem, network
from phyll_core.engine.network import PhysicalLayer
from phyll_core.engine.phyll_rules import PhyLL


@attrs.define(kw_only=True, eq=False)
class Baseline(PhysicalSystem):
    """``y = tanh(3 x @ M) + b``: a detector whose baseline ``b`` drifts (``perturb(s)`` adds
    ``10 s N(0, 1)`` to every output's baseline, against outputs of spread about 0.7)."""

    name = "baseline"
    seed: int = 0
    _m: np.ndarray = attrs.field(init=False)
    _base: np.ndarray = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._m = np.random.default_rng(self.seed).standard_normal((8, 12)) / np.sqrt(8)
        self._base = np.zeros(12)

    @property
    def input_dim(self) -> int:
        return 8

    @property
    def output_dim(self) -> int:
        return 12

    @property
    def domain(self) -> Domain:
        return Interval(0.0, 1.0)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(3.0 * x @ self._m) + self._base

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        self._base = self._base + 10.0 * strength * rng.standard_normal(12)


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6))
    return x, (x[:, 0] * x[:, 1] > 0).astype(int) + 2 * (x[:, 2] + x[:, 3] > 0)


def _drifted(seed: int, steps_after: int = 10) -> tuple[float, float, float, PhyLL]:
    """PhyLL (hardest negatives) trained 40 full-batch steps, the system drifted, then trained
    ``steps_after`` more: test accuracy before, right after and at the end."""
    system = Baseline(seed=seed)
    rule = PhyLL(negatives="hardest")
    rule.init(Problem(n_features=6, n_classes=4, systems=[system], blocks=2, width=16, seed=seed))
    (x, y), (xt, yt) = _data(400, seed), _data(400, seed + 100)
    rng = np.random.default_rng(seed)

    def accuracy() -> float:
        return float(np.mean(rule.predict(xt, "goodness") == yt))

    for _ in range(40):
        rule.step(x, y, rng)
    before = accuracy()
    system.perturb(1.0, 7)
    after = accuracy()
    for _ in range(steps_after):
        rule.step(x, y, rng)
    return before, after, accuracy(), rule


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_training_learns_again_after_a_drift_step(seed: int) -> None:
    before, after, end, rule = _drifted(seed)
    assert before > 0.7  # chance: 0.25
    assert after < before - 0.3  # the drift hurts the trained network
    assert end > 0.7 and end > before - 0.08, (before, after, end)
    # every block's layer saw its outputs off scale once and measured them again
    assert [b.layer.refreshes for b in rule.blocks] == [1, 1]


def test_without_the_refresh_the_same_drift_leaves_training_near_chance(monkeypatch) -> None:
    """The defect the refresh removes (what the engine did before): the drift is real."""
    monkeypatch.setattr(network, "REFRESH_SHIFT", float("inf"))
    monkeypatch.setattr(network, "REFRESH_SPREAD", float("inf"))
    ends = [_drifted(seed, steps_after=40)[2] for seed in (0, 1, 2)]
    assert max(ends) < 0.45, ends


def test_normal_training_and_predictions_never_refresh() -> None:
    system = Baseline()
    rule = PhyLL(negatives="hardest")
    rule.init(Problem(n_features=6, n_classes=4, systems=[system], blocks=2, width=16))
    x, y = _data(400, 0)
    rng = np.random.default_rng(0)
    for _ in range(80):
        rule.step(x, y, rng)
    assert [b.layer.refreshes for b in rule.blocks] == [0, 0]
    stats = [dict(b.layer.stats) for b in rule.blocks]
    system.perturb(1.0, 7)
    rule.predict(x, "goodness")  # predictions use the fixed statistics, whatever the outputs
    assert [b.layer.refreshes for b in rule.blocks] == [0, 0]
    for b, old in zip(rule.blocks, stats, strict=True):
        assert all(b.layer.stats[k] is old[k] for k in old)


def test_off_scale_measures_the_distance_from_the_fixed_scale() -> None:
    rng = np.random.default_rng(0)
    layer = PhysicalLayer.build(Baseline(), 8, rng)
    h = rng.standard_normal((256, 8))
    assert layer.off_scale(h) == (0.0, 0.0)  # not calibrated yet: nothing to compare with
    layer.forward(h, calibrate=True)
    y = layer.system.forward(layer.encode(h))
    shift, spread = layer.off_scale(y)  # the calibration's own rows
    assert shift < 1e-9 and spread == pytest.approx(1.0, abs=1e-9)
    s, m = layer.stats["out_std"], layer.stats["out_mean"]
    assert layer.off_scale(y + 5.0 * s) == pytest.approx((5.0, 1.0), abs=1e-6)
    # a gain change: the spread grows, and the shift is counted in its units
    shift, spread = layer.off_scale(m + 10.0 * (y - m) + 20.0 * s)
    assert spread == pytest.approx(10.0) and shift == pytest.approx(2.0)
    shift, spread = layer.off_scale(y[:1] + 5.0 * s)  # one row: no spread, the shift of a row
    assert spread == 0.0 and 3.5 < shift < 6.5


def test_epochs_to_recover_counts_from_the_drift() -> None:
    from phyll_core.compare import epochs_to_recover

    curve = [(1, 0.5), (2, 0.80), (3, 0.2), (4, 0.70), (5, 0.79)]
    assert epochs_to_recover(curve, 0.80, 2) == 3  # 0.79 is within 2 points of 0.80
    assert epochs_to_recover(curve, 0.85, 2) is None
    assert epochs_to_recover(curve, 0.60, 2) == 2  # the first evaluated epoch after it


def test_the_run_summary_counts_the_refreshes() -> None:
    from phyll_core.engine import Run, TrainConfig

    run = Run(TrainConfig(dataset="iris", epochs=4, eval_every=100))
    run.train(2)
    assert run.summary()["output_refreshes"] == 0
    for system in run.unique_systems():
        system.perturb(3.0, 1)
    run.train()
    assert run.summary()["output_refreshes"] >= 1
