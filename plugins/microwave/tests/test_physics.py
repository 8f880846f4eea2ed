"""Physics sanity: dipole formulas, reciprocity, the effect of bits, geometry and drift."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from phyll_microwave import (
    DipoleModel,
    MicrowaveCavity,
    WoodburySolver,
    default_geometry,
    drift,
)
from phyll_microwave.geometry import WALL_CLEARANCE
from phyll_microwave.physics import (
    Lorentzian,
    green,
    hankel2_0,
    interaction_matrix,
)
from scipy import special


def test_hankel_is_scipys_hankel2() -> None:
    x = np.linspace(0.01, 200.0, 5001)
    assert np.allclose(hankel2_0(x), special.hankel2(0, x), rtol=1e-12, atol=0)


def test_inverse_polarisability_published_values() -> None:
    # antenna at its resonance f = 1: real part 0, imaginary part k^2/4 = pi^2 (Gamma = 0)
    antenna = Lorentzian(1.0, 0.5, 0.0).inverse_polarisability(np.array([1.0]))[0]
    assert antenna == pytest.approx(1j * np.pi**2)
    # wall dipole at f = 1: ((2 pi 10)^2 - (2 pi)^2) / 50^2 + i (pi^2 + 2 pi 100 / 50^2)
    wall = Lorentzian(10.0, 50.0, 100.0).inverse_polarisability(np.array([1.0]))[0]
    expected = (4 * np.pi**2 * 99) / 2500 + 1j * (np.pi**2 + 2 * np.pi * 100 / 2500)
    assert wall == pytest.approx(expected)


def test_green_coupling_and_interaction_matrix() -> None:
    f = np.array([0.9, 1.1])
    pts = np.array([[0.0, 0.0], [0.3, 0.4], [2.0, -1.0]])
    diag = np.arange(6, dtype=complex).reshape(2, 3) + 1
    w = interaction_matrix(pts, diag, f)
    k = 2 * np.pi * 1.1
    assert w[1, 0, 1] == pytest.approx(1j * k**2 / 4 * special.hankel2(0, k * 0.5))
    assert np.array_equal(w, np.swapaxes(w, 1, 2))
    assert np.array_equal(np.diagonal(w, axis1=1, axis2=2), diag)
    with pytest.raises(ValueError, match="same position"):
        green(np.array([0.5, 0.0]), f)


def test_reciprocity_swapping_the_antennas() -> None:
    geom = default_geometry(atoms=20, seed=2)
    swapped = attrs.evolve(geom, tx=geom.rx, rx=geom.tx)
    freqs = np.linspace(0.9, 1.1, 8)
    on = np.random.default_rng(0).integers(0, 2, size=(5, 20)).astype(bool)
    h = WoodburySolver(DipoleModel(geom, freqs))(on)
    h_swapped = WoodburySolver(DipoleModel(swapped, freqs))(on)
    assert np.allclose(h, h_swapped, rtol=1e-9, atol=0)


def test_each_bit_changes_the_channel(cavity: MicrowaveCavity) -> None:
    base = np.random.default_rng(1).integers(0, 2, size=40).astype(bool)
    flipped = np.repeat(base[None], 40, axis=0)
    flipped[np.arange(40), np.arange(40)] ^= True
    h0 = np.abs(cavity.channel(base[None]))
    h = np.abs(cavity.channel(flipped))
    change = np.max(np.abs(h - h0), axis=1) / np.max(h0)
    assert np.all(change > 1e-3), f"smallest change {change.min():.2e}"


def test_inputs_change_the_outputs_beyond_quantisation(cavity: MicrowaveCavity) -> None:
    x = np.full((3, 20), 0.1)
    x[1] = 0.2  # same level (0) as 0.1 with 4 levels
    x[2, 0] = 0.9  # level 3 for the first value
    y = cavity.forward(x)
    assert np.array_equal(y[0], y[1])
    assert not np.allclose(y[0], y[2])


def test_reverberation_every_frequency_is_fed(cavity: MicrowaveCavity) -> None:
    on = np.random.default_rng(2).integers(0, 2, size=(64, 40)).astype(bool)
    mag = np.abs(cavity.channel(on))
    assert mag.min() > 0 and np.all(np.isfinite(mag))
    # the configuration matters at every frequency point
    assert np.all(mag.std(axis=0) > 1e-3 * mag.mean(axis=0))


def test_default_geometry_is_documented_and_seeded() -> None:
    geom = default_geometry()
    assert geom.n_atoms == 40 and geom.stirrer_centres.shape == (3, 2)
    assert np.allclose(geom.tx, [1.5, 6.5]) and np.allclose(geom.rx, [8.5, 6.0])
    assert np.allclose(geom.atoms[:, 1], WALL_CLEARANCE)
    assert np.allclose(np.diff(geom.atoms[:, 0]), 0.2)
    pts = geom.points()
    assert pts.shape == (geom.n_dipoles, 2)
    assert np.all((pts >= 0) & (pts <= [10.0, 8.0]))
    again, other = default_geometry(), default_geometry(seed=1)
    assert np.array_equal(geom.stirrer_centres, again.stirrer_centres)
    assert not np.allclose(geom.stirrer_centres, other.stirrer_centres)
    with pytest.raises(ValueError):
        geom.tx[0] = 3.0  # arrays are read-only


def test_drift_moves_and_turns_only_the_stirrers_deterministically() -> None:
    geom = default_geometry()
    a = drift(geom, 0.2, np.random.default_rng(7))
    b = drift(geom, 0.2, np.random.default_rng(7))
    c = drift(geom, 0.2, np.random.default_rng(8))
    assert np.array_equal(a.stirrer_centres, b.stirrer_centres)
    assert np.array_equal(a.stirrer_angles, b.stirrer_angles)
    assert not np.allclose(a.stirrer_centres, geom.stirrer_centres)
    assert not np.allclose(a.stirrer_angles, geom.stirrer_angles)
    assert not np.allclose(a.stirrer_centres, c.stirrer_centres)
    for name in ("tx", "rx", "walls", "atoms"):
        assert np.array_equal(getattr(a, name), getattr(geom, name))
    assert drift(geom, 0.0, np.random.default_rng(7)) is geom
    low, high = geom.stirrer_box()
    far = drift(geom, 50.0, np.random.default_rng(1))
    assert np.all((far.stirrer_centres >= low) & (far.stirrer_centres <= high))


def test_moved_model_equals_a_model_built_from_scratch() -> None:
    geom = default_geometry(atoms=10, stirrers=2)
    freqs = np.linspace(0.9, 1.1, 3)
    moved_geom = drift(geom, 0.3, np.random.default_rng(0))
    moved = DipoleModel(geom, freqs).moved(moved_geom)
    assert np.allclose(moved.matrix, DipoleModel(moved_geom, freqs).matrix, rtol=1e-13, atol=0)


def test_system_perturb_moves_its_stirrers() -> None:
    a, b = MicrowaveCavity(frequencies=4), MicrowaveCavity(frequencies=4)
    before = a.geometry.stirrer_centres.copy()
    a.perturb(0.1, 3)
    b.perturb(0.1, 3)
    assert not np.allclose(a.geometry.stirrer_centres, before)
    assert np.array_equal(a.geometry.stirrer_centres, b.geometry.stirrer_centres)


def test_noise_is_seeded_and_fresh_per_call() -> None:
    x = np.full((2, 20), 0.6)
    a, b = MicrowaveCavity(noise=0.01, seed=3), MicrowaveCavity(noise=0.01, seed=3)
    first, second = a.forward(x), a.forward(x)
    assert np.array_equal(first, b.forward(x))
    assert not np.array_equal(first, second)
    clean = MicrowaveCavity(seed=3).forward(x)
    assert 0 < np.std(first - clean) < 0.05
