"""Goodness functions and contrastive objectives of local (PhyLL / Forward-Forward) learning.

A goodness maps a block's output ``a`` (n, width) to one number per sample, ``g`` (n,); an
objective maps the goodness of positive and negative data to a scalar loss. Each has an analytic
gradient (a vector-Jacobian product), checked against finite differences in the tests:

- ``cosine``: ``g = cos(|a|, p)`` with ``p`` a fixed random unit vector per block (published).
  ``dg/da = sign(a) * (p / (|u| |p|) - g u / |u|^2)`` with ``u = |a|``.
- ``sum-squares``: ``g = sum(a^2)`` (Hinton's Forward-Forward); ``mean-squares``: ``g = mean(a^2)``.
- ``softplus-delta``: ``L = mean softplus(-theta (g_pos - g_neg))`` (published, theta = 4).
- ``ff-threshold``: ``L = mean [softplus(-(g_pos - tau)) + softplus(g_neg - tau)]`` (Hinton).
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

_EPS = 1e-12
_ROWS = 4096  # rows per chunk of temporaries in CosineGoodness.forward


def softplus(x: np.ndarray) -> np.ndarray:
    """Numerically stable ``log(1 + exp(x))``."""
    return np.logaddexp(0.0, x)


def expit(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic ``1 / (1 + exp(-x))``, in the dtype of ``x`` (NumPy only,
    like ``scipy.special.expit``, whose import would cost start-up time)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


class Goodness(abc.ABC):
    """Per-sample goodness of a block output.

    Subclasses implement :meth:`forward` (value plus whatever the gradient needs) and
    :meth:`backward` (the vector-Jacobian product from that cache); :meth:`value` and
    :meth:`grad` are the convenience forms.
    """

    name: str = "goodness"

    @abc.abstractmethod
    def forward(self, a: np.ndarray) -> tuple[np.ndarray, Any]:
        """Goodness of each row of ``a`` (n, width) -> ((n,), cache for :meth:`backward`)."""

    @abc.abstractmethod
    def backward(self, cache: Any, g_bar: np.ndarray) -> np.ndarray:
        """Vector-Jacobian product ``sum_i g_bar[i] * d g_i / d a`` -> (n, width)."""

    def value(self, a: np.ndarray) -> np.ndarray:
        """Goodness of each row of ``a``."""
        return self.forward(a)[0]

    def grad(self, a: np.ndarray, g_bar: np.ndarray) -> np.ndarray:
        """Vector-Jacobian product at ``a`` (see :meth:`backward`)."""
        return self.backward(self.forward(a)[1], g_bar)

    def arrays(self) -> dict[str, np.ndarray]:
        """Fixed arrays that define this goodness (saved in checkpoints)."""
        return {}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:  # noqa: B027 - optional
        """Restore what :meth:`arrays` returned."""

    def cast(self, dtype: np.dtype) -> None:  # noqa: B027 - optional
        """Hold fixed arrays in ``dtype`` (the engine's float type), so no product upcasts."""


class CosineGoodness(Goodness):
    """``g = cos(|a|, p)``, ``p`` a fixed random unit vector with non-negative entries.

    With ``u = |a|``: ``dg/da = sign(a) p / |u| - g a / |u|^2`` (using ``sign(a) u = a``).
    """

    name = "cosine"

    def __init__(self, width: int, rng: np.random.Generator) -> None:
        p = rng.uniform(0.0, 1.0, width)
        self.p = p / np.linalg.norm(p)

    def forward(self, a: np.ndarray) -> tuple[np.ndarray, Any]:
        norm = np.sqrt(np.einsum("ij,ij->i", a, a)) + _EPS
        if a.shape[0] <= _ROWS:
            g = (np.abs(a) @ self.p) / norm
        else:  # |a| in chunks of rows: no temporary as large as ``a`` (the same numbers)
            g = np.concatenate(
                [np.abs(a[i : i + _ROWS]) @ self.p for i in range(0, a.shape[0], _ROWS)]
            )
            g /= norm
        return g, (a, g, norm)

    def backward(self, cache: Any, g_bar: np.ndarray) -> np.ndarray:
        a, g, norm = cache
        # sign(a) * p == copysign(p, a) because p >= 0 (one pass instead of two)
        da = np.copysign(self.p, a)
        da -= a * (g / norm)[:, None]
        da *= (g_bar / norm)[:, None]
        return da

    def arrays(self) -> dict[str, np.ndarray]:
        return {"p": self.p}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.p = np.asarray(arrays["p"], dtype=self.p.dtype)

    def cast(self, dtype: np.dtype) -> None:
        self.p = self.p.astype(dtype)


class SumSquares(Goodness):
    """``g = sum(a^2)`` (Hinton's Forward-Forward goodness)."""

    name = "sum-squares"

    def __init__(self, width: int, rng: np.random.Generator | None = None) -> None:
        self.width = width
        self.factor = 1.0

    def forward(self, a: np.ndarray) -> tuple[np.ndarray, Any]:
        return self.factor * np.einsum("ij,ij->i", a, a), a

    def backward(self, cache: Any, g_bar: np.ndarray) -> np.ndarray:
        return (2.0 * self.factor) * cache * g_bar[:, None]


class MeanSquares(SumSquares):
    """``g = mean(a^2)``: sum of squares divided by the width."""

    name = "mean-squares"

    def __init__(self, width: int, rng: np.random.Generator | None = None) -> None:
        super().__init__(width, rng)
        self.factor = 1.0 / width


class Objective(abc.ABC):
    """Contrastive loss of positive and negative goodness (one pair per row)."""

    name: str = "objective"

    @abc.abstractmethod
    def value_and_grad(
        self, g_pos: np.ndarray, g_neg: np.ndarray, with_value: bool = True
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Return ``(L, dL/dg_pos, dL/dg_neg)``; ``L`` is a mean over rows (NaN when
        ``with_value`` is false, which skips computing it)."""


class SoftplusDelta(Objective):
    """``L = mean softplus(-theta (g_pos - g_neg))`` (published PhyLL objective)."""

    name = "softplus-delta"

    def __init__(self, theta: float = 4.0) -> None:
        self.theta = float(theta)

    def value_and_grad(
        self, g_pos: np.ndarray, g_neg: np.ndarray, with_value: bool = True
    ) -> tuple[float, np.ndarray, np.ndarray]:
        z = -self.theta * (g_pos - g_neg)
        n = g_pos.shape[0]
        d = expit(z)
        d *= -self.theta / n
        value = float(softplus(z).sum() / n) if with_value else float("nan")
        return value, d, -d


class FFThreshold(Objective):
    """``L = mean [softplus(-(g_pos - tau)) + softplus(g_neg - tau)]`` (Hinton's threshold)."""

    name = "ff-threshold"

    def __init__(self, tau: float = 0.5) -> None:
        self.tau = float(tau)

    def value_and_grad(
        self, g_pos: np.ndarray, g_neg: np.ndarray, with_value: bool = True
    ) -> tuple[float, np.ndarray, np.ndarray]:
        zp, zn = self.tau - g_pos, g_neg - self.tau
        n = g_pos.shape[0]
        loss = float((softplus(zp) + softplus(zn)).sum() / n) if with_value else float("nan")
        return loss, -expit(zp) / n, expit(zn) / n
