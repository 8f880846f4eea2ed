"""The SLM phase mask as trainable controls (interval [0, 2 pi])."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_optical import OpticalSystem

from phyll_core.testing import check_system


@pytest.mark.parametrize(
    "options",
    [{}, {"fold": False}, {"encoding": "phase"}, {"saturation": 2.0, "noise": 0.01}],
    ids=["folded", "step-by-step", "phase", "absorber-noise"],
)
def test_conformance_with_a_phase_mask(options: dict) -> None:
    check_system(lambda seed: OpticalSystem(seed=seed, phase_mask=True, **options))


def test_zero_mask_is_the_plain_system_and_the_mask_multiplies_the_slm_field() -> None:
    x = np.random.default_rng(0).random((6, 20))
    plain, masked = OpticalSystem(), OpticalSystem(phase_mask=True)
    assert plain.controls is None
    assert np.array_equal(masked.get_controls(), np.zeros(20))
    assert np.array_equal(masked.forward(x), plain.forward(x))
    phi = np.random.default_rng(1).uniform(0, 2 * np.pi, 20)
    masked.set_controls(phi)
    frames = masked.slm_frames(x)
    expected = plain.slm_frames(x) * np.exp(1j * phi)[masked.slm.pixels.clip(max=19)]
    assert np.allclose(frames[:, masked.slm.lit], expected[:, masked.slm.lit], atol=1e-6)
    # the folded product and the step-by-step simulation agree, also after drift
    stepwise = OpticalSystem(phase_mask=True, fold=False)
    stepwise.set_controls(phi)
    assert np.allclose(masked.forward(x), stepwise.forward(x), atol=1e-5)
    masked.perturb(0.5, 2)
    stepwise.perturb(0.5, 2)
    assert np.allclose(masked.forward(x), stepwise.forward(x), atol=1e-5)
    assert not np.allclose(masked.forward(x), plain.forward(x), atol=1e-3)
