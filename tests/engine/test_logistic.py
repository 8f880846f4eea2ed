"""The NumPy logistic regression finds scikit-learn's minimiser."""

from __future__ import annotations

import numpy as np
import pytest

from phyll_core.engine.logistic import fit_logistic


def _data(n: int, d: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 1.5
    y = rng.integers(0, k, n)
    return centres[y] + rng.normal(size=(n, d)), y


@pytest.mark.parametrize(
    ("n", "d", "k", "c"),
    [(300, 5, 2, 1.0), (400, 12, 4, 1.0), (250, 30, 7, 0.3), (200, 3, 3, 10.0)],
)
def test_same_minimiser_as_sklearn(n: int, d: int, k: int, c: float) -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    x, y = _data(n, d, k, seed=n + d)
    want = linear_model.LogisticRegression(C=c, max_iter=5000, tol=1e-10).fit(x, y)
    got = fit_logistic(x, y, c=c, tol=1e-10)
    assert got.coef_.shape == want.coef_.shape and np.array_equal(got.classes_, want.classes_)
    scale = np.abs(want.coef_).max()
    np.testing.assert_allclose(got.coef_, want.coef_, atol=1e-5 * scale)
    # softmax intercepts are defined up to a common shift: compare them centred
    centred = (got.intercept_ - got.intercept_.mean(), want.intercept_ - want.intercept_.mean())
    np.testing.assert_allclose(*centred, atol=1e-4 * max(1, scale))
    assert np.array_equal(got.predict(x), want.predict(x))


def test_default_tolerance_of_sklearn_gives_the_same_predictions() -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    x, y = _data(600, 20, 5, seed=3)
    want = linear_model.LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    got = fit_logistic(x, y)
    assert np.mean(got.predict(x) == want.predict(x)) >= 0.995


def test_separable_classes_are_learnt_and_fit_is_deterministic() -> None:
    x, y = _data(300, 4, 3, seed=9)
    a, b = fit_logistic(x, y), fit_logistic(x, y)
    assert np.array_equal(a.coef_, b.coef_)
    assert np.mean(a.predict(x) == y) > 0.9
    # labels need not be 0..K-1
    other = fit_logistic(x, y * 10 + 5)
    assert set(other.classes_.tolist()) == {5, 15, 25}
    assert np.array_equal(other.predict(x), a.predict(x) * 10 + 5)
    with pytest.raises(ValueError, match="two classes"):
        fit_logistic(x, np.zeros(300))
