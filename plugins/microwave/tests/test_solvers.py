"""The three solvers agree, and agree with a literal reading of H = [diag(W) W^-1]_{RX,TX}."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_microwave import (
    DenseSolver,
    DipoleModel,
    MicrowaveCavity,
    SchurSolver,
    WoodburySolver,
    default_geometry,
    drift,
)
from phyll_microwave.geometry import RX, TX


def _configurations(n_atoms: int, count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    on = rng.integers(0, 2, size=(count, n_atoms)).astype(bool)
    extremes = np.zeros((4, n_atoms), dtype=bool)
    extremes[1] = True  # all on
    extremes[2, 0] = True  # one bit on
    extremes[3] = True
    extremes[3, -1] = False  # one bit off
    return np.concatenate([extremes, on])


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.abs(b)))


@pytest.fixture(scope="module")
def model() -> DipoleModel:
    return DipoleModel(default_geometry(), np.linspace(0.9, 1.1, 6))


def test_dense_matches_the_literal_formula(model: DipoleModel) -> None:
    on = _configurations(model.geometry.n_atoms, 2)
    h = DenseSolver(model)(on)
    atoms = model.atom_index
    for b in range(on.shape[0]):
        for f in (0, 5):
            w = model.matrix[f].copy()
            w[atoms, atoms] = model.atom_diagonal(on[b : b + 1])[0, f]
            v = np.diag(np.diag(w)) @ np.linalg.inv(w)
            assert abs(h[b, f] - v[RX, TX]) <= 1e-10 * abs(v[RX, TX])


@pytest.mark.parametrize("fast", [SchurSolver, WoodburySolver])
def test_fast_solvers_agree_with_dense(model: DipoleModel, fast: type) -> None:
    on = _configurations(model.geometry.n_atoms, 12)
    assert _relative(fast(model)(on), DenseSolver(model)(on)) < 1e-8


def test_woodbury_agrees_with_schur_on_many_configurations(model: DipoleModel) -> None:
    on = _configurations(model.geometry.n_atoms, 400, seed=1)
    assert _relative(WoodburySolver(model)(on), SchurSolver(model)(on)) < 1e-8


def test_solvers_agree_on_other_sizes_and_after_drift() -> None:
    geom = default_geometry(atoms=7, width=6.0, height=5.0, stirrers=2, seed=3)
    model = DipoleModel(geom, np.linspace(0.8, 1.2, 4), f_on=1.2, f_off=3.0)
    moved = model.moved(drift(geom, 0.5, np.random.default_rng(0)))
    on = _configurations(7, 20)
    for m in (model, moved):
        dense = DenseSolver(m)(on)
        assert _relative(SchurSolver(m)(on), dense) < 1e-8
        assert _relative(WoodburySolver(m)(on), dense) < 1e-8


def test_system_outputs_do_not_depend_on_the_solver() -> None:
    x = np.random.default_rng(5).uniform(0, 1, size=(4, 20))
    outputs = [MicrowaveCavity(solver=s, frequencies=5).forward(x) for s in ("woodbury", "dense")]
    assert np.max(np.abs(outputs[0] - outputs[1]) / outputs[1]) < 1e-8


def test_batches_larger_than_one_chunk(model: DipoleModel, monkeypatch: pytest.MonkeyPatch) -> None:
    import phyll_microwave.solvers as solvers

    on = _configurations(model.geometry.n_atoms, 30, seed=2)
    whole = WoodburySolver(model)(on)
    monkeypatch.setattr(solvers, "MEMORY_BUDGET", 1)  # one configuration per chunk
    assert np.array_equal(WoodburySolver(model)(on), whole)
    assert _relative(SchurSolver(model)(on), whole) < 1e-8


@pytest.mark.parametrize("solver", [SchurSolver, WoodburySolver])
def test_a_result_does_not_depend_on_the_rest_of_the_batch(
    model: DipoleModel, solver: type
) -> None:
    on = _configurations(model.geometry.n_atoms, 10, seed=4)
    solve = solver(model)
    batch = solve(on)
    for i in (0, 3, 7, 13):
        assert np.array_equal(solve(on[i : i + 1])[0], batch[i])


@pytest.mark.parametrize("references", [0, 2, 32, 100])
def test_woodbury_with_any_references_agrees_with_dense(
    model: DipoleModel, references: int
) -> None:
    on = _configurations(model.geometry.n_atoms, 40, seed=6)
    woodbury = WoodburySolver(model, references=references)
    assert _relative(woodbury(on), DenseSolver(model)(on)) < 1e-8


def test_nearest_reference_differs_in_at_most_half_the_atoms(model: DipoleModel) -> None:
    from phyll_microwave.solvers import REFERENCES, reference_configurations

    n = model.geometry.n_atoms
    refs = reference_configurations(n, REFERENCES)
    assert refs.shape == (REFERENCES + 2, n) and not refs[0].any() and refs[1].all()
    solve = WoodburySolver(model)
    on = _configurations(n, 500, seed=7)
    nearest = solve.nearest_reference(on)
    distance = (on != refs[nearest]).sum(axis=1)
    assert distance.max() <= n // 2
    brute = (on[:, None, :] != refs[None]).sum(axis=2).min(axis=1)
    assert np.array_equal(distance, brute)
    # more references: smaller updates on random configurations
    two = WoodburySolver(model, references=0)
    assert (on != two._refs[two.nearest_reference(on)]).sum(axis=1).mean() > distance.mean() + 2


def test_repeated_configurations_are_solved_once_with_identical_results(
    model: DipoleModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    on = _configurations(model.geometry.n_atoms, 6, seed=8)
    batch = np.concatenate([on, on[::-1], on[:3]])
    solve = WoodburySolver(model)
    solved: list[int] = []
    update = WoodburySolver._update

    def counting(self: WoodburySolver, r: np.ndarray, d: np.ndarray, k: int) -> np.ndarray:
        solved.append(r.size)
        return update(self, r, d, k)

    monkeypatch.setattr(WoodburySolver, "_update", counting)
    h = solve(batch)
    n = on.shape[0]
    assert sum(solved) <= n  # each distinct configuration at most once (uniform ones: none)
    assert np.array_equal(h[:n], h[n : 2 * n][::-1]) and np.array_equal(h[:3], h[2 * n :])
    assert _relative(h, DenseSolver(model)(batch)) < 1e-8
