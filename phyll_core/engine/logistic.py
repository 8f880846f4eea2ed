"""L2-regularised logistic regression in NumPy (the one-pass readout's classifier).

:func:`fit_logistic` minimises the objective of scikit-learn's
``LogisticRegression(C=c)`` (lbfgs solver, default penalty): ``C * sum_i loss_i + ||W||^2 / 2``
with unpenalised intercepts; ``loss_i`` is the binary logistic loss for two classes (one
coefficient row, as scikit-learn) and the multinomial cross-entropy otherwise (one row per
class). The objective is strictly convex, so the minimiser is unique: this L-BFGS finds it to
a tighter gradient tolerance than scikit-learn's default, and the coefficients agree with
scikit-learn's to its tolerance (the core's tests compare them when scikit-learn is
installed). It exists so that training does not import scikit-learn (about a second).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np


@attrs.frozen(eq=False)
class LogisticModel:
    """Fitted model, shaped like scikit-learn's: ``classes_`` (K,), ``coef_`` (1, d) for two
    classes else (K, d), ``intercept_`` (1,) or (K,), and the L-BFGS iterations used."""

    classes_: np.ndarray
    coef_: np.ndarray
    intercept_: np.ndarray
    n_iter_: int

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        scores = x @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, x: np.ndarray) -> np.ndarray:
        scores = self.decision_function(x)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.int64)]
        return self.classes_[np.argmax(scores, axis=1)]


def _binary(x: np.ndarray, t: np.ndarray, c: float) -> Callable[[np.ndarray], tuple]:
    d = x.shape[1]
    sign = np.where(t, 1.0, -1.0)

    def objective(p: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = p[:d], p[d]
        z = sign * (x @ w + b)
        value = c * float(np.logaddexp(0.0, -z).sum()) + 0.5 * float(w @ w)
        r = -c * sign * np.exp(-np.logaddexp(0.0, z))  # d loss / d (x w + b)
        grad = np.empty(d + 1)
        grad[:d] = x.T @ r + w
        grad[d] = r.sum()
        return value, grad

    return objective


def _multinomial(x: np.ndarray, index: np.ndarray, k: int, c: float) -> Callable:
    n, d = x.shape
    rows = np.arange(n)

    def objective(p: np.ndarray) -> tuple[float, np.ndarray]:
        w = p[: k * d].reshape(k, d)
        z = x @ w.T + p[k * d :]
        top = z.max(axis=1, keepdims=True)
        e = np.exp(z - top)
        total = e.sum(axis=1, keepdims=True)
        log_norm = np.log(total)[:, 0] + top[:, 0]
        value = c * float((log_norm - z[rows, index]).sum()) + 0.5 * float((w * w).sum())
        r = e / total
        r[rows, index] -= 1.0
        r *= c
        grad = np.concatenate([(r.T @ x + w).ravel(), r.sum(axis=0)])
        return value, grad

    return objective


def _lbfgs(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    p: np.ndarray,
    tol: float,
    max_iter: int,
    memory: int = 10,
) -> tuple[np.ndarray, int]:
    """Minimise a smooth convex ``objective`` (value, gradient) from ``p``: L-BFGS two-loop
    recursion with a backtracking Armijo line search, until the largest gradient component
    is at most ``tol``."""
    value, grad = objective(p)
    stop = tol
    s_list: list[np.ndarray] = []
    y_list: list[np.ndarray] = []
    for iteration in range(1, max_iter + 1):
        if float(np.abs(grad).max()) <= stop:
            return p, iteration - 1
        q = grad.copy()
        alphas = []
        for s, y in zip(reversed(s_list), reversed(y_list), strict=True):
            a = float(s @ q) / float(y @ s)
            alphas.append(a)
            q -= a * y
        if s_list:
            q *= float(s_list[-1] @ y_list[-1]) / float(y_list[-1] @ y_list[-1])
        else:
            q /= max(1.0, float(np.abs(grad).max()))
        for (s, y), a in zip(zip(s_list, y_list, strict=True), reversed(alphas), strict=True):
            q += (a - float(y @ q) / float(y @ s)) * s
        direction = -q
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction (rounding): restart from steepest descent
            s_list.clear()
            y_list.clear()
            direction, slope = -grad, -float(grad @ grad)
        step = 1.0
        while True:
            trial = p + step * direction
            new_value, new_grad = objective(trial)
            if new_value <= value + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        s, y = trial - p, new_grad - grad
        if float(y @ s) > 1e-12 * float(s @ s):
            s_list.append(s)
            y_list.append(y)
            if len(s_list) > memory:
                s_list.pop(0)
                y_list.pop(0)
        if step < 1e-12 or value - new_value <= 1e-15 * max(1.0, abs(value)):
            return trial, iteration
        p, value, grad = trial, new_value, new_grad
    return p, max_iter


def fit_logistic(
    x: np.ndarray, y: np.ndarray, c: float = 1.0, tol: float = 1e-6, max_iter: int = 5000
) -> LogisticModel:
    """Fit L2-regularised logistic regression of labels ``y`` (n,) on features ``x`` (n, d)
    (see the module docstring). Deterministic: starts from zero. Stops when the gradient of
    scikit-learn's scaled objective (``objective / (C n)``) has no component above ``tol``
    (scikit-learn's default is ``1e-4``; a smaller ``tol`` gets closer to the minimiser)."""
    x = np.asarray(x, dtype=np.float64)
    classes, index = np.unique(np.asarray(y), return_inverse=True)
    index = index.ravel()
    if classes.size < 2:
        raise ValueError("logistic regression needs at least two classes")
    d = x.shape[1]
    if classes.size == 2:
        stop = tol * c * x.shape[0]
        p, iters = _lbfgs(_binary(x, index == 1, c), np.zeros(d + 1), stop, max_iter)
        return LogisticModel(classes, p[:d][None, :], p[d:], iters)
    k = classes.size
    stop = tol * c * x.shape[0]
    p, iters = _lbfgs(_multinomial(x, index, k, c), np.zeros(k * (d + 1)), stop, max_iter)
    return LogisticModel(classes, p[: k * d].reshape(k, d), p[k * d :], iters)


def fit_block_weights(
    goodness: np.ndarray, y: np.ndarray, c: float = 1.0, tol: float = 1e-6, max_iter: int = 500
) -> np.ndarray:
    """Weights ``w`` (K,) of the blocks' goodness for predicting ``argmax_c sum_k w_k g_k(c)``:
    the minimiser of ``C * sum_i [logsumexp_c s_ic - s_{i,y_i}] + ||w - 1||^2 / 2`` with
    ``s_ic = sum_k w_k goodness[k, i, c]`` (a conditional logit whose prior is the published
    equal-weight sum). ``goodness``: (K, n, C); ``y``: (n,) labels in 0..C-1. Strictly convex:
    the minimiser is unique and found deterministically from ``w = 1``."""
    g = np.asarray(goodness, dtype=np.float64)
    index = np.asarray(y, dtype=np.int64)
    rows = np.arange(index.size)
    true = g[:, rows, index]  # (K, n)

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = np.einsum("k,knc->nc", w, g)
        top = s.max(axis=1, keepdims=True)
        e = np.exp(s - top)
        total = e.sum(axis=1, keepdims=True)
        log_norm = np.log(total)[:, 0] + top[:, 0]
        value = c * float((log_norm - s[rows, index]).sum()) + 0.5 * float(((w - 1) ** 2).sum())
        p = e / total
        grad = c * (np.einsum("nc,knc->k", p, g) - true.sum(axis=1)) + (w - 1)
        return value, grad

    w, _ = _lbfgs(objective, np.ones(g.shape[0]), tol * c * index.size, max_iter)
    return w
