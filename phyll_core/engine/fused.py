"""The published local loss (cosine goodness, softplus-delta objective) and its gradient with
respect to a block's weights, fused into preallocated buffers for the inner Adam steps.

:meth:`phyll_core.engine.local.LocalBlock.train` evaluates, ``inner_steps`` times on the same
``z`` rows, ``a = z W^T``, the goodness, the objective and the vector-Jacobian products back to
``dL/dW``. On the published shapes (a few hundred rows, width 20) every NumPy call costs more
in dispatch and allocation than in arithmetic, so this kernel performs the same operations as
:class:`~phyll_core.engine.losses.CosineGoodness` followed by
:class:`~phyll_core.engine.losses.SoftplusDelta`, in the same order (identical numbers), with
fewer calls and no allocation of the large arrays. Other goodness/objective pairs take the
generic path.
"""

from __future__ import annotations

import numpy as np

from phyll_core.engine.losses import _EPS, CosineGoodness, Goodness, Objective, SoftplusDelta


class CosineSoftplusGrad:
    """``dL/dW`` of ``L = mean softplus(-theta (g(z_pos W^T) - g(z_neg W^T)))`` with the
    cosine goodness ``g``, for fixed rows ``z = [z_pos; z_neg]`` (``n`` positive rows first)."""

    def __init__(self, p: np.ndarray, theta: float, z: np.ndarray, n: int) -> None:
        dtype, rows, width = z.dtype, z.shape[0], p.shape[0]
        self.z, self.n, self.theta = z, n, theta
        self.p = p.astype(dtype, copy=False)
        self.a = np.empty((rows, width), dtype)
        self.u = np.empty((rows, width), dtype)
        self.norm = np.empty(rows, dtype)
        self.g = np.empty(rows, dtype)
        self.s = np.empty(rows, dtype)
        self.d = np.empty(rows, dtype)
        self.x = np.empty(n, dtype)
        self.e = np.empty(n, dtype)
        self.s_col = self.s[:, None]
        self.u_t = self.u.T

    def __call__(self, w: np.ndarray, out: np.ndarray, with_value: bool = False) -> float:
        """Write ``dL/dW`` at weights ``w`` into ``out``; return ``L`` (NaN unless
        ``with_value``)."""
        a, u, norm, g, s, d, x, e, n = (
            self.a, self.u, self.norm, self.g, self.s, self.d, self.x, self.e, self.n)
        np.matmul(self.z, w.T, out=a)
        # goodness: g = (|a| . p) / (||a|| + eps)
        np.einsum("ij,ij->i", a, a, out=norm)
        np.sqrt(norm, out=norm)
        norm += _EPS
        np.abs(a, out=u)
        np.matmul(u, self.p, out=g)
        g /= norm
        # objective: x = -theta (g_pos - g_neg), dL/dg_pos = -theta/n expit(x) = -dL/dg_neg
        np.subtract(g[:n], g[n:], out=x)
        x *= -self.theta
        value = float(np.logaddexp(0.0, x).sum() / n) if with_value else float("nan")
        np.abs(x, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        num = np.where(x >= 0, 1.0, e)
        e += 1.0
        np.divide(num, e, out=d[:n])
        d[:n] *= -self.theta / n
        np.negative(d[:n], out=d[n:])
        # dg/da = sign(a) p / norm - g a / norm^2, times dL/dg; then dL/dW = da^T z
        np.copysign(self.p, a, out=u)
        np.divide(g, norm, out=s)
        np.multiply(a, self.s_col, out=a)
        u -= a
        np.divide(d, norm, out=s)
        u *= self.s_col
        np.matmul(self.u_t, self.z, out=out)
        return value


def fused_grad(
    goodness: Goodness, objective: Objective, z: np.ndarray, n: int
) -> CosineSoftplusGrad | None:
    """The fused kernel for this goodness/objective pair, or None (use the generic path)."""
    if type(goodness) is CosineGoodness and type(objective) is SoftplusDelta:
        return CosineSoftplusGrad(goodness.p, objective.theta, z, n)
    return None
