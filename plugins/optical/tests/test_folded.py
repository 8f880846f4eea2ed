"""The folded linear chain (one float32 matrix) against the step-by-step simulation."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_optical import OpticalSystem, average_pool, detect

CASES = [
    {},
    {"encoding": "phase"},
    {"matrix": "unitary", "detection": "intensity"},
    {"inputs": 74, "layout": "side-by-side", "frame": 24, "aperture": 0.5},
    {"inputs": 9, "frame": 16, "output_aperture": 0.6, "encoding": "phase", "phase_depth": 5.0},
]
IDS = ["defaults", "phase", "unitary-intensity", "side-by-side", "unequal-apertures"]


def _inputs(system: OpticalSystem, n: int = 50, seed: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).uniform(size=(n, system.input_dim))


@pytest.mark.parametrize("options", CASES, ids=IDS)
def test_folded_field_equals_the_step_by_step_field(options: dict) -> None:
    system = OpticalSystem(**options)
    assert system.folded is not None
    x = _inputs(system)
    stepwise = system.camera_field(x).reshape(x.shape[0], -1)
    folded = system.folded.camera_field(x)
    # float32 rounding: relative to the field's scale, a few float32 epsilons
    assert np.abs(folded - stepwise).max() <= 5e-6 * np.abs(stepwise).max()
    assert np.abs(folded - stepwise).max() > 0  # two different computations


@pytest.mark.parametrize("options", CASES, ids=IDS)
def test_forward_is_the_same_folded_or_not(options: dict) -> None:
    folded, stepwise = OpticalSystem(**options), OpticalSystem(fold=False, **options)
    assert stepwise.folded is None
    x = _inputs(folded, 40)
    np.testing.assert_allclose(folded.forward(x), stepwise.forward(x), rtol=2e-5, atol=2e-6)


def test_forward_is_detect_pool_scale_of_the_stepwise_field() -> None:
    system = OpticalSystem()
    x = _inputs(system, 30)
    reading = detect(system.camera_field(x), system.detection)
    expected = average_pool(reading).reshape(30, -1) / system._scale
    np.testing.assert_allclose(system.forward(x), expected, rtol=2e-5, atol=2e-6)


def test_noise_and_drift_keep_both_paths_together() -> None:
    a = OpticalSystem(noise=0.05, seed=3)
    b = OpticalSystem(noise=0.05, seed=3, fold=False)
    x = _inputs(a, 20)
    before = a.forward(x)
    np.testing.assert_allclose(before, b.forward(x), rtol=1e-4, atol=1e-5)  # same noise draws
    a.perturb(0.3, 7)
    b.perturb(0.3, 7)
    after = a.forward(x)
    np.testing.assert_allclose(after, b.forward(x), rtol=1e-4, atol=1e-5)
    assert not np.allclose(after, before, atol=1e-2)  # the folded matrix followed T


def test_an_absorber_is_simulated_step_by_step() -> None:
    system = OpticalSystem(saturation=2.0)
    assert system.folded is None
    assert system.status()["simulation"] == "step by step"
    assert OpticalSystem().status()["simulation"] == "folded matrix"


def test_the_folded_matrix_is_the_input_map_times_the_fixed_part() -> None:
    system = OpticalSystem(inputs=12, frame=20)
    x = _inputs(system, 5)
    modes = system.aperture_modes(x).astype(np.complex128)  # encode(x) @ input map
    camera = system.camera_field(x).reshape(5, -1)
    np.testing.assert_allclose(modes @ system._fixed, camera, rtol=0, atol=1e-5)
    np.testing.assert_allclose(
        system.folded.field_matrix, system._input_map @ system._fixed, rtol=1e-12
    )


def test_a_chain_too_large_to_fold_is_simulated_step_by_step(monkeypatch) -> None:
    import phyll_optical.system as module

    small = OpticalSystem(frame=16, inputs=9)
    assert small.folded is not None and small.fold_bytes() <= module.FOLD_MEMORY
    monkeypatch.setattr(module, "FOLD_MEMORY", small.fold_bytes() - 1)
    big = OpticalSystem(frame=16, inputs=9)
    assert big.folded is None and big.status()["simulation"] == "step by step"
    x = _inputs(big, 10)
    np.testing.assert_allclose(big.forward(x), small.forward(x), rtol=2e-5, atol=2e-6)
    big.perturb(0.2, 1)  # drift keeps it unfolded
    assert big.folded is None
