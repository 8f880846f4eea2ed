"""The compiled inner steps (``--kernel numba``, :mod:`phyll_core.engine.fused_numba`) against
the NumPy kernel followed by ``Adam.update``: W, both moments, the step counter and the loss,
over several steps (1e-12 relative in float64, float32 rounding in float32); AdamW operation by
operation as ``Adam.update`` (bit for bit); whole runs deterministic and resumed exactly from a
checkpoint; the kernel selection (``auto``/``numpy``/``numba``) and its errors. The compiled
tests skip when numba is absent; the selection tests run either way."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from phyll_core.engine import Run, TrainConfig
from phyll_core.engine.checkpoint import load_checkpoint, save_checkpoint
from phyll_core.engine.fused import CosineSoftplusGrad, resolve_kernel
from phyll_core.engine.losses import CosineGoodness
from phyll_core.engine.optim import Adam
from phyll_core.errors import PhyllError
from tests.engine.conftest import train_and_resume

needs_numba = pytest.mark.skipif(
    importlib.util.find_spec("numba") is None, reason="numba is not installed (the fast extra)"
)
SMALL = dict(dataset="iris", width=16, epochs=4, inner_steps=5)


def setup(dtype, n=37, width=9, cols=14, seed=3, weight_decay=0.0):
    rng = np.random.default_rng(seed)
    p = CosineGoodness(width, rng).p.astype(dtype)
    z = rng.standard_normal((2 * n, cols)).astype(dtype)
    w = (rng.standard_normal((width, cols)) / np.sqrt(cols)).astype(dtype)
    opt = Adam(lr=1e-2, weight_decay=weight_decay)
    opt.init({"W": w})
    return p, z, w, opt, n


def numpy_steps(p, theta, z, w, opt, n, steps):
    """The NumPy path of LocalBlock.train: the fused kernel, then Adam.update, per step."""
    kernel, out, value = CosineSoftplusGrad(p, theta, z, n), np.empty_like(w), float("nan")
    for step in range(steps):
        value = kernel(w, out, with_value=step == steps - 1)
        opt.update({"W": w}, {"W": out})
    return value


def rel(x, ref):
    return float(np.abs(np.asarray(x, np.float64) - ref).max() / np.abs(ref).max())


@needs_numba
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("theta", [4.0, -1.5])
def test_float64_steps_match_the_numpy_kernel_and_adam(theta, weight_decay):
    from phyll_core.engine.fused_numba import train_steps, usable

    p, z, w, opt, n = setup(np.float64, weight_decay=weight_decay)
    w2, opt2 = w.copy(), Adam(lr=opt.lr, weight_decay=weight_decay)
    opt2.init({"W": w2})
    assert usable(w2, z, opt2)
    for _ in range(3):  # three train() calls of 4 inner steps: the moments carry over
        ref = numpy_steps(p, theta, z, w, opt, n, 4)
        m2, v2 = opt2.state["m/W"], opt2.state["v/W"]
        value = train_steps(w2, z, n, p, theta, opt2, 4)
        assert opt2.state["m/W"] is m2 and opt2.state["v/W"] is v2  # updated in place
        assert value == pytest.approx(ref, rel=1e-12)
        assert rel(w2, w) < 1e-12
        assert sorted(opt2.state) == sorted(opt.state)
        for key in ("m/W", "v/W"):
            assert opt2.state[key].dtype == np.float64
            assert rel(opt2.state[key], opt.state[key]) < 1e-12
        assert float(opt2.state["t"]) == float(opt.state["t"])
        assert opt2.state["t"].dtype == opt.state["t"].dtype and opt2.state["t"].ndim == 0
    if weight_decay:  # the decay is applied: without it the weights differ
        _, _, w3, opt3, _ = setup(np.float64)
        train_steps(w3, z, n, p, theta, opt3, 12)
        assert rel(w3, w2) > 1e-4


@needs_numba
def test_float32_steps_match_to_float32_rounding():
    from phyll_core.engine.fused_numba import train_steps

    p, z, w, opt, n = setup(np.float32)
    w2, opt2 = w.copy(), Adam(lr=opt.lr)
    opt2.init({"W": w2})
    ref = numpy_steps(p, 4.0, z, w, opt, n, 6)
    value = train_steps(w2, z, n, p, 4.0, opt2, 6)
    assert w2.dtype == np.float32 and opt2.state["m/W"].dtype == np.float32
    assert value == pytest.approx(ref, rel=1e-5)
    assert rel(w2, w) < 1e-5
    assert rel(opt2.state["m/W"], opt.state["m/W"]) < 1e-4
    assert rel(opt2.state["v/W"], opt.state["v/W"]) < 1e-4
    # and as close to the float64 trajectory as the NumPy float32 path is
    p64, z64, w64, opt64, _ = setup(np.float64)
    numpy_steps(p64, 4.0, z64, w64, opt64, n, 6)
    assert rel(w2, w64) < 4 * rel(w, w64) + 1e-6


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_step_is_the_same_operations_as_adam_update(dtype, weight_decay):
    from phyll_core.engine.fused_numba import _adam

    rng = np.random.default_rng(1)
    w = rng.standard_normal((5, 7)).astype(dtype)
    opt = Adam(lr=3e-3, weight_decay=weight_decay)
    opt.init({"W": w})
    w2, m2, v2 = w.copy(), opt.state["m/W"].copy(), opt.state["v/W"].copy()
    consts = np.array([opt.beta1, 1 - opt.beta1, opt.beta2, 1 - opt.beta2, opt.eps,
                       1 - opt.lr * opt.weight_decay, 0, 1, 1], dtype)
    for t in range(1, 6):
        grad = rng.standard_normal(w.shape).astype(dtype) * 10.0 ** -t
        opt.update({"W": w}, {"W": grad})
        _adam(w2, grad, m2, v2, consts, np.array([opt.step_size(t)], dtype), bool(weight_decay))
        np.testing.assert_array_equal(w2, w)
        np.testing.assert_array_equal(m2, opt.state["m/W"])
        np.testing.assert_array_equal(v2, opt.state["v/W"])


@needs_numba
def test_runs_are_deterministic_and_agree_with_numpy_in_float64():
    runs = [Run(TrainConfig(seed=2, kernel=k, **SMALL)) for k in ("numba", "numba", "numpy")]
    assert [b.kernel for b in runs[0].rule.blocks] == ["numba"] * runs[0].config.blocks
    for run in runs:
        run.train()
    a, b, ref = (r.rule.state_dict() for r in runs)
    for key, value in ref.items():
        np.testing.assert_array_equal(a[key], b[key])
        np.testing.assert_allclose(a[key], value, rtol=1e-9, atol=1e-12)
    assert runs[0].summary()["test_accuracy"] == runs[2].summary()["test_accuracy"]


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_resume_from_a_checkpoint_is_exact(tmp_path, dtype):
    config = dict(seed=1, kernel="numba", dtype=dtype, **SMALL)
    full, resumed = train_and_resume(TrainConfig(**config), tmp_path / "ck")
    assert resumed.config.kernel == "numba"
    assert all(b.kernel == "numba" for b in resumed.rule.blocks)
    for key, value in full.rule.state_dict().items():
        np.testing.assert_array_equal(resumed.rule.state_dict()[key], value)


@needs_numba
def test_other_losses_and_layouts_take_the_numpy_path():
    from phyll_core.engine.fused_numba import usable

    run = Run(TrainConfig(seed=0, kernel="numba", loss="sum-squares", **SMALL))
    ref = Run(TrainConfig(seed=0, kernel="numpy", loss="sum-squares", **SMALL))
    run.train()
    ref.train()
    for key, value in ref.rule.state_dict().items():
        np.testing.assert_array_equal(run.rule.state_dict()[key], value)
    _, z, w, opt, _ = setup(np.float64)
    assert not usable(np.asfortranarray(w), z, opt)
    assert not usable(w, z.astype(np.float32), opt)


def test_kernel_choice_is_validated():
    with pytest.raises(PhyllError, match="--kernel must be one of auto, numpy, numba"):
        TrainConfig(kernel="cuda")
    assert TrainConfig().kernel == "numpy"
    assert resolve_kernel("numpy") == "numpy"


def test_numba_requested_without_numba_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    monkeypatch.delitem(sys.modules, "phyll_core.engine.fused_numba", raising=False)
    resolve_kernel.cache_clear()
    try:
        with pytest.raises(PhyllError, match=r"--kernel numba needs numba \(pip install"):
            resolve_kernel("numba")
        assert resolve_kernel("auto") == "numpy"
        run = Run(TrainConfig(kernel="numba", **SMALL))  # built: predicting needs no kernel
        with pytest.raises(PhyllError, match="needs numba"):
            run.rule.step(run.data.x_train, run.data.y_train, np.random.default_rng(0))
        run = Run(TrainConfig(kernel="auto", **SMALL))
        run.train()  # NumPy's kernel
        assert run.epoch == SMALL["epochs"]
    finally:
        resolve_kernel.cache_clear()


def test_a_run_saved_with_numba_predicts_and_refuses_to_resume_without_it(
    cli, tmp_path, monkeypatch
):
    run = Run(TrainConfig(seed=0, **SMALL))
    run.train()
    run.summary()
    run.config.kernel = "numba"  # as if trained with --kernel numba
    save_checkpoint(run, tmp_path / "ck")
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "phyll_core.engine.fused_numba", raising=False)
    resolve_kernel.cache_clear()
    try:
        loaded = load_checkpoint(tmp_path / "ck")
        x = run.data.x_test
        np.testing.assert_array_equal(loaded.rule.predict(x, "goodness"),
                                      run.rule.predict(x, "goodness"))
        res = cli("train", "--resume", str(tmp_path / "ck"), "--epochs", str(SMALL["epochs"] + 1))
        assert res.code != 0
        lines = [line for line in res.err.splitlines() if line.strip()]
        assert len(lines) == 1 and "--kernel numba needs numba" in lines[0], res.err
        res = cli("train", "--dataset", "iris", "--kernel", "numba", "--no-save", "--epochs", "1")
        assert res.code != 0 and "--kernel numba needs numba" in res.err
        assert "Traceback" not in res.err
    finally:
        resolve_kernel.cache_clear()


def test_cli_kernel_option(cli, tmp_path):
    res = cli("train", "--dataset", "iris", "--epochs", "1", "--kernel", "cuda", "--no-save")
    assert res.code != 0
    lines = [line for line in res.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "--kernel must be one of auto, numpy, numba" in lines[0]
    assert "Traceback" not in res.err
    kernel = "numba" if importlib.util.find_spec("numba") else "auto"
    out = tmp_path / "run"
    res = cli("train", "--dataset", "iris", "--epochs", "2", "--kernel", kernel, "--out", str(out),
              "-q")
    assert res.code == 0, res.err
    assert load_checkpoint(out).config.kernel == kernel


@needs_numba
def test_auto_is_numba_when_installed_and_large_buffers_are_not_kept():
    from phyll_core.engine import fused_numba

    assert resolve_kernel("auto") == "numba"
    kept = fused_numba._kept.__dict__.setdefault("s", {})
    p, z, w, opt, n = setup(np.float64)
    fused_numba.train_steps(w, z, n, p, 4.0, opt, 2)
    assert ("<f8", w.shape[0], z.shape[0], w.shape[1]) in kept  # small: kept for the next call
    p, z, w, opt, n = setup(np.float64, n=4000, width=40)  # a and u: 2.6 MB together
    fused_numba.train_steps(w, z, n, p, 4.0, opt, 2)
    assert ("<f8", 40, 8000, w.shape[1]) not in kept


@needs_numba
def test_shapes_that_do_not_fit_are_refused_before_the_compiled_code():
    from phyll_core.engine.fused_numba import train_steps

    p, z, w, opt, n = setup(np.float64)
    with pytest.raises(ValueError, match="z of shape"):
        train_steps(w, z, n + 1, p, 4.0, opt, 2)
    with pytest.raises(ValueError, match="z of shape"):
        train_steps(w, z[:, :-1].copy(), n, p, 4.0, opt, 2)
    with pytest.raises(ValueError, match="C-contiguous"):
        train_steps(w, np.asfortranarray(z), n, p, 4.0, opt, 2)
