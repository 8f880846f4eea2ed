"""The published local loss (cosine goodness, softplus-delta objective) and its gradient with
respect to a block's weights, fused into preallocated buffers for the inner Adam steps.

:meth:`phyll_core.engine.local.LocalBlock.train` evaluates, ``inner_steps`` times on the same
``z`` rows, ``a = z W^T``, the goodness, the objective and the vector-Jacobian products back to
``dL/dW``. On the published shapes (a few hundred rows, width 20) every NumPy call costs more
in dispatch than in arithmetic, so this kernel computes the same function as
:class:`~phyll_core.engine.losses.CosineGoodness` followed by
:class:`~phyll_core.engine.losses.SoftplusDelta` with fewer, cheaper calls and no allocation:

- ``a`` is held transposed (``width x rows``, rows last): the matmuls ``W z^T`` and
  ``a^T z`` need no transposed operand and every per-row factor broadcasts along the
  contiguous axis;
- the goodness numerator ``|a| . p`` and the squared norm ``1 . a^2`` are matrix-vector
  products (``np.einsum`` is a Python-level wrapper) and the objective's factor ``-theta/2``
  is folded into ``p``;
- the logistic of the objective is ``expit(x) = (1 + tanh(x / 2)) / 2`` (one ufunc);
- ``dg/da = sign(a) (p - |a| g / norm) / norm``: the sign is carried by the IEEE sign bit of
  ``a`` (an integer AND and XOR, where ``copysign`` with a broadcast operand is several times
  slower);
- per-row factors are stride-0 views, constants 0-d arrays of the dtype, and the buffers of
  small kernels are kept for the next one: on the published shapes NumPy's per-call set-up,
  not the arithmetic, is what costs.

The summation order differs from the generic path, so the numbers agree to rounding (relative
``1e-12`` in float64, tested against the plain-NumPy goodness/objective), not bit for bit.
Other goodness/objective pairs take the generic path.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from phyll_core.engine.losses import _EPS, CosineGoodness, Goodness, Objective, SoftplusDelta
from phyll_core.errors import PhyllError

_COPY_ZT_BYTES = 1 << 20
"""``z^T`` is kept as a contiguous copy up to this size (measured: ~10 % faster forward matmul
on the published shapes); larger ``z`` are read through a transposed view (no extra memory)."""

_KEEP_SCRATCH_BYTES = 1 << 20
"""Scratch buffers up to this size are kept between kernels of the same shape (per thread):
every :meth:`LocalBlock.train` builds a kernel, and on the published shapes building the
buffers costs as much as an inner step. Larger ones are freed with their kernel."""

_kept = threading.local()


def _strided(base: np.ndarray, shape: tuple[int, int], strides: tuple[int, int]) -> np.ndarray:
    """A view of ``base`` with explicit strides (0: repeated), e.g. a row vector as a matrix
    (read-only use; cheaper for ufuncs than letting them broadcast)."""
    return np.ndarray(shape, base.dtype, buffer=base, strides=strides)


class _Scratch:
    """The buffers of a kernel, which depend only on the dtype, the width and ``n``: ``a`` (later
    its sign bits) and ``u`` (``|a|``, then ``dL/da``), both ``width x 2n``, per-row factors,
    and the constants as 0-d arrays of the dtype (NumPy converts a Python float on every call,
    which costs more than the arithmetic on small layers)."""

    def __init__(self, dtype: np.dtype, width: int, n: int) -> None:
        rows, size, bits = 2 * n, dtype.itemsize, np.dtype(f"u{dtype.itemsize}")
        self.nbytes = 2 * width * rows * size
        self.a = np.empty((width, rows), dtype)
        self.a_bits = self.a.view(bits)
        self.u = np.empty((width, rows), dtype)
        self.u_bits = self.u.view(bits)
        self.sign_mask = np.array(-0.0, dtype).view(bits)
        self.g = np.empty(rows, dtype)  # the (scaled) goodness of every row
        self.norm = np.empty(rows, dtype)
        self.s1 = np.empty(rows, dtype)
        self.q = np.empty(rows, dtype)
        self.s1_full = _strided(self.s1, (width, rows), (0, size))
        self.q_full = _strided(self.q, (width, rows), (0, size))
        self.s1_halves = self.s1.reshape(2, n)
        self.norm_halves = self.norm.reshape(2, n)
        self.x = np.empty(n, dtype)
        self.x_twice = _strided(self.x, (2, n), (0, size))
        # dL/dg_pos = -theta/n expit(x) = -theta/(2n) (1 + tanh(x/2)) = -dL/dg_neg; over c:
        self.d_factor = np.repeat(np.array([[1.0 / n], [-1.0 / n]], dtype), n, axis=1)
        self.eps, self.one = np.array(_EPS, dtype), np.array(1.0, dtype)
        self.ones = np.ones(width, dtype)

    @classmethod
    def get(cls, dtype: np.dtype, width: int, n: int) -> _Scratch:
        """The kept scratch of this shape in this thread, or a new one (kept when small).
        Kernels may share one: each call overwrites every buffer before reading it."""
        kept: dict[tuple[str, int, int], _Scratch] = _kept.__dict__.setdefault("scratch", {})
        key = (dtype.str, width, n)
        scratch = kept.get(key)
        if scratch is None:
            scratch = cls(dtype, width, n)
            if scratch.nbytes <= _KEEP_SCRATCH_BYTES:
                if len(kept) >= 8:
                    kept.pop(next(iter(kept)))
                kept[key] = scratch
        return scratch


class CosineSoftplusGrad:
    """``dL/dW`` of ``L = mean softplus(-theta (g(z_pos W^T) - g(z_neg W^T)))`` with the
    cosine goodness ``g``, for fixed rows ``z = [z_pos; z_neg]`` (``n`` positive rows first).

    Uses two ``width x 2n`` buffers (as many as the generic path; kept for the next kernel
    when small, see :data:`_KEEP_SCRATCH_BYTES`) and, for small ``z``, a contiguous copy of
    ``z^T``; ``z`` itself is only read. Not for concurrent calls from several threads."""

    def __init__(self, p: np.ndarray, theta: float, z: np.ndarray, n: int) -> None:
        dtype, rows, width = z.dtype, z.shape[0], p.shape[0]
        if rows != 2 * n:
            raise ValueError(f"z must hold n={n} positive then n negative rows, got {rows}")
        self.z, self.n = z, n
        self.zt = np.ascontiguousarray(z.T) if z.nbytes <= _COPY_ZT_BYTES else z.T
        self.scratch = _Scratch.get(dtype, width, n)
        # the goodness comes out scaled by c = -theta/2 (the objective's factor): with p' = c p,
        # x = g'_pos - g'_neg needs no extra pass, and dL/dg is divided by c to match
        self.p = (-0.5 * theta * p).astype(dtype)
        if self.scratch.nbytes <= _KEEP_SCRATCH_BYTES:  # p' along the rows: a real array
            self.p_full = np.repeat(self.p[:, None], rows, axis=1)
        else:  # or a stride-0 view (no memory)
            self.p_full = _strided(self.p, (width, rows), (dtype.itemsize, 0))

    def __call__(self, w: np.ndarray, out: np.ndarray, with_value: bool = False) -> float:
        """Write ``dL/dW`` at weights ``w`` into ``out``; return ``L`` (NaN unless
        ``with_value``)."""
        k, n = self.scratch, self.n
        a, u, g, norm, x = k.a, k.u, k.g, k.norm, k.x
        np.dot(w if w.dtype == a.dtype else w.astype(a.dtype), self.zt, out=a)
        # goodness, scaled: g' = c g = (|a| . p') / (||a|| + eps)
        np.square(a, out=u)
        np.dot(k.ones, u, out=norm)
        np.abs(a, out=u)
        np.dot(self.p, u, out=g)
        np.sqrt(norm, out=norm)
        np.add(norm, k.eps, out=norm)
        g /= norm
        # objective: x/2 = -theta (g_pos - g_neg) / 2 = g'_pos - g'_neg
        np.subtract(g[:n], g[n:], out=x)
        value = float(np.logaddexp(0.0, x + x).sum() / n) if with_value else float("nan")
        np.tanh(x, out=x)
        np.add(x, k.one, out=x)
        # s1 = dL/dg / (c norm), q = g' / norm (rows)
        np.multiply(k.x_twice, k.d_factor, out=k.s1_halves)
        np.divide(k.s1_halves, k.norm_halves, out=k.s1_halves)
        np.divide(g, norm, out=k.q)
        # dL/da = sign(a) (p' - |a| q) s1, then dL/dW = (dL/da)^T z
        np.bitwise_and(k.a_bits, k.sign_mask, out=k.a_bits)
        np.multiply(u, k.q_full, out=u)
        np.subtract(self.p_full, u, out=u)
        np.multiply(u, k.s1_full, out=u)
        np.bitwise_xor(k.u_bits, k.a_bits, out=k.u_bits)
        if out.flags.c_contiguous and out.dtype == u.dtype:
            np.dot(u, self.z, out=out)
        else:  # np.dot writes only C arrays of its own dtype
            np.matmul(u, self.z, out=out)
        return value


def published_pair(goodness: Goodness, objective: Objective) -> bool:
    """Whether the pair is the published one (cosine goodness, softplus-delta objective): the
    pair of the fused kernels (this module's and :mod:`phyll_core.engine.fused_numba`)."""
    return type(goodness) is CosineGoodness and type(objective) is SoftplusDelta


def fused_grad(
    goodness: Goodness, objective: Objective, z: np.ndarray, n: int
) -> CosineSoftplusGrad | None:
    """The fused kernel for this goodness/objective pair, or None (use the generic path)."""
    if published_pair(goodness, objective):
        assert isinstance(goodness, CosineGoodness) and isinstance(objective, SoftplusDelta)
        return CosineSoftplusGrad(goodness.p, objective.theta, z, n)
    return None


@functools.cache
def resolve_kernel(kernel: str) -> str:
    """The inner-step kernel that runs for the configured ``kernel``
    (:data:`phyll_core.engine.config.KERNELS`): ``"numba"`` (the compiled
    :mod:`phyll_core.engine.fused_numba`, imported here) or ``"numpy"``. ``auto`` is numba when
    it imports, else NumPy; ``numba`` without numba is a :class:`PhyllError`. Either way the
    compiled kernel serves only the published pair (:func:`published_pair`); other pairs take
    the generic NumPy path."""
    if kernel == "numpy":
        return "numpy"
    try:
        import phyll_core.engine.fused_numba  # noqa: F401 - imports numba
    except ImportError as exc:
        if kernel == "numba":
            raise PhyllError(
                f"--kernel numba needs numba (pip install 'phyll-core[fast]'): {exc}"
            ) from None
        return "numpy"
    return "numba"
