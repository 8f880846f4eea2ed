"""``labels="digital"``: the label slots bypass block 0's physics (skip connection only)."""

from __future__ import annotations

import numpy as np

from phyll_core.engine import Run, TrainConfig
from phyll_core.engine.network import embed

SMALL = dict(dataset="iris", epochs=2, width=8, inner_steps=2)


def test_block0_physics_never_sees_the_label_and_is_measured_once_per_row():
    run = Run(TrainConfig(system="identity", labels="digital", **SMALL))
    rule, system = run.rule, run.systems[0]
    block0 = rule.blocks[0]
    assert block0.label_slots == 3 and block0.layer.in_width == 4
    x, y = run.data.x_train, run.data.y_train
    system.queries.reset()
    rule.step(x, y, np.random.default_rng(0))
    n, c, k = y.size, run.data.n_classes, run.config.blocks
    # block 0: n rows (scoring, shared by every label and by positives and negatives);
    # block 1: n * C scoring rows plus the positive and negative rows
    assert system.queries.samples == n + (k - 1) * (c * n + 2 * n)
    m = rule.problem.label_constant
    a = block0.physics(embed(x[:5], y[:5], c, m))
    b = block0.physics(embed(x[:5], (y[:5] + 1) % c, c, m))
    np.testing.assert_array_equal(a, b)


def test_digital_labels_score_like_the_row_by_row_computation():
    run = Run(TrainConfig(system="random-features", labels="digital", **SMALL))
    run.train()
    rule, x = run.rule, run.data.x_test[:7]
    c, m = run.data.n_classes, rule.problem.label_constant
    expected = np.zeros((7, c))
    for label in range(c):
        h = embed(x, np.full(7, label), c, m)
        for block in rule.blocks:
            h = block.project(block.z(h))
            expected[:, label] += block.goodness.value(h)
    np.testing.assert_allclose(rule.scores(x), expected, rtol=1e-10, atol=1e-12)


def test_without_skip_the_label_slots_still_reach_z_and_the_network_learns():
    run = Run(TrainConfig(system="identity", labels="digital", skip=False, **SMALL))
    block0 = run.rule.blocks[0]
    c, m = run.data.n_classes, run.rule.problem.label_constant
    h = embed(run.data.x_train[:4], np.arange(4) % c, c, m)
    z = run.rule.blocks[0].z(h, calibrate=True)
    # z = [P(enc(features)), label slots, 1]: the label is its only digital part
    assert z.shape[1] == block0.layer.out_width + c + 1
    np.testing.assert_array_equal(z[:, -1 - c : -1], h[:, :c])
    run = Run(TrainConfig(system="identity", labels="digital", skip=False, dataset="iris",
                          epochs=30, width=16))
    run.train()
    assert run.summary()["test_accuracy"] >= 0.85
