"""``inputs=N``: a metasurface sized for the input width, in as many rows as needed."""

from __future__ import annotations

import numpy as np
from phyll_microwave import MicrowaveCavity, default_geometry

from phyll_core.factory import build_system
from phyll_core.testing import check_system


def test_inputs_sets_the_number_of_meta_atoms() -> None:
    assert MicrowaveCavity().input_dim == 20 and MicrowaveCavity().atoms == 40
    wide = MicrowaveCavity(inputs=30, frequencies=4)
    assert (wide.input_dim, wide.atoms) == (30, 60)
    assert MicrowaveCavity(inputs=12, bits=3, frequencies=2).atoms == 36
    binary = MicrowaveCavity(inputs=50, encoding="binary", frequencies=2)
    assert (binary.input_dim, binary.atoms) == (50, 50)
    assert MicrowaveCavity(inputs=20, atoms=40).atoms == 40  # consistent values are fine
    system = build_system("microwave", ["inputs=25", "frequencies=3"])
    assert system.input_dim == 25 and system.params["inputs"] == 25


def test_meta_atoms_beyond_one_row_fill_further_rows() -> None:
    one = default_geometry(atoms=40)
    assert np.all(one.atoms[:, 1] == 0.5)
    g = default_geometry(atoms=100, control_atoms=4)
    ys = g.atoms[:100, 1]
    assert np.allclose(np.unique(ys), [0.5, 0.7, 0.9])  # rows of 46, 46, 8
    assert np.bincount(np.round((ys - 0.5) / 0.2).astype(int)).tolist() == [46, 46, 8]
    assert np.allclose(g.atoms[100:, 1], 0.9 + 0.5)  # the control row above the last
    distances = np.hypot(*(g.atoms[:, None, :] - g.atoms[None, :, :]).transpose(2, 0, 1))
    assert distances[~np.eye(104, dtype=bool)].min() >= 0.2 - 1e-9
    assert np.allclose(g.atoms[92:100, 0].mean(), g.width / 2)  # each row centred


def test_a_two_row_metasurface_is_a_valid_system_that_matches_the_dense_solver() -> None:
    check_system(lambda seed: MicrowaveCavity(inputs=30, frequencies=4, seed=seed))
    x = np.random.default_rng(3).uniform(size=(16, 30))
    fast = MicrowaveCavity(inputs=30, frequencies=4).forward(x)
    dense = MicrowaveCavity(inputs=30, frequencies=4, solver="dense").forward(x)
    assert np.max(np.abs(fast - dense) / dense) < 1e-8
    # wider inputs change the physics: every input value reaches the output
    base = MicrowaveCavity(inputs=30, frequencies=4)
    y0 = base.forward(x[:1])
    for j in (0, 29):
        moved = x[:1].copy()
        moved[0, j] = 1.0 - moved[0, j] if abs(moved[0, j] - 0.5) > 0.3 else 0.0
        assert np.max(np.abs(base.forward(moved) - y0)) > 1e-6


def test_large_metasurfaces_keep_the_reference_memory_bounded() -> None:
    from phyll_microwave.solvers import REFERENCE_MEMORY

    system = MicrowaveCavity(inputs=150, bits=1, frequencies=20)
    solver = system._solve
    refs = solver._refs.shape[0]
    assert 2 <= refs < 34
    assert refs * 20 * 150 * 150 * 16 <= REFERENCE_MEMORY
