"""The batched symmetric elimination of the Woodbury solver: its forms equal LAPACK's, its
pivot check catches the matrices it cannot eliminate, and the solver's two kernels agree
with the dense solver."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_microwave import DenseSolver, DipoleModel, WoodburySolver, default_geometry
from phyll_microwave.elimination import bilinear_forms, layout


def _pack(m: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Packed bordered matrices (layout(k).size, B) of M (B, k, k), u, v (B, k)."""
    b, k = u.shape
    full = np.zeros((b, k + 2, k + 2), dtype=np.complex128)
    full[:, :k, :k], full[:, :k, k], full[:, :k, k + 1] = m, u, v
    lay = layout(k)
    return np.ascontiguousarray(full[:, lay.row, lay.col].T)


def _symmetric(rng: np.random.Generator, b: int, k: int) -> np.ndarray:
    a = rng.standard_normal((b, k, k)) + 1j * rng.standard_normal((b, k, k))
    return a + np.swapaxes(a, 1, 2) + 3.0 * np.eye(k)


@pytest.mark.parametrize("k", [1, 2, 5, 13, 20])
def test_forms_equal_lapack(k: int) -> None:
    rng = np.random.default_rng(k)
    m = _symmetric(rng, 64, k)
    u = rng.standard_normal((64, k)) + 1j * rng.standard_normal((64, k))
    v = rng.standard_normal((64, k)) + 1j * rng.standard_normal((64, k))
    forms, ratio = bilinear_forms(_pack(m, u, v), k)
    expected = np.einsum("bk,bk->b", u, np.linalg.solve(m, v[..., None])[..., 0])
    assert np.max(np.abs(forms - expected) / np.abs(expected)) < 1e-10
    assert np.all(ratio > 0)


def test_a_zero_pivot_is_reported() -> None:
    m = np.array([[[0.0, 1.0], [1.0, 0.0]], [[2.0, 1.0], [1.0, 2.0]]], dtype=np.complex128)
    u = np.ones((2, 2), dtype=np.complex128)
    forms, ratio = bilinear_forms(_pack(m, u, u), 2)
    assert ratio[0] == 0.0 and ratio[1] > 0.1
    assert abs(forms[1] - u[1] @ np.linalg.solve(m[1], u[1])) < 1e-12


@pytest.fixture(scope="module")
def model() -> DipoleModel:
    return DipoleModel(default_geometry(), np.linspace(0.9, 1.1, 5))


def _configurations(n: int, count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(count, n)).astype(bool)


def test_kernels_agree_with_dense(model: DipoleModel) -> None:
    on = _configurations(model.geometry.n_atoms, 60, seed=11)
    dense = DenseSolver(model)(on)
    for kernel in ("elimination", "lapack"):
        h = WoodburySolver(model, kernel=kernel)(on)
        assert np.max(np.abs(h - dense) / np.abs(dense)) < 1e-8


def test_matrices_failing_the_pivot_check_are_solved_with_lapack(
    model: DipoleModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import phyll_microwave.solvers as solvers

    on = _configurations(model.geometry.n_atoms, 30, seed=12)
    solve = WoodburySolver(model)
    calls: list[int] = []
    lapack = WoodburySolver._update_lapack

    def counting(self: WoodburySolver, r: np.ndarray, atoms: np.ndarray) -> np.ndarray:
        calls.append(r.size)
        return lapack(self, r, atoms)

    monkeypatch.setattr(WoodburySolver, "_update_lapack", counting)
    solve(on)
    assert calls == []  # the default system's matrices all pass the check
    monkeypatch.setattr(solvers, "PIVOT_RATIO", np.inf)  # every matrix fails it
    h = solve(on)
    assert sum(calls) == np.unique(on, axis=0).shape[0]  # every distinct one, once
    dense = DenseSolver(model)(on)
    assert np.max(np.abs(h - dense) / np.abs(dense)) < 1e-8


def test_unknown_kernel_is_refused(model: DipoleModel) -> None:
    with pytest.raises(ValueError, match="kernel"):
        WoodburySolver(model, kernel="cholesky")


def test_large_updates_go_to_lapack(model: DipoleModel, monkeypatch: pytest.MonkeyPatch) -> None:
    import phyll_microwave.solvers as solvers

    on = _configurations(model.geometry.n_atoms, 40, seed=13)
    solve = WoodburySolver(model)
    ranks: list[int] = []
    lapack = WoodburySolver._update_lapack

    def counting(self: WoodburySolver, r: np.ndarray, atoms: np.ndarray) -> np.ndarray:
        ranks.append(atoms.shape[1])
        return lapack(self, r, atoms)

    monkeypatch.setattr(WoodburySolver, "_update_lapack", counting)
    monkeypatch.setattr(solvers, "ELIMINATION_MAX_K", 12)
    h = solve(on)
    k = (on != solve._refs[solve.nearest_reference(on)]).sum(axis=1)
    assert sorted(set(ranks)) == sorted({int(v) for v in k if v > 12})
    dense = DenseSolver(model)(on)
    assert np.max(np.abs(h - dense) / np.abs(dense)) < 1e-8
