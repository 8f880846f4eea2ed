"""Evaluation scores rows in bounded chunks: the same scores and predictions as one pass, the
same physical samples, more (smaller) calls."""

from __future__ import annotations

import numpy as np

from phyll_core.engine import Run, TrainConfig, phyll_rules


def test_chunked_scores_equal_one_pass(monkeypatch):
    run = Run(TrainConfig(dataset="iris", epochs=3, width=16, labels="physical"))
    run.train()
    rule, x = run.rule, run.data.x_train
    system = run.systems[0]
    calls, samples = system.queries.calls, system.queries.samples
    whole = rule.scores(x)
    one_pass = system.queries.calls - calls
    monkeypatch.setattr(phyll_rules, "SCORE_ROWS", 3 * 7)  # 7 rows of 3 labels per chunk
    calls2, samples2 = system.queries.calls, system.queries.samples
    chunked = rule.scores(x)
    assert system.queries.calls - calls2 == one_pass * -(-x.shape[0] // 7)
    assert system.queries.samples - samples2 == samples2 - samples == x.shape[0] * 3 * 2
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)
    assert np.array_equal(rule.predict(x, "goodness"), np.argmax(whole, axis=1))


def test_training_scores_hardest_negatives_in_chunks_with_the_same_result(monkeypatch):
    def trained(score_rows: int) -> Run:
        monkeypatch.setattr(phyll_rules, "SCORE_ROWS", score_rows)
        run = Run(TrainConfig(system="random-features", dataset="iris", epochs=4, width=16,
                              labels="physical"))
        run.train()
        return run

    whole, chunked = trained(10**9), trained(3 * 7)
    assert chunked.physical_queries == whole.physical_queries
    for a, b in zip(whole.rule.blocks, chunked.rule.blocks, strict=True):
        np.testing.assert_allclose(a.params["W"], b.params["W"], rtol=1e-10, atol=1e-12)
