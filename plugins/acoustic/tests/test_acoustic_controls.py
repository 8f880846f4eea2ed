"""Per-tone drive gains as trainable controls (interval [0, 1])."""

from __future__ import annotations

import numpy as np
from phyll_acoustic import AcousticCavity

from phyll_core.testing import check_system


def test_conformance_with_tone_gains() -> None:
    check_system(lambda seed: AcousticCavity(seed=seed, tone_gains=True))


def test_unit_gains_are_the_plain_system_and_a_gain_scales_its_tone() -> None:
    x = np.random.default_rng(0).random((7, 20))
    plain = AcousticCavity(noise=0.0)
    controlled = AcousticCavity(noise=0.0, tone_gains=True)
    assert plain.controls is None
    assert np.array_equal(controlled.get_controls(), np.ones(20))
    assert np.array_equal(controlled.forward(x), plain.forward(x))
    gains = np.linspace(0.2, 1.0, 20)
    controlled.set_controls(gains)
    assert np.allclose(controlled.forward(x), plain.forward(x * gains), rtol=1e-6, atol=1e-7)
