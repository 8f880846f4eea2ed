"""Channels ``H(f) = [diag(W) W^-1]_{RX, TX}`` of many metasurface configurations.

:class:`DipoleModel` holds W at every frequency point for one geometry, with the meta-atoms'
diagonal left open (it is the only part a configuration changes). Three solvers turn a batch
of configurations into the same channels (up to rounding):

* :class:`DenseSolver` fills the diagonal and solves the full ``n x n`` system per
  configuration and frequency (the plain reference, ``O(n^3)`` each).
* :class:`SchurSolver` splits W into the static block A (antennas, walls, stirrers) and the
  metasurface block. With ``W = [[A, B], [C, D]]`` and ``S = D - C A^-1 B`` (the Schur
  complement, an ``N x N`` matrix),
  ``(W^-1)_{RX,TX} = (A^-1)_{RX,TX} + (A^-1 B)_{RX,:} S^-1 (C A^-1)_{:,TX}``.
  ``A`` is factorised once per frequency (one solve with ``N + 1`` right-hand sides); each
  configuration then only adds its diagonal to ``S`` and costs one ``N x N`` solve, batched
  over configurations and frequencies.
* :class:`WoodburySolver` (the default of the system) also inverts ``S`` once per frequency
  for a few fixed reference configurations and treats a configuration as a low-rank change of
  the nearest one: a ``k x k`` solve with ``k <= N/2``, batched over the distinct
  configurations of the batch (see its docstring).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs
import numpy as np

from phyll_microwave.elimination import bilinear_forms, layout
from phyll_microwave.geometry import RX, TX, Geometry
from phyll_microwave.physics import Lorentzian, distances, green, interaction_matrix

ANTENNA = Lorentzian(f_res=1.0, chi=0.5, gamma=0.0)
"""Published PhysFad antenna dipoles."""
WALL = Lorentzian(f_res=10.0, chi=50.0, gamma=100.0)
"""Published PhysFad environment (wall) dipoles; stirrers use the same response."""
ATOM_CHI = 50.0
"""Oscillator strength of a meta-atom (published)."""
ATOM_GAMMA = 0.0
"""Absorption of a meta-atom (published)."""
MEMORY_BUDGET = 32 * 2**20
"""Bytes of complex work arrays a solver allocates at once (the batch is cut into chunks)."""
REFERENCES = 62
"""Random reference configurations of the Woodbury solver besides all-off and all-on (half
drawn, half their complements): 0.5 MB each at 20 frequencies and 40 meta-atoms (on the probe's
random configurations 62 rather than 32 make the mean ``k`` 12.6 instead of 13.4 and the solver
faster by several per cent for a slower build: ``benchmarks/microwave_bench.py
--references-only``, docs/results.md)."""
REFERENCE_MEMORY = 64 * 2**20
"""Bytes the reference inverses may take at most (fewer random references for large
metasurfaces: each costs ``F N^2`` complex numbers)."""
ELIMINATION_COLUMNS = 2048
"""Matrices (configurations x frequencies) eliminated side by side in one pass of the
Woodbury solver's default kernel: a pass then works in the CPU cache."""
ELIMINATION_MAX_K = 48
"""Largest ``k`` the default kernel eliminates side by side; larger systems (metasurfaces of
well over 100 meta-atoms) go to LAPACK, which is faster there (measured crossover near 55)."""
PIVOT_RATIO = 1e-6
"""Smallest pivot, relative to the largest diagonal entry, that the elimination without
pivoting accepts; below it the matrix is solved again with LAPACK's partial pivoting."""
KERNELS = ("elimination", "lapack")
"""How the Woodbury solver computes its ``k x k`` forms (see :class:`WoodburySolver`)."""
REFERENCE_SEED = 2022
"""Seed of the random reference configurations (part of the solver, not of the system: any
references give the same channels up to rounding)."""


def _chunks(total: int, bytes_per_item: int, most: int | None = None) -> Iterator[slice]:
    size = max(1, MEMORY_BUDGET // max(1, bytes_per_item))
    if most is not None:
        size = min(size, max(1, most))
    for start in range(0, total, size):
        yield slice(start, min(total, start + size))


def _float64(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


@attrs.define(eq=False)
class DipoleModel:
    """W (F, n, n) of ``geometry`` at ``freqs`` with the meta-atoms' diagonal set to zero, and
    the two inverse polarisabilities a meta-atom can take (``w_on``, ``w_off``, each (F,)).

    ``f_on`` / ``f_off`` are the meta-atom resonance frequencies for bit 1 / bit 0. ``matrix``
    is computed from the geometry unless given (see :meth:`moved`).
    """

    geometry: Geometry
    freqs: np.ndarray = attrs.field(converter=_float64)
    f_on: float = 1.0
    f_off: float = 5.0
    matrix: np.ndarray = attrs.field(default=None, repr=False)
    w_on: np.ndarray = attrs.field(init=False, repr=False)
    w_off: np.ndarray = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.matrix is None:
            self.matrix = interaction_matrix(
                self.geometry.points(), self._static_diagonal(), self.freqs
            )
        self.w_on = Lorentzian(self.f_on, ATOM_CHI, ATOM_GAMMA).inverse_polarisability(self.freqs)
        self.w_off = Lorentzian(self.f_off, ATOM_CHI, ATOM_GAMMA).inverse_polarisability(self.freqs)

    def _static_diagonal(self) -> np.ndarray:
        f, geom = self.freqs, self.geometry
        columns = [
            np.repeat(ANTENNA.inverse_polarisability(f)[:, None], 2, axis=1),
            np.repeat(WALL.inverse_polarisability(f)[:, None], geom.n_static - 2, axis=1),
            np.zeros((f.size, geom.n_atoms), dtype=np.complex128),
        ]
        return np.concatenate(columns, axis=1)

    @property
    def atom_index(self) -> np.ndarray:
        """Indices of the meta-atoms in W."""
        return np.arange(self.geometry.n_static, self.geometry.n_dipoles)

    def atom_diagonal(self, on: np.ndarray) -> np.ndarray:
        """Meta-atom inverse polarisabilities (batch, F, N) of configurations ``on`` (batch, N,
        bool: True where the meta-atom resonates at ``f_on``)."""
        return np.where(on[:, None, :], self.w_on[None, :, None], self.w_off[None, :, None])

    def moved(self, geometry: Geometry) -> DipoleModel:
        """The model of ``geometry``, which must differ from this one only in where its
        stirrers are: only the stirrers' rows and columns of W are recomputed."""
        sl = geometry.stirrer_slice
        if geometry.n_dipoles != self.geometry.n_dipoles or sl != self.geometry.stirrer_slice:
            raise ValueError("moved() needs a geometry with the same dipole counts")
        own = np.arange(sl.stop - sl.start)
        r = distances(geometry.stirrer_points(), geometry.points())  # (n_st, n)
        r[own, sl.start + own] = 1.0  # placeholder for each dipole's distance to itself
        rows = green(r, self.freqs)
        rows[:, own, sl.start + own] = self.matrix[:, sl.start + own, sl.start + own]
        matrix = self.matrix.copy()
        matrix[:, sl, :] = rows
        matrix[:, :, sl] = np.swapaxes(rows, 1, 2)
        return DipoleModel(geometry, self.freqs, self.f_on, self.f_off, matrix)


@attrs.define(eq=False)
class DenseSolver:
    """Full solve of ``W x = e_TX`` for every configuration and frequency (reference)."""

    model: DipoleModel

    def __call__(self, on: np.ndarray) -> np.ndarray:
        """Complex channels (batch, F) of the configurations ``on`` (batch, N, bool)."""
        m = self.model
        f, n = m.matrix.shape[0], m.matrix.shape[1]
        atoms = m.atom_index
        out = np.empty((on.shape[0], f), dtype=np.complex128)
        for sl in _chunks(on.shape[0], f * n * n * 16):
            b = sl.stop - sl.start
            w = np.broadcast_to(m.matrix, (b, f, n, n)).copy()
            w[:, :, atoms, atoms] = m.atom_diagonal(on[sl])
            rhs = np.zeros((b, f, n, 1), dtype=np.complex128)
            rhs[:, :, TX, 0] = 1.0
            x = np.linalg.solve(w, rhs)[..., 0]
            out[sl] = m.matrix[None, :, RX, RX] * x[:, :, RX]
        return out


@attrs.define(eq=False)
class SchurSolver:
    """Schur-complement solver: one factorisation of the static block per frequency, then an
    ``N x N`` solve per configuration and frequency (see the module docstring)."""

    model: DipoleModel
    _g0: np.ndarray = attrs.field(init=False, repr=False)  # (A^-1)_{RX,TX}       (F,)
    _u: np.ndarray = attrs.field(init=False, repr=False)  # (A^-1 B)_{RX,:}       (F, N)
    _v: np.ndarray = attrs.field(init=False, repr=False)  # (C A^-1)_{:,TX}       (F, N)
    _s0: np.ndarray = attrs.field(init=False, repr=False)  # D - C A^-1 B, no atom diag

    def __attrs_post_init__(self) -> None:
        m = self.model
        ns, f = m.geometry.n_static, m.freqs.size
        a = m.matrix[:, :ns, :ns]
        b = m.matrix[:, :ns, ns:]
        c = m.matrix[:, ns:, :ns]
        d = m.matrix[:, ns:, ns:]
        source = np.zeros((f, ns, 1), dtype=np.complex128)
        source[:, TX, 0] = 1.0
        z = np.linalg.solve(a, np.concatenate([b, source], axis=2))  # A^-1 [B, e_TX]
        a_inv_b, a_inv_tx = z[..., :-1], z[..., -1]
        self._g0 = a_inv_tx[:, RX]
        self._u = a_inv_b[:, RX, :]
        self._v = np.einsum("fij,fj->fi", c, a_inv_tx)
        self._s0 = d - c @ a_inv_b  # d's diagonal is zero: each configuration adds its own

    def __call__(self, on: np.ndarray) -> np.ndarray:
        """Complex channels (batch, F) of the configurations ``on`` (batch, N, bool)."""
        m = self.model
        f, n = self._s0.shape[0], self._s0.shape[1]
        idx = np.arange(n)
        w_rx = m.matrix[:, RX, RX]
        out = np.empty((on.shape[0], f), dtype=np.complex128)
        for sl in _chunks(on.shape[0], f * n * n * 16):
            b = sl.stop - sl.start
            s = np.broadcast_to(self._s0, (b, f, n, n)).copy()
            s[:, :, idx, idx] += m.atom_diagonal(on[sl])
            rhs = np.broadcast_to(self._v[None, :, :, None], (b, f, n, 1))
            x = np.linalg.solve(s, rhs)[..., 0]
            out[sl] = w_rx * (self._g0 + np.einsum("fi,bfi->bf", self._u, x))
        return out


def reference_configurations(n_atoms: int, extra: int = REFERENCES) -> np.ndarray:
    """Reference configurations (R, n_atoms) bool of the Woodbury solver: all off, all on, then
    ``extra // 2`` random configurations (fixed seed :data:`REFERENCE_SEED`) and their
    complements; duplicates dropped, order kept."""
    rng = np.random.default_rng(REFERENCE_SEED)
    random = rng.integers(0, 2, size=(extra // 2, n_atoms)).astype(bool)
    uniform = np.array([np.zeros(n_atoms, dtype=bool), np.ones(n_atoms, dtype=bool)])
    refs = np.concatenate([uniform, random, ~random])
    _, first = np.unique(refs, axis=0, return_index=True)
    return refs[np.sort(first)]


def _distinct_rows(on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, inverse)``: the distinct rows of the bool array ``on`` (batch, N) and, for
    each row of ``on``, the index of its distinct row (``on == rows[inverse]``)."""
    packed = np.ascontiguousarray(np.packbits(on, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return on[first], inverse.ravel()


@attrs.define(eq=False)
class WoodburySolver(SchurSolver):
    """The Schur-complement solver with a low-rank update of the ``N x N`` system.

    Per frequency, ``S0 + diag(w(c_r))`` is inverted once for each of a few fixed reference
    configurations ``c_r`` (:func:`reference_configurations`: all off, all on and
    ``references`` seeded random ones with their complements): ``G_r``. A configuration is
    treated as a change of its nearest reference (fewest differing meta-atoms; the first on a
    tie): it differs from ``c_r`` in a set K of ``k`` meta-atoms (``k <= N/2``, as a reference's
    complement is a reference too), whose inverse polarisabilities change by ``delta_i``
    (``w_on - w_off`` where the reference has bit 0, its negative where it has bit 1), so by
    the Woodbury identity
    ``u^T S^-1 v = u^T G_r v - (u^T G_r)_K (diag(1/delta_K) + (G_r)_KK)^-1 (G_r v)_K``: one
    ``k x k`` system instead of ``N x N``. More references make ``k`` smaller (random
    configurations of 40 meta-atoms: mean ``k`` 17.5 with the two uniform references, 13.4
    with 32 more, 12.6 with the default 62 more) at ``F N^2`` complex numbers of memory each.

    ``P_r = G_r + diag(1/delta)`` is symmetric (W is) and fixed per reference and frequency;
    it is stored frequency-last beside ``u^T G_r`` and ``G_r v`` in one table, so that the
    entries a configuration needs are gathered for all frequencies at once. The distinct
    configurations of a batch are solved once each, grouped by ``k``. ``kernel`` picks how the
    ``k x k`` forms are computed: ``elimination`` (default) eliminates a group's bordered
    symmetric matrices side by side (:mod:`phyll_microwave.elimination`; matrices with a
    pivot below :data:`PIVOT_RATIO` of their diagonal are solved again with LAPACK's
    partial pivoting, and groups with ``k`` above :data:`ELIMINATION_MAX_K` go to LAPACK),
    ``lapack`` makes one ``numpy.linalg.solve`` call per group and chunk
    (the previous path, kept as the reference of the benchmark). Each result depends only on
    its own configuration, not on the rest of the batch; exact up to rounding, like the
    other solvers.
    """

    references: int = REFERENCES
    kernel: str = attrs.field(default="elimination")
    _refs: np.ndarray = attrs.field(init=False, repr=False)  # c_r          (R, N) bool
    _table: np.ndarray = attrs.field(init=False, repr=False)  # P_r, u^T G_r, G_r v, 0 (., F)
    _base: np.ndarray = attrs.field(init=False, repr=False)  # u^T G_r v   (R, F)

    @kernel.validator
    def _check_kernel(self, _: attrs.Attribute[str], value: str) -> None:
        if value not in KERNELS:
            raise ValueError(f"kernel must be one of {', '.join(KERNELS)}, got {value!r}")

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        m = self.model
        f, n = self._s0.shape[0], self._s0.shape[1]
        if self.references < 0:
            raise ValueError(f"references must be >= 0, got {self.references}")
        fit = REFERENCE_MEMORY // (f * n * n * 16) - 2  # beside the uniform
        self._refs = reference_configurations(n, min(self.references, max(0, fit)))
        r = self._refs.shape[0]
        idx = np.arange(n)
        s = np.broadcast_to(self._s0, (r, *self._s0.shape)).copy()
        s[:, :, idx, idx] += m.atom_diagonal(self._refs)  # (R, F, N)
        g = np.linalg.inv(s)
        del s
        table = np.empty((r * n * n + 2 * r * n + 1, f), dtype=np.complex128)
        p = table[: r * n * n].reshape(r, n, n, f)  # P_r frequency-last, symmetric like W
        np.add(g.transpose(0, 2, 3, 1), g.transpose(0, 3, 2, 1), out=p)
        p *= 0.5
        del g
        ug = table[r * n * n : r * n * (n + 1)].reshape(r, n, f)
        gv = table[r * n * (n + 1) : -1].reshape(r, n, f)
        np.einsum("fi,rijf->rjf", self._u, p, out=ug)
        np.einsum("rijf,fj->rif", p, self._v, out=gv)
        table[-1] = 0.0
        self._base = np.einsum("rif,fi->rf", ug, self._v)
        sign = np.where(self._refs, -1.0, 1.0)[:, :, None]  # bit 1 in the reference: on -> off
        p[:, idx, idx, :] += sign / (m.w_on - m.w_off)[None, None, :]
        self._table = table

    def nearest_reference(self, on: np.ndarray) -> np.ndarray:
        """Index (batch,) of the reference nearest to each configuration of ``on`` (batch, N)
        in Hamming distance (the first on a tie)."""
        onf = on.astype(np.float32)
        refs = self._refs.astype(np.float32)
        distance = onf @ (1.0 - refs).T + (1.0 - onf) @ refs.T  # exact small integers
        return np.argmin(distance, axis=1)

    def __call__(self, on: np.ndarray) -> np.ndarray:
        """Complex channels (batch, F) of the configurations ``on`` (batch, N, bool)."""
        f = self._s0.shape[0]
        configs, inverse = _distinct_rows(np.asarray(on, dtype=bool))
        ref = self.nearest_reference(configs)
        differs = configs != self._refs[ref]
        k_all = differs.sum(axis=1)
        value = self._base[ref]  # (distinct, F): configurations equal to their reference
        for k in np.unique(k_all[k_all > 0]):
            group = np.flatnonzero(k_all == k)
            group = group[np.argsort(ref[group], kind="stable")]  # gathers from one P_r at a time
            per_item = f * (int(k) + 2) ** 2 * 16
            for sl in _chunks(group.size, per_item, max(1, ELIMINATION_COLUMNS // f)):
                rows = group[sl]
                value[rows] -= self._update(ref[rows], differs[rows], int(k))
        return (self.model.matrix[:, RX, RX] * (self._g0 + value))[inverse]

    def _update(self, r: np.ndarray, diff: np.ndarray, k: int) -> np.ndarray:
        """``(u^T G_r)_K (diag(1/delta_K) + (G_r)_KK)^-1 (G_r v)_K`` (b, F) for references
        ``r`` (b,) and configurations whose ``k`` differing atoms are marked in ``diff``."""
        atoms = np.nonzero(diff)[1].reshape(-1, k)  # (b, k), ascending in each row
        if self.kernel == "lapack" or k > ELIMINATION_MAX_K:
            return self._update_lapack(r, atoms)
        f = self._s0.shape[0]
        b = atoms.shape[0]
        packed = np.take(self._table, self._packed_index(r, atoms), axis=0)  # (P, b, F)
        forms, ratio = bilinear_forms(packed.reshape(-1, b * f), k)
        forms = forms.reshape(b, f)
        bad = (ratio < PIVOT_RATIO).reshape(b, f).any(axis=1)
        if bad.any():
            forms[bad] = self._update_lapack(r[bad], atoms[bad])
        return forms

    def _packed_index(self, r: np.ndarray, atoms: np.ndarray) -> np.ndarray:
        """Rows of the table (layout(k).size, b) that fill the packed bordered matrices
        ``[[P_KK, (u^T G)_K, (G v)_K], [., 0, 0], [., 0, 0]]`` of the configurations."""
        n = self._s0.shape[1]
        nr = self._refs.shape[0]
        k = atoms.shape[1]
        lay = layout(k)
        index = np.full((lay.size, atoms.shape[0]), self._table.shape[0] - 1, dtype=np.intp)
        at = atoms.T  # (k, b)
        block = (lay.row < k) & (lay.col < k)
        index[block] = (r * (n * n))[None] + at[lay.row[block]] * n + at[lay.col[block]]
        for column, start in ((k, nr * n * n), (k + 1, nr * n * (n + 1))):
            border = (lay.row < k) & (lay.col == column)
            index[border] = (start + r * n)[None] + at[lay.row[border]]
        return index

    def _update_lapack(self, r: np.ndarray, atoms: np.ndarray) -> np.ndarray:
        """The same forms as :meth:`_update` by one ``numpy.linalg.solve`` (partial
        pivoting) per configuration and frequency."""
        n, nr = self._s0.shape[1], self._refs.shape[0]
        base = (r * (n * n))[:, None, None]
        pkk = np.take(self._table, base + atoms[:, :, None] * n + atoms[:, None, :], axis=0)
        at = (r * n)[:, None] + atoms  # (b, k)
        ug = np.take(self._table, nr * n * n + at, axis=0)  # (b, k, F)
        gv = np.take(self._table, nr * n * (n + 1) + at, axis=0)
        y = np.linalg.solve(pkk.transpose(0, 3, 1, 2), gv.transpose(0, 2, 1)[..., None])
        return np.einsum("bkf,bfk->bf", ug, y[..., 0])


SOLVERS: dict[str, Callable[[DipoleModel], Callable[[np.ndarray], np.ndarray]]] = {
    "woodbury": WoodburySolver,
    "schur": SchurSolver,
    "dense": DenseSolver,
}
"""Solver classes by the name of the ``solver`` parameter."""
