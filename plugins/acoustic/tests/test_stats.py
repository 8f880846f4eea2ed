"""The response statistics on synthetic pairs whose structure is known."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_acoustic.stats import (
    active_inputs,
    channels,
    complex_mix_r2,
    correlated_pairs,
    effective_dimension,
    near_zero_outputs,
    summary,
)


def synthetic(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """12 inputs; inputs 2, 5, 8, 11 (i mod 3 = 2) silent; outputs 0-5 are |complex mixes| of
    the inputs of class i mod 3 = j mod 2, outputs 6, 7 are tiny noise, output 8 copies 0."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(3000, 12))
    cols = []
    for j in range(6):
        members = np.flatnonzero(np.arange(12) % 3 == j % 2)
        w = rng.normal(size=members.size) + 1j * rng.normal(size=members.size)
        cols.append(np.abs(x[:, members] @ w))
    cols += [1e-3 * np.abs(rng.normal(size=3000)) for _ in range(2)]
    cols.append(cols[0] * 1.5)
    return x, np.column_stack(cols)


def test_statistics_find_the_built_in_structure() -> None:
    x, y = synthetic()
    np.testing.assert_array_equal(active_inputs(x, y), np.arange(12) % 3 != 2)
    np.testing.assert_array_equal(np.flatnonzero(near_zero_outputs(y)), [6, 7])
    period, residues, dominant = channels(x, y)
    assert (period, residues) == (3, [0, 1])
    np.testing.assert_array_equal(dominant, [0, 1, 0, 1, 0, 1, -1, -1, 0])
    members = np.flatnonzero(np.arange(12) % 3 == 0)
    assert complex_mix_r2(x[:, members], y[:, 0]) > 0.9999  # exactly a |complex mix|
    assert complex_mix_r2(x[:, members], y[:, 1]) < 0.5  # the other channel's output
    assert correlated_pairs(y) == (1, pytest.approx(1.0))
    dim = effective_dimension(y)
    assert 1.0 < dim["participation_ratio"] < 9.0 and dim["pcs_90"] <= dim["pcs_99"] <= 9
    stats = summary(x, y, zero_output=np.zeros((1, 9)))
    assert stats["mix_r2_min"] > 0.9999 and stats["zero_drive"] == 0.0
    assert stats["channels"] == 2 and stats["correlated_pairs"] == 1


def test_without_channels_no_period_is_found() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(2000, 10))
    y = np.abs(x @ (rng.normal(size=(10, 4)) + 1j * rng.normal(size=(10, 4))))  # all mixed
    assert channels(x, y)[0] is None
    assert np.isnan(summary(x, y)["mix_r2_min"])


def test_complex_mix_fit_survives_its_phase_symmetry() -> None:
    """|x @ w| is blind to a global phase of w, so the fit's normal matrix is singular along
    one direction; the fit must converge anyway (it raised LinAlgError on some seeds and BLAS
    builds) and still separate an exact |complex mix| from an unrelated one."""
    for seed in range(40):
        rng = np.random.default_rng(seed)
        x = rng.uniform(size=(500, 4))
        w = rng.normal(size=(4, 2)) + 1j * rng.normal(size=(4, 2))
        assert complex_mix_r2(x, np.abs(x @ w[:, 0])) > 0.9999, seed
        assert complex_mix_r2(x, np.abs(rng.uniform(size=(500, 4)) @ w[:, 1])) < 0.5, seed
