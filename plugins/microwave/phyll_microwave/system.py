"""The ``microwave`` system: a reverberant enclosure programmed by a 1-bit metasurface."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np

from phyll_core.domain import Binary, Domain, Interval
from phyll_core.errors import ParameterError, PhysicalInputError
from phyll_core.fields import param
from phyll_core.system import Controls, Dims, PhysicalSystem, SeededNoise
from phyll_microwave.encoding import to_bits
from phyll_microwave.geometry import Geometry, default_geometry, drift
from phyll_microwave.solvers import SOLVERS, DipoleModel

ENCODINGS = ("levels", "binary")
MAX_BITS = 8
MAX_ATOMS = 400


def _fitted_atoms(inputs: int, atoms: int, bits: int, encoding: str) -> int:
    """The number of meta-atoms: ``atoms``, or the ``inputs * bits`` (``inputs`` for the
    binary encoding) that ``inputs > 0`` asks for; ParameterError when the two disagree."""
    if inputs < 0:
        raise ParameterError(f"system 'microwave': inputs must be >= 0, got {inputs}")
    if not inputs:
        return atoms
    needed = inputs if encoding == "binary" else inputs * bits
    default = attrs.fields(MicrowaveCavity).atoms.default
    if atoms not in (default, needed):
        raise ParameterError(
            f"system 'microwave': inputs={inputs} needs atoms={needed}, got"
            f" atoms={atoms}; give one of the two"
        )
    if needed > MAX_ATOMS:
        raise ParameterError(
            f"system 'microwave': inputs={inputs} needs {needed} meta-atoms, more than"
            f" {MAX_ATOMS}; use fewer bits per value"
        )
    return needed


@attrs.define(kw_only=True, eq=False)
class MicrowaveCavity(SeededNoise, PhysicalSystem):
    """Coupled-dipole (PhysFad) model of a 2D reverberant enclosure whose channel between a
    transmitting and a receiving antenna is programmed by a metasurface of ``atoms`` 1-bit
    meta-atoms; outputs ``|H(f)|`` at ``frequencies`` points evenly spaced in
    ``[f_min, f_max]``.

    ``encoding="levels"``: ``atoms // bits`` inputs in ``[0, 1]``, each quantised to ``2^bits``
    levels and written as ``bits`` bits (see :mod:`phyll_microwave.encoding`).
    ``inputs`` > 0 asks for an input width instead: ``atoms`` becomes ``inputs * bits``
    (``inputs`` for ``binary``); meta-atoms beyond one row along the bottom wall fill further
    rows (:func:`~phyll_microwave.geometry.atom_rows`).
    ``encoding="binary"``: ``atoms`` inputs in ``{0, 1}``, the configuration itself. A bit 1
    tunes its meta-atom's resonance to ``f_on``, a bit 0 to ``f_off``.

    ``noise`` is the standard deviation of circular complex Gaussian noise added to H before
    the magnitude is taken (seeded by ``seed``; each call draws new noise). ``solver`` picks
    the Schur-complement solver with a Woodbury low-rank update (``woodbury``, default), the
    plain Schur-complement solver (``schur``) or the full solve (``dense``, the reference);
    all give the same channel up to rounding (see :mod:`phyll_microwave.solvers`).
    ``control_atoms`` extra meta-atoms, in a second row above the first, carry trainable
    controls (:attr:`controls`, binary): their bits are not inputs but stay as set by
    ``set_controls`` (initially a seeded random configuration) for every row of a batch.
    The geometry (:func:`~phyll_microwave.geometry.default_geometry`) is fixed by ``seed``;
    ``perturb(strength)`` moves and turns the stirrers by about ``strength``
    wavelengths. Invalid parameters raise ParameterError.
    """

    name = "microwave"
    #: __attrs_post_init__ checks the parameters with messages that name the physics
    check_params = False
    # the parameters (``--param NAME=VALUE``), declared once: help, bounds and choices here
    atoms: int = param(40, help="number N of 1-bit meta-atoms", low=1, high=MAX_ATOMS)
    inputs: int = param(
        0,
        help="number of input values (0: atoms / bits); sets atoms = inputs x bits"
        " (binary: inputs)",
        low=0,
        high=MAX_ATOMS // 2,  # every value builds at the default 2 bits
    )
    bits: int = param(
        2, help="bits per input value (levels encoding: 2^bits levels)", low=1, high=MAX_BITS
    )
    encoding: str = param(
        "levels",
        help="levels: atoms/bits inputs in [0, 1]; binary: atoms inputs in {0, 1}",
        choices=ENCODINGS,
    )
    f_min: float = param(0.9, help="lowest frequency point (wave speed 1)", low=1e-3)
    f_max: float = param(1.1, help="highest frequency point", low=1e-3)
    frequencies: int = param(20, help="number of frequency points = output width", low=1)
    f_on: float = param(1.0, help="meta-atom resonance frequency for bit 1", low=1e-3)
    f_off: float = param(5.0, help="meta-atom resonance frequency for bit 0", low=1e-3)
    stirrers: int = param(3, help="number of stirrer scatterers (moved by perturb)", low=0)
    width: float = param(10.0, help="enclosure width (wavelengths at f = 1)", low=4.0)
    height: float = param(8.0, help="enclosure height (wavelengths at f = 1)", low=4.0)
    wall_spacing: float = param(0.25, help="distance between wall dipoles", low=0.05, high=0.5)
    atom_spacing: float = param(0.2, help="distance between meta-atoms", low=0.01)
    noise: float = param(0.0, help="std of complex Gaussian noise added to H", low=0.0)
    solver: str = param(
        "woodbury",
        help="woodbury: Schur complement + low-rank update; schur: N x N solve; dense: full solve",
        choices=tuple(SOLVERS),
    )
    control_atoms: int = param(
        0,
        help="extra meta-atoms (second row) whose bits are trainable controls",
        low=0,
        high=MAX_ATOMS,
    )
    seed: int = param(0, help="seed of the stirrer layout and of the noise")
    _model: DipoleModel = attrs.field(init=False, repr=False)
    _solve: Callable[[np.ndarray], np.ndarray] = attrs.field(init=False, repr=False)
    _noise_rng: np.random.Generator = attrs.field(init=False, repr=False)
    _control_bits: np.ndarray = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._fit_inputs()
        self._check()
        geometry = default_geometry(
            atoms=self.atoms,
            width=self.width,
            height=self.height,
            wall_spacing=self.wall_spacing,
            atom_spacing=self.atom_spacing,
            stirrers=self.stirrers,
            seed=self.seed,
            control_atoms=self.control_atoms,
        )
        freqs = np.linspace(self.f_min, self.f_max, self.frequencies)
        self._set_model(DipoleModel(geometry, freqs, self.f_on, self.f_off))
        self._noise_rng = np.random.default_rng([self.seed, 1])
        bits = np.random.default_rng([self.seed, 2]).integers(0, 2, self.control_atoms)
        self._control_bits = bits.astype(bool)

    @classmethod
    def dims(cls, params: Mapping[str, Any]) -> Dims:
        """Widths from the parameters alone (no geometry, no dipole matrix, no SciPy): the
        input width follows ``inputs`` or ``atoms // bits`` (``atoms`` for ``binary``), the
        output width is ``frequencies``. Raises ParameterError for the ``inputs``/``atoms``/
        ``bits`` combinations that the constructor rejects."""
        encoding, bits = params["encoding"], params["bits"]
        atoms = _fitted_atoms(params["inputs"], params["atoms"], bits, encoding)
        if encoding != "binary" and atoms % bits:
            raise ParameterError(
                f"system 'microwave': atoms ({atoms}) must be a multiple of bits ({bits})"
            )
        binary = encoding == "binary"
        inputs = atoms if binary else atoms // bits
        return Dims(inputs, params["frequencies"], Binary() if binary else Interval(0.0, 1.0))

    def _fit_inputs(self) -> None:
        """``inputs > 0`` asks for that input width: the metasurface gets ``inputs * bits``
        meta-atoms (``inputs`` with the binary encoding), in as many rows as needed."""
        self.atoms = _fitted_atoms(self.inputs, self.atoms, self.bits, self.encoding)

    def _check(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ParameterError(f"system 'microwave': {message}")

        need(
            self.encoding in ENCODINGS,
            f"encoding must be one of {', '.join(ENCODINGS)}, got {self.encoding!r}",
        )
        need(
            self.solver in SOLVERS,
            f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}",
        )
        need(self.atoms >= 1, f"atoms must be >= 1, got {self.atoms}")
        need(self.control_atoms >= 0, f"control_atoms must be >= 0, got {self.control_atoms}")
        need(1 <= self.bits <= MAX_BITS, f"bits must be in 1..{MAX_BITS}, got {self.bits}")
        need(
            self.encoding == "binary" or self.atoms % self.bits == 0,
            f"atoms ({self.atoms}) must be a multiple of bits ({self.bits})",
        )
        need(self.frequencies >= 1, f"frequencies must be >= 1, got {self.frequencies}")
        need(
            0 < self.f_min <= self.f_max,
            f"need 0 < f_min <= f_max, got {self.f_min:g}, {self.f_max:g}",
        )
        need(
            self.f_min < self.f_max or self.frequencies == 1,
            "f_min == f_max allows only frequencies=1",
        )
        need(self.f_on > 0 and self.f_off > 0, "f_on and f_off must be > 0")
        need(self.f_on != self.f_off, "f_on and f_off must differ (else bits do nothing)")
        need(self.stirrers >= 0, f"stirrers must be >= 0, got {self.stirrers}")
        need(
            0 < self.wall_spacing <= 0.5,
            f"wall_spacing must be in (0, 0.5] (at most half a"
            f" wavelength, else the walls leak), got {self.wall_spacing:g}",
        )
        need(self.atom_spacing > 0, f"atom_spacing must be > 0, got {self.atom_spacing:g}")
        need(self.noise >= 0 and np.isfinite(self.noise), f"noise must be >= 0, got {self.noise:g}")

    def _set_model(self, model: DipoleModel) -> None:
        self._model = model
        self._solve = SOLVERS[self.solver](model)

    # -- contract -------------------------------------------------------------------------
    @property
    def noisy(self) -> bool:
        """Noisy whenever ``noise`` is on."""
        return self.noise > 0

    @property
    def input_step(self) -> float:
        """``2**-bits``: ``levels`` reads each value to one of ``2**bits`` equal bins of
        ``[0, 1]`` (0 for ``binary``, whose inputs are the bits themselves)."""
        return 0.0 if self.encoding == "binary" else 2.0**-self.bits

    @property
    def input_dim(self) -> int:
        return self.atoms if self.encoding == "binary" else self.atoms // self.bits

    @property
    def output_dim(self) -> int:
        return self.frequencies

    @property
    def domain(self) -> Domain:
        return Binary() if self.encoding == "binary" else Interval(0.0, 1.0)

    @property
    def controls(self) -> Controls | None:
        if not self.control_atoms:
            return None
        return Controls(self.control_atoms, Binary(), "bits of the control meta-atoms")

    def _get_controls(self) -> np.ndarray:
        return self._control_bits.astype(np.float64)

    def _set_controls(self, theta: np.ndarray) -> None:
        self._control_bits = theta.astype(bool)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        h = self.channel(self.configuration(x))
        if self.noise > 0:
            shape = h.shape
            h = h + (self.noise / np.sqrt(2.0)) * (
                self._noise_rng.standard_normal(shape) + 1j * self._noise_rng.standard_normal(shape)
            )
        return np.abs(h)

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        moved = drift(self._model.geometry, strength, rng)
        if moved is not self._model.geometry:
            self._set_model(self._model.moved(moved))

    # -- physics helpers ------------------------------------------------------------------
    def configuration(self, x: np.ndarray) -> np.ndarray:
        """Metasurface configurations (batch, atoms + control_atoms, bool) that encode inputs
        ``x`` (batch, input_dim), assumed valid for the domain, with the current control bits
        on the control meta-atoms."""
        x = np.asarray(x, dtype=np.float64)
        on = x.astype(bool) if self.encoding == "binary" else to_bits(x, self.bits)
        if not self.control_atoms:
            return on
        controls = np.broadcast_to(self._control_bits, (on.shape[0], self.control_atoms))
        return np.hstack([on, controls])

    def channel(self, on: np.ndarray) -> np.ndarray:
        """Noise-free complex channels H (batch, frequencies) of configurations ``on``
        (batch, atoms + control_atoms, bool); does not count as a query."""
        on = np.asarray(on, dtype=bool)
        total = self.atoms + self.control_atoms
        if on.ndim != 2 or on.shape[1] != total:
            raise PhysicalInputError(
                f"system 'microwave': configurations must have shape (batch, {total}),"
                f" got {on.shape}"
            )
        return self._solve(on)

    @property
    def geometry(self) -> Geometry:
        """Current dipole positions (changes with ``perturb``)."""
        return self._model.geometry

    @property
    def frequency_points(self) -> np.ndarray:
        """The frequencies (F,) at which |H| is read."""
        return self._model.freqs.copy()

    def status(self) -> dict[str, Any]:
        g = self.geometry
        return {
            "dipoles (static + meta-atoms)": f"{g.n_static} + {g.n_atoms}",
            "solver": self.solver,
        }
