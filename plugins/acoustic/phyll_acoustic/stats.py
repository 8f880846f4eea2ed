"""Statistics of a cavity's response, measured from input/output pairs alone.

The same functions characterise the measured cavity (``../shared/data/acoustic_cavity``) and
the simulator, so that the two can be compared figure by figure (``benchmarks/acoustic_stats.py``,
docs/backends/acoustic.md). Every function takes ``x`` (n, d) inputs and/or ``y`` (n, k)
outputs and uses nothing else: no knowledge of the simulator's internals.

* active inputs: the affine least-squares coefficients of every output on the inputs; input
  ``i``'s weight is the RMS over outputs of its coefficient times its standard deviation; an
  input is active when its weight exceeds ``threshold`` times the largest weight;
* near-zero outputs: RMS below ``threshold`` times the largest output RMS;
* channels: the smallest period ``P >= 2`` such that every output that is not near zero is
  explained (R^2 >= 0.9, quadratic model) by the inputs of one residue class of input indices
  modulo ``P``; the channels are the residues that dominate some output;
* complex-mix R^2: each active output fitted by ``|X_c w|``, the magnitude of a complex linear
  mix of the active inputs of its channel (``w`` complex, Gauss-Newton from the rank-2 quadratic
  form of ``y^2``);
* effective dimension: the participation ratio ``(sum l)^2 / sum l^2`` of the eigenvalues ``l``
  of the output covariance, and the number of principal components for 90 % and 99 % of the
  variance;
* correlated pairs: pairs of outputs (both with non-zero variance) whose correlation exceeds
  ``0.99`` in absolute value;
* nonlinearity: the pooled score of ``phyll probe`` (:func:`phyll_core.probe.nonlinearity_score`);
* zero drive: the mean output for the all-zero input, relative to the mean output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from phyll_core.probe import nonlinearity_score


def affine_coefficients(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients (d, k) of the best affine map from ``x`` to ``y`` (the
    intercept dropped)."""
    design = np.hstack([x, np.ones((x.shape[0], 1))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef[:-1]


def input_weights(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weight of every input (d,): RMS over outputs of its affine coefficient times its std,
    divided by the largest weight."""
    w = np.sqrt(np.mean(affine_coefficients(x, y) ** 2, axis=1)) * x.std(axis=0)
    return w / w.max()


def active_inputs(x: np.ndarray, y: np.ndarray, threshold: float = 0.05) -> np.ndarray:
    """Boolean mask (d,) of the inputs whose weight exceeds ``threshold`` (see module)."""
    return input_weights(x, y) > threshold


def near_zero_outputs(y: np.ndarray, threshold: float = 0.05) -> np.ndarray:
    """Boolean mask (k,) of the outputs whose RMS is below ``threshold`` times the largest."""
    rms = np.sqrt(np.mean(y**2, axis=0))
    return rms < threshold * rms.max()


def class_r2(x: np.ndarray, y: np.ndarray, members: np.ndarray) -> np.ndarray:
    """R^2 (k,) of the best quadratic model (affine terms and all products) of every output on
    the inputs ``members`` alone, fitted and scored on the same rows."""
    xc = x[:, members]
    iu = np.triu_indices(xc.shape[1])
    design = np.hstack([np.ones((x.shape[0], 1)), xc, xc[:, iu[0]] * xc[:, iu[1]]])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = ((y - design @ coef) ** 2).sum(axis=0)
    total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    return 1.0 - resid / np.maximum(total, 1e-300)


def channels(
    x: np.ndarray, y: np.ndarray, purity: float = 0.9, max_period: int = 10
) -> tuple[int | None, list[int], np.ndarray]:
    """``(period, residues, dominant)``: the smallest period ``P`` in 2..``max_period`` such
    that every output that is not near zero is explained to R^2 >= ``purity`` by a quadratic
    model of the inputs of one residue class modulo ``P`` (:func:`class_r2`), the sorted
    dominant residues, and each output's dominant residue (-1 for near-zero outputs).
    ``(None, [], ...)`` when no period fits."""
    live = ~near_zero_outputs(y)
    index = np.arange(x.shape[1])
    for period in range(2, max_period + 1):
        r2 = np.stack([class_r2(x, y, index % period == r) for r in range(period)])
        if np.all(r2.max(axis=0)[live] >= purity):
            dominant = np.where(live, r2.argmax(axis=0), -1)
            return period, sorted({int(r) for r in dominant[live]}), dominant
    return None, [], np.full(y.shape[1], -1)


def complex_mix_r2(x: np.ndarray, y: np.ndarray, iterations: int = 40) -> float:
    """R^2 of the best fit ``y ~ |x @ w|`` with complex weights ``w`` (d,) (see module)."""
    d = x.shape[1]
    # y^2 = x^T A x with A = Re(w w^H) = a a^T + b b^T: fit A linearly, keep its top two modes
    iu = np.triu_indices(d)
    prods = x[:, iu[0]] * x[:, iu[1]]
    q, *_ = np.linalg.lstsq(prods, y**2, rcond=None)
    a_mat = np.zeros((d, d))
    a_mat[iu] = q
    a_mat = 0.5 * (a_mat + a_mat.T)
    vals, vecs = np.linalg.eigh(a_mat)
    p = np.zeros(2 * d)  # real parts | imaginary parts of w
    for k in range(min(2, d)):
        p[k * d : (k + 1) * d] = vecs[:, -1 - k] * np.sqrt(max(vals[-1 - k], 0.0))
    damping = 1e-3
    resid = y - np.hypot(x @ p[:d], x @ p[d:])
    for _ in range(iterations):  # Levenberg-Marquardt on the 2d real parameters
        re, im = x @ p[:d], x @ p[d:]
        mag = np.maximum(np.hypot(re, im), 1e-12)
        jac = np.hstack([x * (re / mag)[:, None], x * (im / mag)[:, None]])
        jtj = jac.T @ jac
        scale = np.diag(jtj)
        # |x @ w| does not change under a global phase w -> w e^{i phi}: jtj is exactly singular
        # along (-Im w, Re w), so once the damping has decayed the bare Marquardt term leaves a
        # matrix singular to rounding (a LinAlgError on some BLAS builds). A ridge floor relative
        # to jtj keeps it solvable; the gradient has no component along that direction, so the
        # step does not either.
        ridge = 1e-10 * scale.max()
        if ridge == 0.0:  # zero Jacobian (w = 0 or x = 0): no descent direction
            break
        step = np.linalg.solve(jtj + np.diag(damping * scale + ridge), jac.T @ resid)
        trial = p + step
        new = y - np.hypot(x @ trial[:d], x @ trial[d:])
        if new @ new < resid @ resid:
            p, resid, damping = trial, new, damping / 3
        else:
            damping *= 4
    total = ((y - y.mean()) ** 2).sum()
    return float(1.0 - (resid @ resid) / total) if total > 0 else 1.0


def effective_dimension(y: np.ndarray) -> dict[str, float]:
    """Participation ratio of the output covariance spectrum and the principal components
    needed for 90 % and 99 % of the variance."""
    lam = np.clip(np.linalg.eigvalsh(np.cov(y, rowvar=False))[::-1], 0.0, None)
    frac = np.cumsum(lam) / lam.sum()
    return {
        "participation_ratio": float(lam.sum() ** 2 / (lam**2).sum()),
        "pcs_90": int(np.searchsorted(frac, 0.90) + 1),
        "pcs_99": int(np.searchsorted(frac, 0.99) + 1),
    }


def correlated_pairs(y: np.ndarray, threshold: float = 0.99) -> tuple[int, float]:
    """``(count, max)``: pairs of outputs with ``|corr| > threshold`` and the largest
    ``|corr|`` of any pair (outputs of zero variance are left out)."""
    keep = y.std(axis=0) > 0
    c = np.abs(np.corrcoef(y[:, keep], rowvar=False))
    iu = np.triu_indices(c.shape[0], 1)
    return int((c[iu] > threshold).sum()), float(c[iu].max()) if iu[0].size else 0.0


def summary(x: np.ndarray, y: np.ndarray, zero_output: np.ndarray | None = None) -> dict[str, Any]:
    """Every statistic of the module for the pairs ``(x, y)``. ``zero_output``: the outputs
    for the all-zero drive (default: the rows of ``x`` that are all zero, if any)."""
    if zero_output is None:
        zero_rows = ~x.any(axis=1)
        zero_output = y[zero_rows] if zero_rows.any() else None
    period, residues, dominant = channels(x, y)
    active = active_inputs(x, y)
    r2 = []
    if period is not None:
        for j in np.flatnonzero(dominant >= 0):
            cols = np.flatnonzero(active & (np.arange(x.shape[1]) % period == dominant[j]))
            r2.append(complex_mix_r2(x[:, cols], y[:, j]))
    pairs, top = correlated_pairs(y)
    out: dict[str, Any] = {
        "active_inputs": int(active.sum()),
        "near_zero_outputs": int(near_zero_outputs(y).sum()),
        "period": period,
        "channels": len(residues),
        "channel_residues": residues,
        "mix_r2_min": float(min(r2)) if r2 else float("nan"),
        "mix_r2_max": float(max(r2)) if r2 else float("nan"),
        "correlated_pairs": pairs,
        "max_correlation": top,
        "nonlinearity": nonlinearity_score(x, y),
        "zero_drive": (
            float(np.mean(zero_output) / np.mean(y)) if zero_output is not None else float("nan")
        ),
    }
    out.update(effective_dimension(y))
    return out
