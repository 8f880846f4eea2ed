"""The built-in mnist1d dataset: generated locally, deterministic, no side effects."""

from __future__ import annotations

import random

import numpy as np
import pytest

pytest.importorskip("mnist1d")

from phyll_core.datasets import load


def test_mnist1d_is_generated_deterministically_without_touching_global_rngs():
    np.random.seed(123)
    random.seed(7)
    before_np, before_py = np.random.get_state()[1].copy(), random.getstate()
    a = load("mnist1d")
    assert np.array_equal(np.random.get_state()[1], before_np)
    assert random.getstate() == before_py
    b = load("mnist1d")
    assert a.x.shape == (5000, 40) and a.n_classes == 10
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert np.bincount(a.y).tolist() == [500] * 10
