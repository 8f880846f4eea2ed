"""The read-out noise: a circular complex Gaussian of the stated RMS, seeded, added in place."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_acoustic.noise import add_complex_noise


def test_noise_parts_are_independent_gaussians_of_the_stated_variance() -> None:
    rms = 0.02
    y = np.zeros((200_000, 2), dtype=np.float32)
    add_complex_noise(y, rms, np.random.default_rng(0))
    re, im = y[:, 0].astype(np.float64), y[:, 1].astype(np.float64)
    for part in (re, im):
        assert part.mean() == pytest.approx(0.0, abs=3e-4)
        assert part.var() == pytest.approx(rms**2 / 2, rel=0.01)
        z = part / part.std()
        assert np.mean(z**4) == pytest.approx(3.0, rel=0.03)  # Gaussian kurtosis
        # the tails of N(0, 1): P(|z| > 2) = 4.55 %, P(|z| > 3) = 0.27 %
        assert np.mean(np.abs(z) > 2) == pytest.approx(0.0455, rel=0.05)
        assert np.mean(np.abs(z) > 3) == pytest.approx(0.0027, rel=0.15)
    assert abs(np.corrcoef(re, im)[0, 1]) < 0.01
    assert abs(np.corrcoef(re**2, im**2)[0, 1]) < 0.01  # independent, not only uncorrelated


def test_noise_adds_to_the_signal_and_is_seeded() -> None:
    y0 = np.full((50_000, 6), 0.5, dtype=np.float32)
    a, b = y0.copy(), y0.copy()
    add_complex_noise(a, 0.1, np.random.default_rng(4))
    add_complex_noise(b, 0.1, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    mag2 = a[:, :3] ** 2 + a[:, 3:] ** 2  # E|Y + n|^2 = |Y|^2 + rms^2
    assert mag2.mean() == pytest.approx(0.5 + 0.01, rel=0.01)
    with pytest.raises(ValueError, match="float32"):
        add_complex_noise(np.zeros((3, 4)), 0.1, np.random.default_rng(0))
