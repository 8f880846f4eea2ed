"""Analytic gradients of every goodness x objective pair against central finite differences."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from phyll_core.engine.losses import (
    CosineGoodness,
    FFThreshold,
    MeanSquares,
    SoftplusDelta,
    SumSquares,
)

GOODNESS = [CosineGoodness, SumSquares, MeanSquares]
OBJECTIVES = [lambda: SoftplusDelta(4.0), lambda: SoftplusDelta(0.7), lambda: FFThreshold(0.5)]


def _loss(goodness, objective, a_pos, a_neg):
    return objective.value_and_grad(goodness.value(a_pos), goodness.value(a_neg))[0]


@pytest.mark.parametrize(
    ("make_goodness", "make_objective"), list(itertools.product(GOODNESS, OBJECTIVES))
)
def test_gradient_matches_finite_differences(make_goodness, make_objective):
    rng = np.random.default_rng(3)
    width = 7
    goodness = make_goodness(width, np.random.default_rng(1))
    objective = make_objective()
    scale = 1.0 if make_goodness is CosineGoodness else 0.3
    a_pos = scale * rng.standard_normal((5, width))
    a_neg = scale * rng.standard_normal((5, width))
    _, d_pos, d_neg = objective.value_and_grad(goodness.value(a_pos), goodness.value(a_neg))
    grad_pos, grad_neg = goodness.grad(a_pos, d_pos), goodness.grad(a_neg, d_neg)
    eps = 1e-6
    for a, grad, which in ((a_pos, grad_pos, 0), (a_neg, grad_neg, 1)):
        numeric = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = a.copy(), a.copy()
            plus[idx] += eps
            minus[idx] -= eps
            args_p = (plus, a_neg) if which == 0 else (a_pos, plus)
            args_m = (minus, a_neg) if which == 0 else (a_pos, minus)
            numeric[idx] = (
                _loss(goodness, objective, *args_p) - _loss(goodness, objective, *args_m)
            ) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_cosine_goodness_is_cosine_of_magnitudes():
    g = CosineGoodness(4, np.random.default_rng(0))
    a = np.array([[1.0, -2.0, 0.5, 0.0]])
    u = np.abs(a[0])
    assert g.value(a)[0] == pytest.approx(u @ g.p / np.linalg.norm(u))
    assert np.linalg.norm(g.p) == pytest.approx(1.0)
    assert g.value(2.5 * a)[0] == pytest.approx(g.value(a)[0])  # scale invariant


def test_objective_values():
    g_pos, g_neg = np.array([0.9, 0.2]), np.array([0.1, 0.4])
    value = SoftplusDelta(4.0).value_and_grad(g_pos, g_neg)[0]
    assert value == pytest.approx(np.mean(np.log1p(np.exp(-4.0 * (g_pos - g_neg)))))
    value = FFThreshold(0.5).value_and_grad(g_pos, g_neg)[0]
    expected = np.mean(np.log1p(np.exp(-(g_pos - 0.5))) + np.log1p(np.exp(g_neg - 0.5)))
    assert value == pytest.approx(expected)
    assert np.isnan(SoftplusDelta().value_and_grad(g_pos, g_neg, with_value=False)[0])
