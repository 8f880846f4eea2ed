"""The inner steps of the published local loss compiled with numba (``--kernel numba``).

:func:`train_steps` runs every one of a block's ``inner_steps`` on fixed rows
``z = [z_pos; z_neg]`` in one compiled call: the forward product ``a = W z^T``, the cosine
goodness, the softplus-delta objective, ``dL/dW`` (the same function as
:class:`~phyll_core.engine.fused.CosineSoftplusGrad`) and the AdamW update of
:class:`~phyll_core.engine.optim.Adam` (same formulas, the same order of operations in the
engine's dtype, the step size of :meth:`Adam.step_size`, the step counter advanced by one per
step), writing ``W`` and the moments ``m/W``, ``v/W`` of the optimiser's state in place. On the
published shapes (a few hundred rows, width 20) the NumPy kernel pays about 20 calls' set-up per
step; here the only calls are the two matrix products (BLAS: NumPy's own ``sgemm`` in float32,
:func:`numpy_sgemm`, numba's ``np.dot`` otherwise) and the elementwise work is plain loops.

Agreement: float64 matches the NumPy kernel followed by ``Adam.update`` to rounding (relative
``1e-12`` over several steps; the products and sums run in another order), float32 to float32
rounding. Importing this module imports numba (and compiles the kernel on first use, or loads it
from numba's cache): :class:`~phyll_core.engine.local.LocalBlock` imports it only when the
compiled path is selected (:func:`phyll_core.engine.fused.resolve_kernel`).
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import threading
from typing import Any

import numba
import numpy as np

from phyll_core.engine.fused import _KEEP_SCRATCH_BYTES
from phyll_core.engine.losses import _EPS
from phyll_core.engine.optim import Adam

__all__ = ["train_steps"]


_jit = numba.njit(cache=True, nogil=True, error_model="numpy")  # IEEE division: SIMD loops
_ROW_MAJOR, _NO_TRANS = 101, 111  # CBLAS enums


@_jit
def _loss_grad(
    a: np.ndarray, u: np.ndarray, vec: np.ndarray, n: int, p2: np.ndarray, consts: np.ndarray,
    with_value: bool,
) -> float:  # pragma: no cover - compiled
    """From ``a = W z^T`` (``width x 2n``), write ``dL/da`` into ``u``; return ``L`` (NaN unless
    ``with_value``); ``vec``: ``3 x 2n`` scratch. The goodness comes out scaled by
    ``c = -theta/2`` (``p2 = c p``), as in :class:`~phyll_core.engine.fused.CosineSoftplusGrad`."""
    width, rows = a.shape
    g_eps, one, inv_n = consts[6], consts[7], consts[8]
    zero = one - one
    norm, g, s1 = vec[0], vec[1], vec[2]
    norm[:] = zero
    g[:] = zero
    for i in range(width):  # rows last: every inner loop runs along contiguous memory
        pi = p2[i]
        for j in range(rows):
            x = a[i, j]
            norm[j] += x * x
            g[j] += abs(x) * pi
    for j in range(rows):  # g' = (|a| . p') / (||a|| + eps)
        norm[j] = math.sqrt(norm[j]) + g_eps
        g[j] = g[j] / norm[j]
    value = np.nan
    if with_value:  # L = mean softplus(2 (g'_pos - g'_neg)), summed in float64
        total = 0.0
        for j in range(n):
            x2 = 2.0 * (float(g[j]) - float(g[j + n]))
            total += max(x2, 0.0) + math.log1p(math.exp(-abs(x2)))
        value = total / n
    # s1 = dL/dg / (c norm) = +-(1 + tanh(g'_pos - g'_neg)) / (n norm); q = g' / norm
    for j in range(n):
        e = (math.tanh(g[j] - g[j + n]) + one) * inv_n
        s1[j] = e / norm[j]
        s1[j + n] = -e / norm[j + n]
    for j in range(rows):
        g[j] = g[j] / norm[j]
    for i in range(width):  # dL/da = sign(a) (p' - |a| q) s1
        pi = p2[i]
        for j in range(rows):
            x = a[i, j]
            u[i, j] = math.copysign(one, x) * ((pi - abs(x) * g[j]) * s1[j])
    return value


@_jit
def _adam(
    w: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, consts: np.ndarray,
    size: np.ndarray, decay: bool,
) -> None:  # pragma: no cover - compiled
    """One AdamW step in place, operation by operation as :meth:`Adam.update` (no fused
    multiply-add: the same roundings); ``size``: the step size as a 1-element array of the
    dtype."""
    b1, one_b1, b2, one_b2, eps, factor = (consts[0], consts[1], consts[2], consts[3],
                                           consts[4], consts[5])
    st = size[0]
    width, cols = w.shape
    for i in range(width):
        for k in range(cols):
            gk = grad[i, k]
            mk = m[i, k] * b1 + gk * one_b1
            vk = v[i, k] * b2 + (gk * gk) * one_b2
            m[i, k] = mk
            v[i, k] = vk
            wk = w[i, k] * factor if decay else w[i, k]
            w[i, k] = wk - (mk * st) / (math.sqrt(vk) + eps)


@_jit
def _steps_gemm(
    gemm: Any, w: np.ndarray, z: np.ndarray, zt: np.ndarray, n: int, p2: np.ndarray,
    m: np.ndarray, v: np.ndarray, consts: np.ndarray, sizes: np.ndarray, decay: bool,
    a: np.ndarray, u: np.ndarray, vec: np.ndarray, grad: np.ndarray, size: np.ndarray,
) -> float:  # pragma: no cover - compiled
    """``len(sizes)`` inner steps, the products by ``gemm`` (NumPy's CBLAS ``sgemm``, ILP64):
    see :func:`train_steps`; ``a`` to ``size``: the scratch of :class:`_Scratch`."""
    width, cols = w.shape
    rows = 2 * n
    one = consts[7]
    zero = one - one
    last = sizes.shape[0] - 1
    value = np.nan
    for step in range(last + 1):
        gemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, width, rows, cols, one, w.ctypes.data, cols,
             zt.ctypes.data, rows, zero, a.ctypes.data, rows)  # a = W z^T
        value = _loss_grad(a, u, vec, n, p2, consts, step == last)
        gemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, width, cols, rows, one, u.ctypes.data, rows,
             z.ctypes.data, cols, zero, grad.ctypes.data, cols)  # dL/dW = (dL/da) z
        size[0] = sizes[step]
        _adam(w, grad, m, v, consts, size, decay)
    return value


@_jit
def _steps_dot(
    w: np.ndarray, z: np.ndarray, zt: np.ndarray, n: int, p2: np.ndarray, m: np.ndarray,
    v: np.ndarray, consts: np.ndarray, sizes: np.ndarray, decay: bool,
    a: np.ndarray, u: np.ndarray, vec: np.ndarray, grad: np.ndarray, size: np.ndarray,
) -> float:  # pragma: no cover - compiled
    """:func:`_steps_gemm` with numba's ``np.dot`` (SciPy's BLAS) for the products."""
    last = sizes.shape[0] - 1
    value = np.nan
    for step in range(last + 1):
        np.dot(w, zt, a)
        value = _loss_grad(a, u, vec, n, p2, consts, step == last)
        np.dot(u, z, grad)
        size[0] = sizes[step]
        _adam(w, grad, m, v, consts, size, decay)
    return value


@functools.cache
def numpy_sgemm() -> Any:
    """NumPy's own CBLAS ``sgemm`` as a ctypes function, or None (then ``np.dot`` runs).

    numba's ``np.dot`` calls SciPy's BLAS, which may be another OpenBLAS build than NumPy's.
    Measured on the published shapes, one thread (``benchmarks/engine_numba.py --parts
    products``): SciPy 1.17's OpenBLAS 0.3.30 takes 10.6 us for the forward product in float32
    and 12.0 us for the backward one, NumPy 2.4's 0.3.31 called from compiled code 6.7 and
    8.0 us; in float64 both take 17 and 19 us. float64 keeps ``np.dot``: a version of this
    kernel that called NumPy's ``dgemm`` made the float32 kernel of another run in the same
    process 1.6x slower when the two alternated epoch by epoch (not understood). Only the
    ILP64 names of the NumPy wheels' OpenBLAS (``scipy_cblas_sgemm64_``, ``cblas_sgemm64_``:
    the suffix fixes 64-bit integers) in a library loaded from NumPy's folder are taken, after
    one product checked against ``np.dot``."""
    from threadpoolctl import threadpool_info

    root = os.path.dirname(np.__file__)  # also matches the wheels' numpy.libs/
    i64, enum = ctypes.c_int64, ctypes.c_int
    for info in threadpool_info():
        path = str(info.get("filepath") or "")
        if info.get("user_api") != "blas" or not path.startswith(root):
            continue
        lib = ctypes.CDLL(path)
        for name in ("scipy_cblas_sgemm64_", "cblas_sgemm64_"):
            fn = getattr(lib, name, None)
            if fn is None:
                continue
            fn.restype = None
            fn.argtypes = [enum, enum, enum, i64, i64, i64, ctypes.c_float, ctypes.c_void_p, i64,
                           ctypes.c_void_p, i64, ctypes.c_float, ctypes.c_void_p, i64]
            if _gemm_agrees(fn, np.dtype(np.float32)):
                return fn
    return None


def _gemm_agrees(fn: Any, dtype: np.dtype) -> bool:
    """One ``3 x 5`` by ``5 x 4`` product through ``fn`` equals ``np.dot`` to rounding."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 5)).astype(dtype), rng.standard_normal((5, 4)).astype(dtype)
    out = np.zeros((3, 4), dtype)
    fn(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, 3, 4, 5, 1.0, x.ctypes.data, 5, y.ctypes.data, 4, 0.0,
       out.ctypes.data, 4)
    return bool(np.allclose(out, x @ y, rtol=1e-5, atol=1e-5))


class _Scratch:
    """The kernels' work arrays for one shape: ``a`` and ``u`` (``width x rows``), three per-row
    vectors, ``grad`` (``width x cols``) and the step size (one element of the dtype, rounded
    like Adam's 0-d buffer). Kept between calls (per thread, up to 8 shapes) when ``a`` and
    ``u`` together fit in :data:`~phyll_core.engine.fused._KEEP_SCRATCH_BYTES`, like the NumPy
    kernel's buffers; larger ones are made for each call (one allocation for all its steps)."""

    def __init__(self, dtype: np.dtype, width: int, rows: int, cols: int) -> None:
        self.a = np.empty((width, rows), dtype)
        self.u = np.empty((width, rows), dtype)
        self.vec = np.empty((3, rows), dtype)
        self.grad = np.empty((width, cols), dtype)
        self.size = np.empty(1, dtype)

    @classmethod
    def get(cls, dtype: np.dtype, width: int, rows: int, cols: int) -> _Scratch:
        kept: dict[tuple[str, int, int, int], _Scratch] = _kept.__dict__.setdefault("s", {})
        key = (dtype.str, width, rows, cols)
        scratch = kept.get(key)
        if scratch is None:
            scratch = cls(dtype, width, rows, cols)
            if 2 * width * rows * dtype.itemsize <= _KEEP_SCRATCH_BYTES:
                if len(kept) >= 8:
                    kept.pop(next(iter(kept)))
                kept[key] = scratch
        return scratch


_kept = threading.local()


def train_steps(
    w: np.ndarray, z: np.ndarray, n: int, p: np.ndarray, theta: float, opt: Adam, steps: int
) -> float:
    """``steps`` inner steps of the published loss on rows ``z`` (``n`` positive rows, then
    their ``n`` negatives) with the cosine goodness vector ``p`` and the objective's ``theta``:
    ``w`` and ``opt.state`` (``t``, ``m/W``, ``v/W``) updated in place exactly as ``steps``
    calls of ``opt.update`` after the NumPy kernel would (to rounding). Returns the loss before
    the last step. ``w``, ``z`` and the moments must be C-contiguous arrays of one float dtype
    (:func:`usable` checks); shapes that do not fit raise ``ValueError`` (the compiled code
    does not check its indices)."""
    state = opt.state
    dtype = w.dtype
    if z.shape != (2 * n, w.shape[1]) or not usable(w, z, opt):
        raise ValueError(
            f"train_steps needs C-contiguous float arrays of one dtype, z of shape"
            f" {(2 * n, w.shape[1])} for n={n} and W {w.shape}, got z {z.shape}"
        )
    t = float(state["t"])
    sizes = np.array([opt.step_size(t + k) for k in range(1, steps + 1)])
    consts = np.array(
        [opt.beta1, 1.0 - opt.beta1, opt.beta2, 1.0 - opt.beta2, opt.eps,
         1.0 - opt.lr * opt.weight_decay, _EPS, 1.0, 1.0 / n],
        dtype,
    )
    p2 = (-0.5 * theta * p).astype(dtype)
    zt = np.ascontiguousarray(z.T)
    m, v, decay = state["m/W"], state["v/W"], bool(opt.weight_decay)
    k = _Scratch.get(dtype, w.shape[0], z.shape[0], w.shape[1])
    gemm = numpy_sgemm() if dtype == np.float32 else None
    if gemm is not None:
        value = _steps_gemm(gemm, w, z, zt, n, p2, m, v, consts, sizes, decay, k.a, k.u, k.vec,
                            k.grad, k.size)
    else:
        value = _steps_dot(w, z, zt, n, p2, m, v, consts, sizes, decay, k.a, k.u, k.vec,
                           k.grad, k.size)
    state["t"] = np.asarray(t + steps)
    return float(value)


def usable(w: np.ndarray, z: np.ndarray, opt: Adam) -> bool:
    """Whether :func:`train_steps` takes these arrays (else the NumPy kernel runs): one float
    dtype, C-contiguous, the moments of ``W`` in the optimiser's state."""
    m, v = opt.state.get("m/W"), opt.state.get("v/W")
    arrays = (w, z, m, v)
    return all(
        isinstance(x, np.ndarray) and x.dtype == w.dtype and x.flags.c_contiguous
        for x in arrays
    ) and w.dtype in (np.float32, np.float64) and m.shape == w.shape == v.shape  # type: ignore[union-attr]
