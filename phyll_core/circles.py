"""Two concentric noisy circles, generated with NumPy alone.

:func:`make_circles` follows scikit-learn's ``sklearn.datasets.make_circles`` step by step
(same algorithm, same use of a ``numpy.random.RandomState`` seeded by ``seed``), so for the
same arguments it returns the same arrays, bit for bit (the core's tests compare the two when
scikit-learn is installed). It exists so that ``phyll train`` on the default dataset does not
import scikit-learn (about a second of start-up).
"""

from __future__ import annotations

import numpy as np


def make_circles(
    n_samples: int = 100, *, noise: float | None = None, factor: float = 0.8, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points (n_samples, 2) float64 on an outer unit circle (label 0, ``n_samples // 2``
    points) and an inner circle of radius ``factor`` (label 1, the rest), evenly spaced in
    angle, shuffled, plus Gaussian noise of standard deviation ``noise`` on each coordinate.

    Same output as ``sklearn.datasets.make_circles(n_samples, shuffle=True, noise=noise,
    random_state=seed, factor=factor)``.
    """
    if n_samples < 2:
        raise ValueError(f"make_circles needs n_samples >= 2, got {n_samples}")
    if not 0.0 <= factor < 1.0:
        raise ValueError(f"factor must be in [0, 1), got {factor}")
    n_out = n_samples // 2
    n_in = n_samples - n_out
    rng = np.random.RandomState(seed)
    angle_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    angle_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    x = np.vstack(
        [
            np.append(np.cos(angle_out), np.cos(angle_in) * factor),
            np.append(np.sin(angle_out), np.sin(angle_in) * factor),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    order = np.arange(n_samples)
    rng.shuffle(order)  # sklearn.utils.shuffle draws the permutation this way
    x, y = x[order], y[order]
    if noise is not None:
        x += rng.normal(scale=noise, size=x.shape)
    return x, y
