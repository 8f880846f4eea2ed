"""A seeded stratified train/test split of row indices, in NumPy alone.

:func:`stratified_indices` reproduces scikit-learn's
``train_test_split(..., stratify=y, random_state=seed)`` (``StratifiedShuffleSplit``): the
same per-class counts (the approximate mode of the multivariate hypergeometric, ties broken
by the seeded generator) and the same rows, drawn from a ``numpy.random.RandomState(seed)`` in
the same order. Splits made before and after this module replaced scikit-learn are therefore
identical (the core's tests compare them when scikit-learn is installed), and importing it
costs nothing at start-up.
"""

from __future__ import annotations

import math

import numpy as np


def _approximate_mode(counts: np.ndarray, draws: int, rng: np.random.RandomState) -> np.ndarray:
    """Draws per class (sums to ``draws``): the floors of ``counts / total * draws``, then one
    more for the classes of largest remainder, ties broken at random (sklearn's
    ``_approximate_mode``)."""
    continuous = counts / counts.sum() * draws
    floored = np.floor(continuous)
    need = int(draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need)
            floored[rng.choice(inds, size=add_now, replace=False)] += 1
            need -= add_now
            if need == 0:
                break
    return floored.astype(np.int64)


def stratified_indices(
    y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and test row indices of a stratified split of labels ``y`` (n,).

    The test part has ``ceil(test_fraction * n)`` rows; every class is split in proportion
    (within one row). Raises ValueError when a class has fewer than 2 rows or a part would be
    smaller than the number of classes. Deterministic in ``seed`` (0 <= seed < 2**32).
    """
    y = np.asarray(y)
    n = y.shape[0]
    n_test = math.ceil(test_fraction * n)
    n_train = n - n_test
    _, y_index, counts = np.unique(y, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError("every class needs at least 2 rows for a stratified split")
    if n_train < counts.size or n_test < counts.size:
        raise ValueError(
            f"a stratified split of {counts.size} classes needs at least {counts.size} rows in"
            f" each part, got {n_train} train and {n_test} test"
        )
    by_class = np.split(np.argsort(y_index, kind="stable"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(seed)
    n_i = _approximate_mode(counts, n_train, rng)
    t_i = _approximate_mode(counts - n_i, n_test, rng)
    train, test = [], []
    for rows, count, a, b in zip(by_class, counts, n_i, t_i, strict=True):
        shuffled = rows.take(rng.permutation(count), mode="clip")
        train.append(shuffled[:a])
        test.append(shuffled[a : a + b])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
