"""Bilinear forms ``u^T M^-1 v`` of many small complex symmetric matrices at once.

The Woodbury solver needs, for every configuration and frequency, one scalar
``u^T M^-1 v`` with a small (``k x k``, ``k <= N/2``) complex *symmetric* matrix ``M``
(``M = M^T``, not Hermitian). One LAPACK call per matrix (``numpy.linalg.solve`` on a stack)
runs at a few GFLOP/s on these sizes. Here the matrices of a group of equal ``k`` are laid
side by side, the batch as the last (contiguous) axis, and eliminated together: each step of
a symmetric Gaussian elimination (``LDL^T`` without pivoting, half the work of an LU) is a
handful of NumPy operations over the whole batch. The bordered matrix

    [[M,   u, v],
     [u^T, 0, 0],
     [v^T, 0, 0]]

is symmetric too; after eliminating the ``k`` pivots of ``M`` its entry ``(k, k+1)`` is
``-u^T M^-1 v``, so no triangular solves are needed.

Only the upper triangle is stored, row after row (:func:`layout`). Without pivoting a pivot
can be small; :func:`bilinear_forms` returns, for each matrix, its smallest pivot relative
to its largest diagonal entry so that the caller can solve those matrices again with
partial pivoting (LAPACK).
"""

from __future__ import annotations

import functools

import attrs
import numpy as np


@attrs.frozen(eq=False)
class Layout:
    """Packed upper triangle of the ``(k + 2) x (k + 2)`` bordered matrix: position ``p``
    holds entry ``(row[p], col[p])``; row ``i`` occupies ``offsets[i]:offsets[i + 1]``."""

    k: int
    row: np.ndarray
    col: np.ndarray
    offsets: np.ndarray

    @property
    def size(self) -> int:
        """Number of stored entries, ``(k + 2)(k + 3) / 2``."""
        return int(self.row.size)


@functools.lru_cache(maxsize=64)
def layout(k: int) -> Layout:
    """The packed layout of the bordered matrix of a ``k x k`` matrix ``M`` (``k >= 1``)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    n = k + 2
    row, col = np.triu_indices(n)
    offsets = np.concatenate([[0], np.cumsum(np.arange(n, 0, -1))])
    return Layout(k, row, col, offsets)


def bilinear_forms(packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(forms, pivot_ratio)`` of the bordered matrices in ``packed`` ((layout(k).size, B)
    complex, one matrix per column, overwritten): ``forms[b] = u_b^T M_b^-1 v_b`` and
    ``pivot_ratio[b]`` = smallest |pivot| / largest |diagonal entry| of ``M_b`` (0 for a
    singular elimination; the forms of such columns are not to be trusted)."""
    lay = layout(k)
    n, width = k + 2, packed.shape[1]
    rows = [packed[lay.offsets[i] : lay.offsets[i + 1]] for i in range(n)]
    diagonal = lay.offsets[:k]  # packed positions of M's diagonal: the pivots once eliminated
    scale = np.abs(packed[diagonal]).max(axis=0)
    tmp = np.empty((n, width), dtype=packed.dtype)
    form = np.zeros(width, dtype=packed.dtype)
    factors = np.empty((n, width), dtype=packed.dtype)
    inverse = np.empty(width, dtype=packed.dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for j in range(k):
            pivot = rows[j][0]  # row j is final from here on
            right = rows[j][1:]  # entries (j, j+1 .. k+1)
            mult = factors[: k - j]  # row t: the multiplier of row j + 1 + t (t = k - j - 1: u)
            np.divide(1.0, pivot, out=inverse)  # one complex division per matrix and step
            np.multiply(right[: k - j], inverse, out=mult)
            for t in range(k - j - 1):  # rows j + 1 .. k - 1 of M, with their border entries
                m = n - (j + 1 + t)
                np.multiply(right[t:], mult[t], out=tmp[:m])
                np.subtract(rows[j + 1 + t], tmp[:m], out=rows[j + 1 + t])
            # border row k: only its entry (k, k+1) is wanted; row k + 1 is never needed
            np.multiply(right[k - j], mult[k - j - 1], out=tmp[0])
            np.subtract(form, tmp[0], out=form)
        ratio = np.where(scale > 0, np.abs(packed[diagonal]).min(axis=0) / scale, 0.0)
    ratio[~np.isfinite(form)] = 0.0
    return -form, ratio
