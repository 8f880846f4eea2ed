"""Writing input values as metasurface bits.

Each value ``x`` in ``[0, 1]`` is quantised to one of ``L = 2^b`` equally wide levels,
``q = min(floor(x L), L - 1)``, and written as ``b`` bits, most significant first, on ``b``
consecutive meta-atoms (published: ``b = 2``, 20 values -> 40 meta-atoms).
"""

from __future__ import annotations

import numpy as np


def levels(x: np.ndarray, bits: int) -> np.ndarray:
    """Quantisation levels (same shape, int) of values ``x`` in ``[0, 1]``."""
    n_levels = 2**bits
    return np.minimum(np.floor(x * n_levels), n_levels - 1).astype(np.int64)


def to_bits(x: np.ndarray, bits: int) -> np.ndarray:
    """Bits (batch, d * bits, bool) of values ``x`` (batch, d) in ``[0, 1]``: value ``j``
    occupies columns ``j*bits ... j*bits + bits - 1``, most significant bit first."""
    q = levels(x, bits)
    weights = 2 ** np.arange(bits - 1, -1, -1)
    out = (q[:, :, None] // weights) % 2
    return out.reshape(x.shape[0], -1).astype(bool)


def from_bits(on: np.ndarray, bits: int) -> np.ndarray:
    """Inverse of :func:`to_bits` up to quantisation: the level (batch, d) of each group of
    ``bits`` columns of ``on`` (batch, d * bits)."""
    grouped = np.asarray(on, dtype=np.int64).reshape(on.shape[0], -1, bits)
    return grouped @ (2 ** np.arange(bits - 1, -1, -1))
