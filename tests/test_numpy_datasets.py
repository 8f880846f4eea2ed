"""The NumPy circles generator and stratified split give exactly scikit-learn's arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phyll_core.circles import make_circles
from phyll_core.datasets import load, split
from phyll_core.stratify import stratified_indices


@pytest.mark.parametrize(
    ("n", "noise", "factor", "seed"), [(1000, 0.05, 0.5, 0), (7, None, 0.3, 3), (101, 0.2, 0.8, 9)]
)
def test_circles_equal_sklearn(n: int, noise: float | None, factor: float, seed: int) -> None:
    skd = pytest.importorskip("sklearn.datasets")
    want_x, want_y = skd.make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    x, y = make_circles(n, noise=noise, factor=factor, seed=seed)
    np.testing.assert_array_equal(x, want_x)
    np.testing.assert_array_equal(y, want_y)


def test_circles_geometry_without_noise() -> None:
    x, y = make_circles(40, factor=0.25, seed=1)
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.25)
    assert np.bincount(y).tolist() == [20, 20]
    with pytest.raises(ValueError, match="factor"):
        make_circles(10, factor=1.5)


def test_stratified_split_equals_sklearn_on_random_label_sets() -> None:
    model_selection = pytest.importorskip("sklearn.model_selection")
    rng = np.random.default_rng(1)
    checked = 0
    while checked < 60:
        c = int(rng.integers(2, 11))
        n = int(rng.integers(3 * c, 300))
        y = rng.integers(0, c, n)
        fraction = float(rng.choice([0.1, 0.2, 0.25, 1 / 3, 0.5, 0.7]))
        n_test = math.ceil(fraction * n)
        if np.bincount(y, minlength=c).min() < 2 or min(n_test, n - n_test) < c:
            continue
        seed = int(rng.integers(0, 2**31))
        idx = np.arange(n)
        tr, te = model_selection.train_test_split(
            idx, test_size=fraction, random_state=seed, stratify=y
        )
        got_tr, got_te = stratified_indices(y, fraction, seed)
        np.testing.assert_array_equal(got_tr, np.sort(tr))
        np.testing.assert_array_equal(got_te, np.sort(te))
        checked += 1


def test_stratified_split_is_proportional_disjoint_and_seeded() -> None:
    y = np.repeat(np.arange(3), [50, 30, 20])
    tr, te = stratified_indices(y, 0.2, seed=5)
    assert te.size == 20 and tr.size == 80
    assert np.intersect1d(tr, te).size == 0 and np.union1d(tr, te).size == 100
    assert np.bincount(y[te]).tolist() == [10, 6, 4]
    again = stratified_indices(y, 0.2, seed=5)
    assert np.array_equal(again[1], te)
    assert not np.array_equal(stratified_indices(y, 0.2, seed=6)[1], te)
    with pytest.raises(ValueError, match="at least 2"):
        stratified_indices(np.array([0, 0, 1]), 0.5, seed=0)


def test_circles_dataset_split_is_stable() -> None:
    s = split(load("circles"), seed=0)
    assert s.x_train.shape == (800, 2) and s.x_test.shape == (200, 2)
    assert np.bincount(s.y_test).tolist() == [100, 100]
