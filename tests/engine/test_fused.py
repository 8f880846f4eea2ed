"""The fused inner-step kernel of the published loss agrees with the generic goodness/objective
path (plain NumPy, :mod:`phyll_core.engine.losses`). The kernel sums in another order (rows
last, the logistic through tanh, the sign through the IEEE sign bit), so the two agree to
rounding: 1e-12 relative in float64, and float32 kernels agree with the float64 reference to
float32 accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from phyll_core.engine import fused
from phyll_core.engine.fused import CosineSoftplusGrad, fused_grad
from phyll_core.engine.losses import CosineGoodness, FFThreshold, SoftplusDelta, SumSquares


def generic(goodness, objective, z, w, n):
    a = z @ w.T
    g, cache = goodness.forward(a)
    value, d_pos, d_neg = objective.value_and_grad(g[:n], g[n:])
    return value, goodness.backward(cache, np.concatenate([d_pos, d_neg])).T @ z


def problem(dtype, n=37, width=9, cols=14, seed=3):
    rng = np.random.default_rng(seed)
    goodness = CosineGoodness(width, rng)
    z = rng.standard_normal((2 * n, cols))
    w = rng.standard_normal((width, cols))
    return goodness, z.astype(dtype), w.astype(dtype), n


def rel_err(x, ref):
    return float(np.abs(x - ref).max() / np.abs(ref).max())


@pytest.mark.parametrize("theta", [4.0, 0.7, -2.5])
def test_fused_gradient_float64_matches_generic_path_to_rounding(theta):
    goodness, z, w, n = problem(np.float64)
    objective = SoftplusDelta(theta)
    kernel = fused_grad(goodness, objective, z, n)
    assert isinstance(kernel, CosineSoftplusGrad)
    out = np.empty_like(w)
    value = kernel(w, out, with_value=True)
    ref_value, ref_grad = generic(goodness, objective, z, w, n)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, ref_grad, rtol=1e-12, atol=1e-12 * np.abs(ref_grad).max())
    assert value == pytest.approx(ref_value, rel=1e-12)
    # repeated calls reuse the buffers and do not depend on earlier ones; z is only read
    z_before, w2 = z.copy(), w * 0.5
    kernel(w2, out)
    np.testing.assert_allclose(out, generic(goodness, objective, z, w2, n)[1], rtol=1e-12,
                               atol=1e-12 * np.abs(out).max())
    assert np.isnan(kernel(w2, out))
    assert np.array_equal(z, z_before)


@pytest.mark.parametrize("theta", [4.0, 0.7])
def test_fused_gradient_float32_matches_float64_reference(theta):
    goodness, z, w, n = problem(np.float64)
    objective = SoftplusDelta(theta)
    ref_value, ref_grad = generic(goodness, objective, z, w, n)
    goodness.cast(np.dtype(np.float32))
    z32, w32 = z.astype(np.float32), w.astype(np.float32)
    out = np.empty_like(w32)
    value = fused_grad(goodness, objective, z32, n)(w32, out, with_value=True)
    assert out.dtype == np.float32
    assert rel_err(out.astype(np.float64), ref_grad) < 1e-5
    assert value == pytest.approx(ref_value, rel=1e-5)
    # and as close as the generic path itself gets in float32
    _, gen32 = generic(goodness, objective, z32, w32, n)
    assert rel_err(out.astype(np.float64), ref_grad) < 4 * rel_err(gen32.astype(np.float64),
                                                                    ref_grad) + 1e-6


def test_any_output_layout_and_weights_layout():
    goodness, z, w, n = problem(np.float64, n=10, width=4, cols=6)
    objective = SoftplusDelta(4.0)
    kernel = fused_grad(goodness, objective, z, n)
    ref = np.empty_like(w)
    kernel(w, ref)
    out_f = np.asfortranarray(np.empty_like(w))
    kernel(np.asfortranarray(w), out_f)
    np.testing.assert_allclose(out_f, ref, rtol=1e-14, atol=0)
    # float32 rows with float64 weights and output: computed in the rows' dtype
    goodness.cast(np.dtype(np.float32))
    out64 = np.empty_like(w)
    fused_grad(goodness, objective, z.astype(np.float32), n)(w, out64)
    assert rel_err(out64, ref) < 1e-5


def test_large_z_read_through_a_transposed_view(monkeypatch):
    goodness, z, w, n = problem(np.float64, n=50, width=6, cols=11, seed=5)
    objective = SoftplusDelta(4.0)
    out_copy, out_view = np.empty_like(w), np.empty_like(w)
    fused_grad(goodness, objective, z, n)(w, out_copy)
    monkeypatch.setattr(fused, "_COPY_ZT_BYTES", 0)
    kernel = fused_grad(goodness, objective, z, n)
    assert not kernel.zt.flags.c_contiguous
    kernel(w, out_view)
    np.testing.assert_allclose(out_view, out_copy, rtol=1e-12, atol=1e-14)


def test_zero_outputs_and_zero_theta():
    """Exact zeros in ``a`` take ``sign(0) = +1`` (as ``copysign`` in the generic path); with
    ``theta = 0`` the loss is constant and the gradient exactly zero."""
    goodness, z, w, n = problem(np.float64, n=8, width=5, cols=7)
    w[1:3] = 0.0  # two output units are exactly 0 on every row
    objective = SoftplusDelta(4.0)
    out = np.empty_like(w)
    fused_grad(goodness, objective, z, n)(w, out)
    np.testing.assert_allclose(out, generic(goodness, objective, z, w, n)[1], rtol=1e-12,
                               atol=1e-12 * np.abs(out).max())
    value = fused_grad(goodness, SoftplusDelta(0.0), z, n)(w, out, with_value=True)
    assert value == pytest.approx(np.log(2.0))
    assert not np.any(out)


def test_rows_must_pair_positives_and_negatives():
    goodness, z, _, n = problem(np.float64, n=4)
    with pytest.raises(ValueError, match="positive then"):
        CosineSoftplusGrad(goodness.p, 4.0, z[:-1], n)


def test_other_losses_take_the_generic_path():
    rng = np.random.default_rng(0)
    z = np.ones((4, 3))
    assert fused_grad(SumSquares(2), SoftplusDelta(), z, 2) is None
    assert fused_grad(CosineGoodness(2, rng), FFThreshold(), z, 2) is None
