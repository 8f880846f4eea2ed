"""The fused inner-step kernel of the published loss agrees with the generic goodness/objective
path (the same operations in the same order: equal to the last bit in float64)."""

from __future__ import annotations

import numpy as np
import pytest

from phyll_core.engine.fused import CosineSoftplusGrad, fused_grad
from phyll_core.engine.losses import CosineGoodness, FFThreshold, SoftplusDelta, SumSquares


def generic(goodness, objective, z, w, n):
    a = z @ w.T
    g, cache = goodness.forward(a)
    value, d_pos, d_neg = objective.value_and_grad(g[:n], g[n:])
    return value, goodness.backward(cache, np.concatenate([d_pos, d_neg])).T @ z


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("theta", [4.0, 0.7])
def test_fused_gradient_equals_generic_path(dtype, theta):
    rng = np.random.default_rng(3)
    n, width, cols = 37, 9, 14
    goodness, objective = CosineGoodness(width, rng), SoftplusDelta(theta)
    goodness.cast(np.dtype(dtype))
    z = rng.standard_normal((2 * n, cols)).astype(dtype)
    w = rng.standard_normal((width, cols)).astype(dtype)
    kernel = fused_grad(goodness, objective, z, n)
    assert isinstance(kernel, CosineSoftplusGrad)
    out = np.empty_like(w)
    value = kernel(w, out, with_value=True)
    ref_value, ref_grad = generic(goodness, objective, z, w, n)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref_grad, rtol=1e-5 if dtype == np.float32 else 1e-13,
                               atol=0)
    assert value == pytest.approx(ref_value, rel=1e-6)
    if dtype == np.float64:
        assert np.array_equal(out, ref_grad)
    # repeated calls reuse the buffers and do not depend on earlier ones
    w2 = w * 0.5
    kernel(w2, out)
    np.testing.assert_allclose(out, generic(goodness, objective, z, w2, n)[1], rtol=1e-5)
    assert np.isnan(kernel(w2, out))


def test_other_losses_take_the_generic_path():
    rng = np.random.default_rng(0)
    z = np.ones((4, 3))
    assert fused_grad(SumSquares(2), SoftplusDelta(), z, 2) is None
    assert fused_grad(CosineGoodness(2, rng), FFThreshold(), z, 2) is None
