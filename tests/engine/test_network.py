"""Label embedding, adapter (zero padding / random projection) and domain encoders."""

from __future__ import annotations

import numpy as np
import pytest

from phyll_core.builtin_systems import Identity
from phyll_core.domain import Binary, Interval
from phyll_core.engine.network import PhysicalLayer, embed, encode
from phyll_core.errors import PhyllError


def test_embed_sets_label_slot_and_neutral():
    x = np.arange(6.0).reshape(2, 3)
    h = embed(x, np.array([1, 0]), 3, 5.0)
    np.testing.assert_array_equal(h[:, :3], [[0, 5, 0], [5, 0, 0]])
    np.testing.assert_array_equal(h[:, 3:], x)
    neutral = embed(x, None, 4, 2.0)
    np.testing.assert_allclose(neutral[:, :4], 0.5)


def test_encode_interval_scales_each_row_by_its_own_peak():
    v = np.array([[1.0, -2.0, 0.0], [0.0, 0.0, 0.0]])
    x = encode(v, Interval(0.0, 1.0))
    np.testing.assert_allclose(x, [[0.5, 1.0, 0.0], [0.0, 0.0, 0.0]])
    # independent of the rest of the batch
    np.testing.assert_allclose(encode(v[:1], Interval(0, 1)), x[:1])
    y = encode(v, Interval(-1.0, 3.0))
    assert y.min() >= -1.0 and y.max() <= 3.0


def test_encode_binary_is_sign_quantiser():
    np.testing.assert_array_equal(encode(np.array([[0.3, -1.0, 0.0]]), Binary()), [[1, 0, 0]])


def test_zero_padding_when_narrower():
    layer = PhysicalLayer.build(Identity(dim=5), 3, np.random.default_rng(0))
    assert layer.projection is None
    out = layer.forward(np.array([[1.0, -2.0, 0.5]]))
    np.testing.assert_allclose(out, [[0.5, 1.0, 0.25, 0.0, 0.0]])


def test_projection_when_wider_is_fixed_by_seed_and_switchable():
    a = PhysicalLayer.build(Identity(dim=4), 9, np.random.default_rng(7))
    b = PhysicalLayer.build(Identity(dim=4), 9, np.random.default_rng(7))
    assert a.projection is not None and a.projection.shape == (9, 4)
    np.testing.assert_array_equal(a.projection, b.projection)
    with pytest.raises(PhyllError, match="exceeds"):
        PhysicalLayer.build(Identity(dim=4), 9, np.random.default_rng(7), project=False)


def test_synthetic_negatives_of_the_unsupervised_rule():
    from phyll_core.engine.phyll_rules import PhyLLUnsupervised

    x = np.random.default_rng(0).standard_normal((50, 16))
    shuffled = PhyLLUnsupervised("shuffle").synthetic(x, np.random.default_rng(1))
    np.testing.assert_array_equal(np.sort(shuffled, axis=0), np.sort(x, axis=0))
    assert not np.array_equal(shuffled, x)
    mixed = PhyLLUnsupervised("mask").synthetic(x, np.random.default_rng(1))
    from_x = np.isclose(mixed, x)
    from_other = np.array([[np.any(np.isclose(mixed[i, j], x[:, j])) for j in range(16)]
                           for i in range(50)])
    assert from_other.all() and 0.2 < from_x.mean() < 0.9
    again = PhyLLUnsupervised("mask").synthetic(x, np.random.default_rng(1))
    np.testing.assert_array_equal(mixed, again)
