"""The optical system: contract, registration, parameters and physics sanity."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_optical import OpticalSystem, average_pool, detect, pooled_side

from phyll_core.errors import ParameterError, PhyllError
from phyll_core.factory import build_system
from phyll_core.testing import check_system

RNG = np.random.default_rng(11)
X = RNG.uniform(size=(64, 20))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"matrix": "unitary", "encoding": "phase", "detection": "intensity"},
        {"noise": 0.05, "saturation": 2.0},
        {"inputs": 74, "layout": "side-by-side", "frame": 24},
    ],
    ids=["defaults", "unitary-phase-intensity", "noise-absorber", "side-by-side"],
)
def test_conformance(options: dict) -> None:
    check_system(lambda seed: OpticalSystem(seed=seed, **options))


def test_registered_through_the_entry_point_with_documented_defaults() -> None:
    system = build_system("optical")
    assert isinstance(system, OpticalSystem)
    assert (system.input_dim, system.output_dim) == (20, 225)
    assert system.params["encoding"] == "amplitude" and system.params["detection"] == "amplitude"
    assert system.status()["modes in / out"] == "113 / 113"
    y = system.forward(X)
    assert y.min() >= 0 and abs(y.mean() - 1) < 0.1  # normalised camera reading


def test_cli_parameters_are_checked() -> None:
    with pytest.raises(ParameterError, match="encoding"):
        build_system("optical", ["encoding=polarisation"])
    with pytest.raises(ParameterError, match="aperture"):
        build_system("optical", ["aperture=1.5"])
    small = build_system("optical", ["frame=16", "inputs=5"])
    assert (small.input_dim, small.output_dim) == (5, 49)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"matrix": "file"}, "matrix_file"),
        ({"matrix_file": "t.npz"}, "only read with matrix=file"),
        ({"aperture": 0.0}, "aperture"),
        ({"inputs": 20, "layout": "image"}, "image_side"),
        ({"inputs": 400, "frame": 16}, "does not fit"),
        ({"encoding": "polarisation"}, "encoding"),
        ({"noise": -0.1}, "noise"),
    ],
)
def test_bad_parameters_raise_one_line_phyll_errors(options: dict, message: str) -> None:
    with pytest.raises(PhyllError, match=message) as info:
        OpticalSystem(**options)
    assert "\n" not in str(info.value)


def test_same_seed_same_system_other_seed_other_matrix() -> None:
    a, b, c = OpticalSystem(seed=5), OpticalSystem(seed=5), OpticalSystem(seed=6)
    assert np.array_equal(a.transmission.matrix, b.transmission.matrix)
    assert not np.allclose(a.forward(X), c.forward(X))


@pytest.mark.parametrize("fold", [True, False])
def test_large_batches_are_simulated_in_chunks_with_the_same_numbers(monkeypatch, fold) -> None:
    import phyll_optical.system as module

    system = OpticalSystem(fold=fold)
    x = np.random.default_rng(2).uniform(size=(305, 20))
    whole = system.forward(x)
    monkeypatch.setattr(module, "CHUNK_PIXELS", 100 * 32 * 32)  # 100 rows per chunk
    monkeypatch.setattr(module, "FOLDED_CHUNK_PIXELS", 100 * 32 * 32)
    chunked = system.forward(x)
    assert np.allclose(chunked, whole, rtol=1e-5, atol=1e-6)
    assert np.allclose(whole[-5:], system.forward(x[-5:]), rtol=1e-5, atol=1e-6)


# -- physics -----------------------------------------------------------------------------------
def test_aperture_modes_are_the_fourier_plane_of_the_slm_frame() -> None:
    system = OpticalSystem(frame=24, inputs=9, encoding="phase")
    x = RNG.uniform(size=(6, 9))
    frames = system.slm_frames(x)
    plane = system.fourier_plane(x)
    # Parseval: the unitary FFT conserves the SLM's energy
    energy_slm = (np.abs(frames) ** 2).sum(axis=(1, 2))
    assert np.allclose((np.abs(plane) ** 2).sum(axis=(1, 2)), energy_slm, rtol=1e-5)
    # lit pixels of a phase SLM have unit amplitude, dark pixels are 0
    assert np.allclose(np.abs(frames[:, system.slm.lit]), 1.0)
    assert np.all(frames[:, ~system.slm.lit] == 0)
    shifted = np.fft.fftshift(plane, axes=(1, 2))[:, system.transmission.input_mask]
    assert np.allclose(system.aperture_modes(x), shifted, atol=1e-5)


def test_haar_matrix_is_unitary_and_conserves_energy_between_apertures() -> None:
    system = OpticalSystem(matrix="unitary")
    t = system.transmission.matrix
    assert np.allclose(t.conj().T @ t, np.eye(t.shape[1]), atol=1e-10)
    modes = system.aperture_modes(X)
    camera = system.camera_field(X)
    energy_in = (np.abs(modes) ** 2).sum(axis=1)
    energy_camera = (np.abs(camera) ** 2).sum(axis=(1, 2))
    assert np.allclose(energy_camera, energy_in, rtol=1e-4)
    # the aperture passes only part of the SLM's energy
    energy_slm = (np.abs(system.slm_frames(X)) ** 2).sum(axis=(1, 2))
    assert np.all(energy_in < energy_slm)


def test_gaussian_matrix_conserves_energy_only_on_average() -> None:
    system = OpticalSystem(matrix="gaussian")
    modes = system.aperture_modes(X)
    ratio = (np.abs(system.camera_field(X)) ** 2).sum(axis=(1, 2)) / (
        np.abs(modes) ** 2
    ).sum(axis=1)
    assert abs(ratio.mean() - 1) < 0.25
    assert ratio.std() > 1e-3  # not an isometry
    sv = np.linalg.svd(system.transmission.matrix, compute_uv=False)
    assert sv.max() / sv.min() > 10  # Marchenko-Pastur: a square Gaussian T is ill-conditioned


@pytest.mark.parametrize("matrix", ["gaussian", "unitary"])
def test_camera_sees_fully_developed_speckle(matrix: str) -> None:
    """Intensity speckle is exponential (contrast 1), amplitude speckle Rayleigh (contrast
    sqrt(4/pi - 1) = 0.523): the two detections differ exactly as the physics says."""
    system = OpticalSystem(matrix=matrix, encoding="phase")
    field = system.camera_field(RNG.uniform(size=(200, 20)))
    field = field.reshape(200, -1)
    for detection, expected in (("intensity", 1.0), ("amplitude", np.sqrt(4 / np.pi - 1))):
        reading = detect(field, detection)
        contrast = (reading.std(axis=1) / reading.mean(axis=1)).mean()
        assert abs(contrast - expected) < 0.05 * expected, (detection, contrast)
    assert np.allclose(detect(field, "intensity"), detect(field, "amplitude") ** 2, rtol=1e-5)


def test_amplitude_encoding_gives_a_field_linear_in_the_input() -> None:
    system = OpticalSystem()  # amplitude encoding, no absorber
    a, b = RNG.uniform(0, 0.5, size=(2, 8, 20))
    fields = [system.camera_field(v) for v in (a, b, a + b)]
    assert np.allclose(fields[2], fields[0] + fields[1], atol=1e-5)
    # ... and detection makes the output nonlinear
    y = [system.forward(v) for v in (a, b, a + b)]
    assert not np.allclose(y[2], y[0] + y[1], rtol=0.05)


def test_phase_encoding_sees_relative_phases_modulo_two_pi() -> None:
    zero = RNG.uniform(size=(1, 20))
    zero[0, 3] = 0.0
    one = zero.copy()
    one[0, 3] = 1.0  # block 3 carries phase 0, then phase_depth
    for depth, same in ((2 * np.pi, True), (np.pi, False)):
        system = OpticalSystem(encoding="phase", phase_depth=depth)
        assert np.allclose(system.forward(zero), system.forward(one), atol=1e-5) == same
    # a uniform phase is a global phase: the camera cannot see it
    system = OpticalSystem(encoding="phase")
    assert np.allclose(
        system.forward(np.zeros((1, 20))), system.forward(np.full((1, 20), 0.7)), atol=1e-5
    )


def test_outputs_are_pooled_camera_pixels() -> None:
    system = OpticalSystem(detection="intensity")
    camera = np.abs(system.camera_field(X[:4])) ** 2
    pooled = average_pool(camera).reshape(4, -1) / system._scale
    assert np.allclose(system.forward(X[:4]), pooled, rtol=1e-5)


def test_average_pool_is_3x3_stride_2() -> None:
    image = np.arange(7 * 9, dtype=float).reshape(1, 7, 9)
    pooled = average_pool(image)
    assert pooled.shape == (1, 3, 4) == (1, pooled_side(7), pooled_side(9))
    assert pooled[0, 1, 2] == image[0, 2:5, 4:7].mean()
    assert [pooled_side(s) for s in (3, 4, 5, 32, 54)] == [1, 1, 2, 15, 26]
    with pytest.raises(ValueError):
        pooled_side(2)


def test_saturable_absorber_transmits_more_light_at_high_intensity() -> None:
    system = OpticalSystem(saturation=1.0, absorption=0.6)
    levels = np.array([[1e-4, 0.1, 1.0, 10.0, 1e4]], dtype=np.complex64)
    intensity = np.abs(levels) ** 2
    transmitted = np.abs(system.absorb(levels * np.sqrt(system._mode_intensity))) ** 2
    fraction = transmitted / (intensity * system._mode_intensity)
    assert np.all(np.diff(fraction) > 0)
    assert np.allclose(fraction[0, [0, -1]], [0.4, 1.0], atol=1e-3)  # 1 - q0 ... 1
    assert np.allclose(fraction[0, 2], 1 - 0.6 / 2, atol=1e-5)  # I = I_sat: half the loss


def test_a_barely_saturated_absorber_is_a_constant_loss_that_the_output_scale_removes() -> None:
    linear = OpticalSystem(saturation=1e9, absorption=0.7).forward(X)
    assert np.allclose(linear, OpticalSystem().forward(X), rtol=1e-4, atol=1e-5)
    assert not np.allclose(OpticalSystem(saturation=0.5).forward(X), linear, rtol=0.05)


def test_camera_noise_is_seeded_and_has_the_declared_level() -> None:
    clean = OpticalSystem().forward(X)
    noisy_a, noisy_b = OpticalSystem(noise=0.1).forward(X), OpticalSystem(noise=0.1).forward(X)
    assert np.array_equal(noisy_a, noisy_b)
    system = OpticalSystem(noise=0.1)
    assert not np.array_equal(system.forward(X), system.forward(X))  # fresh noise per frame
    # read noise of 0.1 x the mean reading per pixel, averaged over 9 pixels: about 0.1 / 3
    # (overlapping windows share pixels, so the level is only checked to 20 %)
    assert abs((noisy_a - clean).std() - 0.1 / 3) < 0.2 * 0.1 / 3


def test_perturb_is_a_seeded_unitary_phase_walk() -> None:
    a, b = OpticalSystem(matrix="unitary"), OpticalSystem(matrix="unitary")
    a.perturb(0.3, 42)
    b.perturb(0.3, 42)
    assert np.array_equal(a.transmission.matrix, b.transmission.matrix)
    t = a.transmission.matrix
    assert np.allclose(t.conj().T @ t, np.eye(t.shape[1]), atol=1e-10)  # still lossless
    c = OpticalSystem(matrix="unitary")
    c.perturb(0.3, 43)
    assert not np.allclose(c.transmission.matrix, t)


def test_drift_grows_with_strength_and_accumulates() -> None:
    reference = OpticalSystem().forward(X)

    def decorrelation(*steps: float) -> float:
        system = OpticalSystem()
        rng = np.random.default_rng(0)
        for strength in steps:
            system.perturb(strength, rng)
        y = system.forward(X)
        return 1 - np.corrcoef(y.ravel(), reference.ravel())[0, 1]

    small, large = decorrelation(0.05), decorrelation(1.0)
    assert 0 < small < 0.05 < large
    assert decorrelation(0.05, 0.05, 0.05, 0.05) > small  # a walk: steps add up
