"""``phyll probe``: the nonlinearity score, output statistics and throughput."""

from __future__ import annotations

import numpy as np
import pytest

from phyll_core.builtin_systems import NONLINEARITIES, Identity, RandomFeatures
from phyll_core.probe import nonlinearity_score, probe


def test_score_of_an_affine_map_is_zero() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(400, 5))
    y = x @ rng.normal(size=(5, 3)) + rng.normal(size=3)
    assert nonlinearity_score(x, y) < 1e-20


def test_score_of_unrelated_outputs_is_about_one() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(size=(2000, 5)), rng.normal(size=(2000, 3))
    assert 0.95 < nonlinearity_score(x, y) < 1.1  # held out: can exceed 1 slightly


def test_score_grows_with_curvature() -> None:
    x = np.random.default_rng(2).uniform(-1, 1, size=(1000, 1))
    scores = [nonlinearity_score(x, np.tanh(g * x)) for g in (0.3, 1.0, 3.0)]
    assert scores[0] < scores[1] < scores[2]
    assert nonlinearity_score(x, x**2) > 0.9  # even function: no affine trace at all


def test_score_is_held_out_and_seeded() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(200, 3))
    y = np.sin(5 * x) + 0.1 * rng.normal(size=(200, 3))
    assert nonlinearity_score(x, y, seed=4) == nonlinearity_score(x, y, seed=4)
    assert nonlinearity_score(x, y, seed=4) != nonlinearity_score(x, y, seed=5)


def test_constant_outputs_score_zero_and_small_samples_are_refused() -> None:
    x = np.random.default_rng(0).uniform(size=(10, 2))
    assert nonlinearity_score(x, np.ones((10, 2))) == 0.0
    with pytest.raises(ValueError, match="at least 4"):
        nonlinearity_score(x[:3], x[:3])
    with pytest.raises(ValueError, match="at least 4"):
        probe(Identity(), samples=3)


def test_identity_is_linear() -> None:
    result = probe(Identity(dim=6), samples=512)
    assert result.nonlinearity < 1e-20
    assert result.output_mean == pytest.approx(0.5, abs=0.03)
    assert result.output_std == pytest.approx(np.sqrt(1 / 12), abs=0.02)  # uniform on [0, 1]
    assert 0.0 <= result.output_min < 0.01 and 0.99 < result.output_max <= 1.0


@pytest.mark.parametrize("nonlinearity", sorted(NONLINEARITIES))
def test_random_features_are_nonlinear(nonlinearity: str) -> None:
    result = probe(RandomFeatures(nonlinearity=nonlinearity), samples=2048)
    assert result.nonlinearity > 0.02, result
    assert result.samples == 2048 and result.system == "random-features"


def test_tanh_gain_raises_the_score() -> None:
    low, high = (probe(RandomFeatures(scale=s), samples=2048).nonlinearity for s in (0.3, 6.0))
    assert low < 0.01 < high


def test_probe_counts_queries_and_is_seeded() -> None:
    system = RandomFeatures()
    a = probe(system, samples=100, seed=9)
    assert system.queries.calls == 2 and system.queries.samples == 108  # warm-up + batch
    b = probe(RandomFeatures(), samples=100, seed=9)
    assert (a.output_mean, a.nonlinearity) == (b.output_mean, b.nonlinearity)
    assert a.samples_per_second > 0


def test_as_dict_is_json_ready() -> None:
    import json

    row = probe(Identity(dim=2), samples=16).as_dict()
    assert json.loads(json.dumps(row)) == row
    assert row["status"] == {}
