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
- the goodness numerator ``|a| . p`` and the squared norm ``|a|^2`` come from one small matmul
  of ``[|a|; a^2]``;
- the logistic of the objective is ``expit(x) = (1 + tanh(x / 2)) / 2`` (one ufunc);
- ``dg/da = sign(a) (p / norm - g |a| / norm^2)``: the sign is carried by the IEEE sign bit of
  ``a`` (an integer AND and XOR, where ``copysign`` with a broadcast operand is several times
  slower).

The summation order differs from the generic path, so the numbers agree to rounding (relative
``1e-12`` in float64, tested against the plain-NumPy goodness/objective), not bit for bit.
Other goodness/objective pairs take the generic path.
"""

from __future__ import annotations

import numpy as np

from phyll_core.engine.losses import _EPS, CosineGoodness, Goodness, Objective, SoftplusDelta

_COPY_ZT_BYTES = 1 << 20
"""``z^T`` is kept as a contiguous copy up to this size (measured: ~10 % faster forward matmul
on the published shapes); larger ``z`` are read through a transposed view (no extra memory)."""


class CosineSoftplusGrad:
    """``dL/dW`` of ``L = mean softplus(-theta (g(z_pos W^T) - g(z_neg W^T)))`` with the
    cosine goodness ``g``, for fixed rows ``z = [z_pos; z_neg]`` (``n`` positive rows first).

    Holds three ``width x rows`` buffers (``a``, ``|a|`` and ``a^2``) and, for small ``z``, a
    contiguous copy of ``z^T``; ``z`` itself is only read."""

    def __init__(self, p: np.ndarray, theta: float, z: np.ndarray, n: int) -> None:
        dtype, rows, width = z.dtype, z.shape[0], p.shape[0]
        if rows != 2 * n:
            raise ValueError(f"z must hold n={n} positive then n negative rows, got {rows}")
        bits = np.dtype(f"u{dtype.itemsize}")
        self.z, self.n = z, n
        self.zt = np.ascontiguousarray(z.T) if z.nbytes <= _COPY_ZT_BYTES else z.T
        # the goodness comes out scaled by c = -theta/2 (the objective's factor): with p' = c p,
        # x = g'_pos - g'_neg needs no extra pass, and dL/dg is divided by c to match
        c = -0.5 * theta
        p = (c * p).astype(dtype)
        self.p_col = p[:, None]
        self.reduce = np.zeros((2, 2 * width), dtype)  # [p', 0; 0, 1] @ [|a|; a^2]
        self.reduce[0, :width] = p
        self.reduce[1, width:] = 1.0
        self.a = np.empty((width, rows), dtype)
        self.a_bits = self.a.view(bits)
        self.b = np.empty((2, width, rows), dtype)  # |a| and a^2 (later the sign bits of a)
        self.b_flat = self.b.reshape(2 * width, rows)
        self.sign_bits = self.b[1].view(bits)
        self.sign_mask = np.array(-0.0, dtype).view(bits)
        self.r = np.empty((2, rows), dtype)  # numerator and norm of every row
        self.s1 = np.empty(rows, dtype)
        self.s2 = np.empty(rows, dtype)
        self.s1_halves = self.s1.reshape(2, n)
        self.norm_halves = self.r[1].reshape(2, n)
        self.x = np.empty(n, dtype)
        # dL/dg_pos = -theta/n expit(x) = -theta/(2n) (1 + tanh(x/2)) = -dL/dg_neg; over c:
        self.d_factor = np.array([[1.0 / n], [-1.0 / n]], dtype)

    def __call__(self, w: np.ndarray, out: np.ndarray, with_value: bool = False) -> float:
        """Write ``dL/dW`` at weights ``w`` into ``out``; return ``L`` (NaN unless
        ``with_value``)."""
        a, b, r, s1, s2, x, n = self.a, self.b, self.r, self.s1, self.s2, self.x, self.n
        abs_a, g, norm = b[0], r[0], r[1]
        np.matmul(w, self.zt, out=a)
        # goodness, scaled: g' = c g = (|a| . p') / (||a|| + eps)
        np.abs(a, out=abs_a)
        np.square(a, out=b[1])
        np.matmul(self.reduce, self.b_flat, out=r)
        np.sqrt(norm, out=norm)
        norm += _EPS
        g /= norm
        # objective: x/2 = -theta (g_pos - g_neg) / 2 = g'_pos - g'_neg
        np.subtract(g[:n], g[n:], out=x)
        value = float(np.logaddexp(0.0, x + x).sum() / n) if with_value else float("nan")
        np.tanh(x, out=x)
        x += 1.0
        # s1 = dL/dg / (c norm) (rows), s2 = s1 g' / norm
        np.multiply(x, self.d_factor, out=self.s1_halves)
        self.s1_halves /= self.norm_halves
        np.divide(g, norm, out=s2)
        s2 *= s1
        # dL/da = sign(a) (p' s1 - |a| s2), then dL/dW = (dL/da)^T z
        np.bitwise_and(self.a_bits, self.sign_mask, out=self.sign_bits)
        np.multiply(self.p_col, s1, out=a)
        abs_a *= s2
        a -= abs_a
        np.bitwise_xor(self.a_bits, self.sign_bits, out=self.a_bits)
        np.matmul(a, self.z, out=out)
        return value


def fused_grad(
    goodness: Goodness, objective: Objective, z: np.ndarray, n: int
) -> CosineSoftplusGrad | None:
    """The fused kernel for this goodness/objective pair, or None (use the generic path)."""
    if type(goodness) is CosineGoodness and type(objective) is SoftplusDelta:
        return CosineSoftplusGrad(goodness.p, objective.theta, z, n)
    return None
