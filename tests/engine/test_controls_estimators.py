"""The control estimators on their own: SPSA's averaged directions, the accept test, and the
physical rows an update costs with digital labels."""

from __future__ import annotations

import numpy as np
import pytest

from phyll_core import Interval
from phyll_core.engine import Problem
from phyll_core.engine.controls import BlockControls, ControlSettings, spsa_gradient
from phyll_core.engine.phyll_rules import PhyLL
from phyll_core.errors import PhyllError
from phyll_core.system import Controls

SPEC = Controls(6, Interval(-1.0, 1.0), "test")
CURVATURE = np.array([1.0, 2.0, 0.5, 1.5, 3.0, 1.0])
TARGET = np.array([0.3, -0.2, 0.5, 0.0, -0.4, 0.1])


def quadratic(theta: np.ndarray) -> float:
    return float(0.5 * np.sum(CURVATURE * (theta - TARGET) ** 2))


def test_spsa_gradient_is_unbiased_and_averaging_cuts_its_variance() -> None:
    theta = np.zeros(6)
    true = CURVATURE * (theta - TARGET)
    rng = np.random.default_rng(0)
    errors = {}
    for k in (1, 8):
        draws = np.array(
            [spsa_gradient(quadratic, SPEC, theta, 0.05, k, rng)[0] for _ in range(400)]
        )
        # central differences are exact on a quadratic: the only error is the direction's
        assert np.allclose(draws.mean(axis=0), true, atol=0.1 if k == 1 else 0.04)
        errors[k] = float(np.mean(np.sum((draws - true) ** 2, axis=1)))
    assert 5.0 < errors[1] / errors[8] < 12.0  # variance / K, K = 8


@pytest.mark.parametrize(("directions", "accept"), [(1, False), (4, False), (1, True)])
def test_spsa_minimises_a_quadratic(directions: int, accept: bool) -> None:
    settings = ControlSettings("spsa", lr=0.01, perturbation=0.02, directions=directions,
                               accept=accept)
    ctl = BlockControls(SPEC, np.zeros(6), settings)
    rng = np.random.default_rng(1)
    start = quadratic(ctl.theta)
    for _ in range(300):
        ctl.update(quadratic, quadratic(ctl.theta), rng)
    assert quadratic(ctl.theta) < 0.02 * start
    assert not SPEC.domain.outside(ctl.theta).any()
    assert (ctl.accepted > 0) == accept


def test_accept_never_takes_a_step_that_raises_the_loss() -> None:
    settings = ControlSettings("spsa", lr=0.2, perturbation=0.02, accept=True)
    ctl = BlockControls(SPEC, np.zeros(6), settings)
    rng = np.random.default_rng(2)
    losses = [quadratic(ctl.theta)]
    for _ in range(100):  # large steps overshoot often: those must be refused
        before = ctl.theta.copy()
        reported = ctl.update(quadratic, losses[-1], rng)
        now = quadratic(ctl.theta)
        assert now <= losses[-1] and reported == now
        if now == losses[-1]:
            assert np.array_equal(ctl.theta, before)
        losses.append(now)
    assert 0 < ctl.accepted < 100


@pytest.mark.parametrize("estimator", ["spsa", "search"])
def test_periodic_controls_are_wrapped_not_clipped(estimator: str) -> None:
    """A phase whose optimum (0.5 rad) lies across the end of [0, 2 pi] from the start (6.0):
    wrapped steps reach it, clipped ones stop at 2 pi."""
    target = 0.5

    def loss(theta: np.ndarray) -> float:
        return float(np.sum(1.0 - np.cos(theta - target)))

    ends = {}
    for periodic in (False, True):
        spec = Controls(3, Interval(0.0, 2 * np.pi), "phases", periodic=periodic)
        settings = ControlSettings(estimator, lr=0.01, perturbation=0.02)
        ctl = BlockControls(spec, np.full(3, 6.0), settings)
        rng = np.random.default_rng(3)
        for _ in range(400):
            ctl.update(loss, loss(ctl.theta), rng)
        assert not spec.domain.outside(ctl.theta).any()
        ends[periodic] = loss(ctl.theta)
    assert ends[True] < 0.01 and ends[False] > 0.3, ends


def test_bad_directions_are_refused() -> None:
    with pytest.raises(PhyllError, match="physics_directions"):
        ControlSettings.from_rule_params("spsa", physics_directions=0)


@pytest.mark.parametrize(("labels", "block0_rows"), [("physical", 2), ("digital", 1)])
def test_update_cost_in_physical_rows(labels: str, block0_rows: int) -> None:
    from tests.engine.test_controls_training import Offsets, _data

    x, y = _data()
    n = x.shape[0]
    system = Offsets()
    rule = PhyLL(negatives="random", physics="spsa", physics_directions=3, physics_accept=True)
    rule.init(Problem(n_features=4, n_classes=4, systems=[system], blocks=2, width=8, seed=1,
                      labels=labels))
    assert rule.blocks[0].label_slots == (4 if labels == "digital" else 0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        rule.step(x, y, rng)
    # per update: 3 directions x 2 evaluations + 1 accept test; block 0 shares its positives'
    # physics with the negatives under digital labels (n rows), block 1 sends 2n
    evaluations = 3 * 2 + 1
    assert rule.control_queries() == 5 * evaluations * (block0_rows * n + 2 * n)
