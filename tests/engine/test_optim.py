"""Adam (AdamW) against the textbook update, in float64 and float32, and resumed from a copied
state (as a checkpoint or the controls' snapshot restores it)."""

from __future__ import annotations

import numpy as np
import pytest

from phyll_core.engine.optim import Adam


def reference(w, grads, lr, wd, b1=0.9, b2=0.999, eps=1e-8):
    """Plain float64 AdamW: ``w <- (1 - lr wd) w - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v)
    + eps)``."""
    w, m, v = w.astype(np.float64), np.zeros(w.shape), np.zeros(w.shape)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = (1 - lr * wd) * w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
    return w, m, v


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("wd", [0.0, 0.05])
def test_adam_matches_textbook_update(dtype, rtol, wd):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((5, 7))
    grads = [rng.standard_normal((5, 7)) for _ in range(12)]
    opt = Adam(lr=1e-2, weight_decay=wd)
    params = {"W": w0.astype(dtype), "b": np.zeros(3, dtype)}
    opt.init(params)
    for g in grads:
        opt.update(params, {"W": g.astype(dtype), "b": np.ones(3, dtype)})
    w, m, v = reference(w0.astype(dtype), [g.astype(dtype) for g in grads], 1e-2, wd)
    assert params["W"].dtype == opt.state["m/W"].dtype == opt.state["v/W"].dtype == dtype
    np.testing.assert_allclose(params["W"], w, rtol=rtol, atol=rtol * np.abs(w).max())
    np.testing.assert_allclose(opt.state["m/W"], m, rtol=rtol, atol=rtol * np.abs(m).max())
    np.testing.assert_allclose(opt.state["v/W"], v, rtol=rtol, atol=rtol * np.abs(v).max())
    assert float(opt.state["t"]) == len(grads)
    assert np.all(params["b"] < 0)  # the second parameter moved against its gradient


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_resumes_from_a_copied_state_exactly(dtype):
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal((4, 3)).astype(dtype) for _ in range(8)]
    w0 = rng.standard_normal((4, 3)).astype(dtype)
    straight, resumed = Adam(lr=3e-2), Adam(lr=3e-2)
    p1, p2 = {"W": w0.copy()}, {"W": w0.copy()}
    straight.init(p1)
    resumed.init(p2)
    for i, g in enumerate(grads):
        if i == 4:  # the state replaced by copies, as LocalBlock.load and the controls do
            resumed.state = {k: np.array(v, copy=True) for k, v in resumed.state.items()}
            p2 = {"W": p2["W"].copy()}
        straight.update(p1, {"W": g})
        resumed.update(p2, {"W": g})
    assert np.array_equal(p1["W"], p2["W"])
    assert all(np.array_equal(straight.state[k], resumed.state[k]) for k in straight.state)


def test_changed_hyperparameters_take_effect():
    params = {"W": np.ones(2)}
    opt = Adam(lr=0.1)
    opt.init(params)
    opt.update(params, {"W": np.ones(2)})
    opt.beta1 = 0.0  # cached constants follow the fields
    opt.update(params, {"W": np.ones(2)})
    assert opt.state["m/W"] == pytest.approx([1.0, 1.0])
