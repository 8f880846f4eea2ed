"""The ``weighted`` prediction of PhyLL: per-block goodness weights fitted on the training data
(a conditional logit), sharing the physical passes of one evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from phyll_core.engine import Run, TrainConfig
from phyll_core.engine.logistic import fit_block_weights

SMALL = dict(dataset="iris", epochs=4, width=16, blocks=3, system="random-features")


def _nll(w: np.ndarray, g: np.ndarray, y: np.ndarray) -> float:
    s = np.einsum("k,knc->nc", w, g)
    s = s - s.max(axis=1, keepdims=True)
    return float(-(s[np.arange(y.size), y] - np.log(np.exp(s).sum(axis=1))).sum())


def test_fitted_weights_minimise_the_regularised_conditional_logit():
    rng = np.random.default_rng(0)
    n, c = 400, 4
    y = rng.integers(0, c, n)
    informative = rng.normal(size=(n, c)) * 0.3
    informative[np.arange(n), y] += 1.0
    g = np.stack([rng.normal(size=(n, c)), informative])  # block 0 is noise, block 1 knows
    w = fit_block_weights(g, y)
    assert abs(w[0]) < 0.5 < 2.0 < w[1]
    objective = lambda v: _nll(v, g, y) + 0.5 * float(((v - 1) ** 2).sum())  # noqa: E731
    for k in range(2):  # a minimum: no coordinate step lowers the objective
        for step in (-1e-3, 1e-3):
            moved = w.copy()
            moved[k] += step
            assert objective(moved) >= objective(w) - 1e-9
    assert _nll(w, g, y) < _nll(np.ones(2), g, y)
    np.testing.assert_array_equal(w, fit_block_weights(g, y))  # deterministic


def test_weighted_shares_the_passes_of_goodness_and_round_trips():
    run = Run(TrainConfig(**SMALL))
    run.train(3)
    rule, system = run.rule, run.systems[0]
    np.testing.assert_array_equal(rule.block_weights, np.ones(3))  # not fitted: the goodness
    x_tr, x_te = run.data.x_train, run.data.x_test
    np.testing.assert_array_equal(rule.predict(x_te, "weighted"), rule.predict(x_te, "goodness"))
    before = system.queries.samples
    for x in (x_tr, x_te):  # what the published methods measure, pass by pass
        rule.block_scores(x)
        rule._features(x)
    rule._features(x_tr)  # the readout's fit
    separate = system.queries.samples - before
    before = system.queries.samples
    by_method = run.evaluate_all()
    assert system.queries.samples - before == separate  # `weighted` adds no physical pass
    assert set(by_method) == {"goodness", "readout", "weighted"}
    assert not np.array_equal(rule.block_weights, np.ones(3))
    state = rule.state_dict()
    fresh = Run(TrainConfig(**SMALL))
    fresh.rule.load_state_dict(state)
    np.testing.assert_array_equal(fresh.rule.block_weights, rule.block_weights)
    np.testing.assert_array_equal(
        fresh.rule.predict(x_te, "weighted"), rule.predict(x_te, "weighted")
    )
    del state["weighted/w"]  # a checkpoint from before the method: equal weights
    older = Run(TrainConfig(**SMALL))
    older.rule.load_state_dict(state)
    np.testing.assert_array_equal(older.rule.block_weights, np.ones(3))


def test_outside_an_evaluation_every_prediction_measures_afresh():
    run = Run(TrainConfig(**SMALL))
    run.train(2)
    system, x = run.systems[0], run.data.x_test
    q0 = system.queries.samples
    run.rule.predict(x, "goodness")
    q1 = system.queries.samples
    run.rule.predict(x, "weighted")
    assert system.queries.samples - q1 == q1 - q0 > 0  # noise and drift are seen
    with run.rule.shared_scoring():
        s0 = system.queries.samples
        run.rule.predict(x, "goodness")
        s1 = system.queries.samples
        run.rule.predict(x, "weighted")
        assert system.queries.samples == s1 > s0


@pytest.mark.parametrize("method", ["weighted"])
def test_the_cli_accepts_the_method(method):
    config = TrainConfig(predict=method, **SMALL)
    run = Run(config)
    run.train()
    assert run.summary()["test_accuracy"] >= 0.85
