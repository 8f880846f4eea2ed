"""Physics of the acoustic simulator: modal sums, read-out, nonlinearity, drift, noise."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_acoustic import AcousticCavity, Nonlinearity, Room, shoebox_modes, speed_of_sound
from phyll_acoustic.cavity import chaotic_modes, transfer
from phyll_acoustic.signals import hann_spectrum, schroeder_phases, tone_grid

from phyll_core.probe import nonlinearity_score


def quiet(**kw: object) -> AcousticCavity:
    """A noise-free cavity (other parameters at their defaults unless given)."""
    return AcousticCavity(noise=0.0, **kw)  # type: ignore[arg-type]


def bin_index(system: AcousticCavity, frequency: float) -> int:
    """Index of the output that reads ``frequency`` at the first microphone (the one that
    ``transfer_function`` describes by default)."""
    idx = np.flatnonzero(np.isclose(system.bin_frequencies, frequency))
    assert idx.size == system.microphone_positions.shape[0]  # one such bin per microphone
    return int(idx[0])


# -- cavity -------------------------------------------------------------------------------------
def test_speed_of_sound() -> None:
    assert speed_of_sound(0.0) == pytest.approx(331.3)
    assert speed_of_sound(20.0) == pytest.approx(343.2, abs=0.1)
    with pytest.raises(ValueError, match="absolute zero"):
        speed_of_sound(-300.0)


def test_shoebox_modes_are_the_analytic_room_modes() -> None:
    room = Room(0.8, 0.6, 0.5)
    modes = shoebox_modes(room, np.array([[0.1, 0.2, 0.3]]), np.array([0.7, 0.1, 0.4]), 40.0)
    expected = sorted(
        np.pi * np.sqrt((i / 0.8) ** 2 + (j / 0.6) ** 2 + (k / 0.5) ** 2)
        for i in range(12)
        for j in range(12)
        for k in range(12)
    )
    expected = np.array([k for k in expected if k <= 40.0])
    np.testing.assert_allclose(modes.k, expected)
    assert modes.k[0] == 0.0
    # the zero mode couples every pair of points with 1/V
    assert modes.coupling[0, 0] == pytest.approx(1.0 / room.volume)


def test_shoebox_mode_shapes_are_orthonormal() -> None:
    room = Room(0.8, 0.6, 0.5)
    n = 24  # midpoint rule on a grid: exact for these cosines below the grid's Nyquist
    axes = [(np.arange(n) + 0.5) / n * side for side in room.sides]
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    k_max = 15.0
    # coupling with the microphone at a fixed point is psi(src) psi(mic): recover psi(src) by
    # using a microphone at the origin corner, where every cosine is 1 (psi = norm)
    corner = shoebox_modes(room, np.zeros((1, 3)), np.zeros(3), k_max).coupling[0]
    shapes = shoebox_modes(room, pts, np.zeros(3), k_max).coupling / np.sqrt(corner)
    gram = shapes.T @ shapes * room.volume / pts.shape[0]
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-9)


def test_mode_count_follows_weyl_law() -> None:
    room = Room(0.8, 0.6, 0.5)
    k_max = 2 * np.pi * 3000 / 343
    src, mic = np.array([[0.1, 0.2, 0.3]]), np.array([0.5, 0.4, 0.2])
    expected = float(room.weyl_count(np.array(k_max)))
    room_modes = shoebox_modes(room, src, mic, k_max)
    chaos = chaotic_modes(room, 1, k_max, np.random.default_rng(0))
    assert room_modes.count - 1 == pytest.approx(expected, rel=0.05)
    assert chaos.count - 1 == pytest.approx(expected, rel=0.1)


def test_chaotic_spectrum_shows_level_repulsion() -> None:
    room = Room(0.8, 0.6, 0.5)
    k_max = 2 * np.pi * 3000 / 343
    chaos = chaotic_modes(room, 2, k_max, np.random.default_rng(1))
    # unfold with Weyl's law: mean spacing 1
    s = np.diff(room.weyl_count(chaos.k[1:]))
    assert s.mean() == pytest.approx(1.0, rel=0.1)
    # Wigner: P(s < 0.1) ~ 0.8 %, Poisson (rectangular room, uncorrelated levels) ~ 9.5 %
    assert np.mean(s < 0.1) < 0.03
    # mode shapes are Gaussian with variance 1/V; coupling at source s is psi_s psi_mic
    assert chaos.coupling.shape == (2, chaos.count)
    assert np.std(chaos.coupling[:, 1:]) == pytest.approx(1 / room.volume, rel=0.15)


def test_transfer_is_the_damped_modal_sum() -> None:
    room = Room(0.8, 0.6, 0.5)
    modes = shoebox_modes(room, np.array([[0.1, 0.2, 0.3]]), np.array([0.7, 0.1, 0.4]), 30.0)
    omega = np.array([500.0, 2000.0, 3100.0])
    c, q = 343.0, 25.0
    h = transfer(modes, omega, c, q=q)[0]
    wn = c * modes.k
    direct = [
        sum(
            modes.coupling[0, n] / (wn[n] ** 2 - w**2 + 1j * w * wn[n] / q)
            for n in range(modes.count)
        )
        for w in omega
    ]
    np.testing.assert_allclose(h, direct, rtol=1e-12)
    # Sabine damping: one decay rate c S alpha / (4 V) for every mode, i.e. Q_n = 4 k_n V/(S a)
    alpha = 0.2
    hs = transfer(modes, omega, c, absorption=alpha, surface=room.surface, volume=room.volume)
    rate = c * room.surface * alpha / (4 * room.volume)
    direct = [np.sum(modes.coupling[0] / (wn**2 - w**2 + 1j * w * rate)) for w in omega]
    np.testing.assert_allclose(hs[0], direct, rtol=1e-12)
    with pytest.raises(ValueError, match="exactly one"):
        transfer(modes, omega, c)


def test_transfer_peaks_at_an_isolated_mode() -> None:
    # the first axial mode of a long thin box is isolated: |H| peaks at f = c / (2 L)
    sys = quiet(
        room_length=2.0,
        room_width=0.2,
        room_height=0.2,
        sources="0.05,0.1,0.1",
        microphone="1.95,0.1,0.1",
        speakers=1,
        inputs=5,
        q=50.0,
    )
    f1 = sys.speed_of_sound / (2 * 2.0)
    f = np.linspace(0.9 * f1, 1.1 * f1, 801)
    mag = np.abs(sys.transfer_function(f)[0])
    assert f[np.argmax(mag)] == pytest.approx(f1, rel=1e-3)


# -- signals ------------------------------------------------------------------------------------
def test_tone_grid_finds_the_common_base() -> None:
    grid = tone_grid(300.0, 100.0, 5)
    assert grid.base == 100.0
    np.testing.assert_array_equal(grid.harmonics, [3, 4, 5, 6, 7])
    grid = tone_grid(450.0, 100.0, 3)
    assert grid.base == 50.0
    np.testing.assert_allclose(grid.frequencies, [450.0, 550.0, 650.0])
    with pytest.raises(ValueError, match="common base"):
        tone_grid(1000.0, 1.0001, 4)


def test_hann_spectrum_is_the_window_transform() -> None:
    duration = 0.03
    t = (np.arange(200_000) + 0.5) / 200_000 * duration
    w = np.sin(np.pi * t / duration) ** 2
    for omega in (0.0, 150.0, 2 * np.pi / duration, 1234.5):
        numeric = np.sum(w * np.exp(-1j * omega * t)) * duration / t.size
        assert hann_spectrum(np.array(omega), duration) == pytest.approx(numeric, rel=1e-6)


def test_nonlinearity_functions_match_their_formulas() -> None:
    u = np.linspace(-1, 1, 101)
    for nl in (
        Nonlinearity("tanh", 2.0),
        Nonlinearity("poly", 0.0, 0.2, -0.3),
        Nonlinearity("none"),
    ):
        fast = nl.function()(u.astype(np.float32).copy())
        np.testing.assert_allclose(fast, nl(u), atol=1e-6)
    np.testing.assert_allclose(Nonlinearity("tanh", 2.0)(u), np.tanh(2 * u) / 2)
    np.testing.assert_allclose(Nonlinearity("poly", 0, 0.2, -0.3)(u), u + 0.2 * u**2 - 0.3 * u**3)
    assert Nonlinearity("tanh", 0.0).order == 1


def test_schroeder_phases() -> None:
    np.testing.assert_allclose(schroeder_phases(4), [0.0, -np.pi / 2, -3 * np.pi / 2, -3 * np.pi])


# -- the system ---------------------------------------------------------------------------------
def test_single_tone_through_a_linear_speaker_reads_gain_times_h() -> None:
    sys = quiet(nonlinearity="none")
    h = sys.transfer_function(sys.tone_frequencies)
    for i in range(sys.inputs):
        s, k = divmod(i, 5)
        x = np.zeros((1, sys.inputs))
        x[0, i] = 0.7
        y = sys.forward(x)[0]
        b = bin_index(sys, sys.tone_frequencies[k])
        assert y[b] == pytest.approx(sys.gain * 0.7 * abs(h[s, k]), rel=1e-5)


def test_speakers_on_one_tone_add_as_complex_amplitudes() -> None:
    sys = quiet(nonlinearity="none")
    h = sys.transfer_function(sys.tone_frequencies)
    x = np.zeros((1, 20))
    x[0, [2, 7, 12, 17]] = [0.9, 0.3, 0.5, 0.2]  # tone 2 on the four speakers
    b = bin_index(sys, sys.tone_frequencies[2])
    expected = sys.gain * abs(h[:, 2] @ np.array([0.9, 0.3, 0.5, 0.2]))
    assert sys.forward(x)[0, b] == pytest.approx(expected, rel=1e-5)


def test_linear_system_is_homogeneous_and_saturation_compresses() -> None:
    x = np.random.default_rng(0).uniform(size=(50, 20))
    lin = quiet(nonlinearity="none")
    np.testing.assert_allclose(lin.forward(0.5 * x), 0.5 * lin.forward(x), rtol=1e-4, atol=1e-6)
    sat = quiet()
    y_small, y_big = sat.forward(0.1 * x), sat.forward(x)
    # nearly linear for small drives, clearly not at full drive
    np.testing.assert_allclose(y_small, 0.1 * lin.forward(x), rtol=0.02, atol=2e-3)
    assert np.abs(y_big - lin.forward(x)).mean() > 0.03


def test_cubic_intermodulation_product_has_the_expected_amplitude() -> None:
    # tones f1, f2 on speaker 0 through u + gamma u^3: the line at 2 f2 - f1 (= tone 2, silent)
    # carries (3/4) gamma A1 A2^2 with A = x / T (T = 5 tones per speaker)
    gamma = -0.5
    sys = quiet(nonlinearity="poly", beta=0.0, gamma=gamma)
    f1, f2 = sys.tone_frequencies[:2]
    x = np.zeros((1, 20))
    x[0, 0], x[0, 1] = 0.8, 0.6
    y = sys.forward(x)[0]
    a1, a2 = 0.8 / 5, 0.6 / 5
    h = sys.transfer_function([2 * f2 - f1])[0, 0]
    expected = sys.gain * 5 * abs(h) * 0.75 * abs(gamma) * a1 * a2**2
    assert y[bin_index(sys, 2 * f2 - f1)] == pytest.approx(expected, rel=1e-4)
    # the quadratic term adds the difference tone f2 - f1 and the sum f1 + f2 (both silent
    # frequencies), each with amplitude beta A1 A2
    quad = quiet(
        nonlinearity="poly",
        beta=0.4,
        gamma=0.0,
        bin_low=f2 - f1,
        bin_high=f1 + f2,
        outputs=int(2 * f1 / (f2 - f1)) + 1,
        microphones=1,
    )
    y = quad.forward(x)[0]
    h = quad.transfer_function([f2 - f1, f1 + f2])[0]
    np.testing.assert_allclose(
        [y[bin_index(quad, f2 - f1)], y[bin_index(quad, f1 + f2)]],
        quad.gain * 5 * np.abs(h) * 0.4 * a1 * a2,
        rtol=1e-4,
    )


def test_time_grid_is_alias_free_enough() -> None:
    x = np.random.default_rng(0).uniform(size=(300, 20))
    for kw in ({}, {"saturation": 3.0}, {"nonlinearity": "poly"}):
        ref = quiet(time_samples=400, **kw).forward(x)
        err = np.sqrt(np.mean((quiet(**kw).forward(x) - ref) ** 2) / np.mean(ref**2))
        assert err < 1e-3, kw


def test_mode_sum_truncation_is_small(monkeypatch: pytest.MonkeyPatch) -> None:
    # modes are summed up to 1.5 x the highest line frequency; 3 x (8 x more modes) changes the
    # normalised |H| at the tones by a few per cent at most
    import phyll_acoustic.system as system_module

    base = quiet()
    monkeypatch.setattr(system_module, "MODE_MARGIN", 3.0)
    more = quiet()
    assert more.modes.count > 5 * base.modes.count
    h = np.abs(base.transfer_function(base.tone_frequencies))
    h_more = np.abs(more.transfer_function(more.tone_frequencies))
    assert np.max(np.abs(h - h_more) / h_more) < 0.03


@pytest.mark.parametrize("cavity", ["room", "chaotic"])
def test_cavity_does_not_depend_on_the_loudspeaker_model(cavity: str) -> None:
    # the mode cut-off follows the read band only: the same seed gives the same modes and the
    # same H at the tones (bit for bit) for every loudspeaker model and time grid
    models: list[dict[str, object]] = [
        {"nonlinearity": "none"},
        {"nonlinearity": "tanh"},
        {"nonlinearity": "tanh", "saturation": 0.0},
        {"nonlinearity": "poly"},
        {"nonlinearity": "poly", "gamma": 0.0},
        {"time_samples": 400},
    ]
    ref = quiet(cavity=cavity, seed=2, **models[0])  # type: ignore[arg-type]
    h_ref = ref.transfer_function(ref.tone_frequencies)
    for kw in models[1:]:
        other = quiet(cavity=cavity, seed=2, **kw)  # type: ignore[arg-type]
        np.testing.assert_array_equal(other.modes.k, ref.modes.k)
        np.testing.assert_array_equal(other.transfer_function(other.tone_frequencies), h_ref)


@pytest.mark.parametrize("damping", [{}, {"q": 30.0}])
def test_temperature_step_scales_modes_by_c_ratio(damping: dict[str, float]) -> None:
    sys = quiet(**damping)
    f = np.linspace(1000.0, 4000.0, 61)
    h0, modes0 = sys.transfer_function(f), sys.mode_frequencies()
    c0 = sys.speed_of_sound
    sys.perturb(4.0, np.random.default_rng(5))
    assert abs(sys.temperature - 20.0) == pytest.approx(4.0)
    r = sys.speed_of_sound / c0
    assert r == pytest.approx(speed_of_sound(sys.temperature) / speed_of_sound(20.0))
    np.testing.assert_allclose(sys.mode_frequencies(), r * modes0)
    # H_T(r f) = H_T0(f) / r^2: the whole response slides in frequency (Q is unchanged)
    np.testing.assert_allclose(sys.transfer_function(r * f), h0 / r**2, rtol=1e-9)
    assert sys.status()["c(T)/c(T0)"] == pytest.approx(r, abs=1e-6)


def test_perturb_sign_is_random_and_reproducible() -> None:
    steps = []
    for seed in range(12):
        sys = quiet()
        sys.perturb(2.5, seed)
        steps.append(sys.temperature - 20.0)
    assert set(np.round(steps, 9)) == {-2.5, 2.5}
    a, b = quiet(), quiet()
    a.perturb(3.0, 7)
    b.perturb(3.0, 7)
    x = np.random.default_rng(1).uniform(size=(10, 20))
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    # a downward step below absolute zero is refused and leaves the system unchanged
    seed = next(k for k in range(100) if np.random.default_rng(k).random() >= 0.5)  # sign -1
    cold = quiet()
    with pytest.raises(ValueError, match="absolute zero"):
        cold.perturb(300.0, seed)
    assert cold.temperature == 20.0
    with pytest.raises(ValueError, match="absolute zero"):
        cold.set_temperature(-300.0)


def test_drift_changes_outputs_more_for_bigger_steps() -> None:
    x = np.random.default_rng(0).uniform(size=(200, 20))
    ref = quiet().forward(x)
    changes = []
    for step in (0.5, 2.0, 8.0):
        sys = quiet()
        sys.perturb(step, 0)
        changes.append(np.abs(sys.forward(x) - ref).mean())
    assert changes[0] < changes[1] < changes[2]


def test_noise_is_seeded_complex_and_fresh_per_call() -> None:
    x = np.zeros((4000, 20))
    a, b = AcousticCavity(noise=0.01, seed=3), AcousticCavity(noise=0.01, seed=3)
    ya = a.forward(x)
    np.testing.assert_array_equal(ya, b.forward(x))
    assert not np.array_equal(ya, a.forward(x))  # a new draw on each query
    # zero drive: |complex Gaussian| with RMS 0.01 (Rayleigh: mean = 0.01 sqrt(pi)/2)
    assert np.sqrt(np.mean(ya**2)) == pytest.approx(0.01, rel=0.02)
    assert ya.mean() == pytest.approx(0.01 * np.sqrt(np.pi) / 2, rel=0.02)
    assert np.array_equal(quiet().forward(x), np.zeros_like(x))


def test_room_and_chaotic_variants_differ_and_are_seeded() -> None:
    x = np.random.default_rng(0).uniform(size=(100, 20))
    room, chaos = quiet(), quiet(cavity="chaotic")
    assert not np.allclose(room.forward(x), chaos.forward(x))
    np.testing.assert_array_equal(chaos.forward(x), quiet(cavity="chaotic").forward(x))
    assert not np.allclose(chaos.forward(x), quiet(cavity="chaotic", seed=1).forward(x))
    # both normalised the same way: RMS |H| over the played tones and microphones is 1
    for sys in (room, chaos):
        h = sys.transfer_functions(sys.tone_frequencies)
        assert np.sqrt(np.mean(np.abs(h) ** 2)) == pytest.approx(1.0)


def test_explicit_positions_are_used() -> None:
    src = "0.1,0.1,0.1;0.7,0.1,0.1;0.1,0.5,0.1;0.7,0.5,0.4"
    a = quiet(sources=src, microphone="0.4,0.3,0.25", seed=0)
    b = quiet(sources=src, microphone="0.4,0.3,0.25", seed=9)
    np.testing.assert_allclose(a.source_positions[1], [0.7, 0.1, 0.1])
    np.testing.assert_allclose(a.microphone_position, [0.4, 0.3, 0.25])
    x = np.random.default_rng(0).uniform(size=(20, 20))
    np.testing.assert_array_equal(a.forward(x), b.forward(x))  # the seed only placed them


def test_default_nonlinearity_score_is_in_the_measured_range() -> None:
    x = np.random.default_rng(0).uniform(size=(4000, 20))
    score = nonlinearity_score(x, AcousticCavity().forward(x))
    assert 0.02 <= score <= 0.2
