"""Where the dipoles sit: antennas, enclosure walls, stirrers and the metasurface.

Lengths are in wavelengths at ``f = 1`` (PhysFad units, wave speed 1). The default layout
(:func:`default_geometry`) is a ``width x height`` rectangular enclosure whose walls are lines
of dipoles spaced about ``wall_spacing`` apart; the transmitting antenna sits at
``(1.5, height - 1.5)``, the receiving antenna at ``(width - 1.5, height - 2)``; the
metasurface is a row of meta-atoms ``atom_spacing`` apart, ``0.5`` above the bottom wall and
centred on it (more meta-atoms than a row holds fill further rows ``atom_spacing`` above, a
square lattice: :func:`atom_rows`); ``stirrers`` straight scatterers (segments of
:data:`STIRRER_LENGTH` made of :data:`STIRRER_DIPOLES` dipoles) are placed at seeded random
positions and orientations inside, clear of the antennas, the metasurface and each other.
Drift (:func:`drift`) moves and rotates the stirrers.

Dipole order in every matrix built from a geometry: ``[TX, RX, walls..., stirrers...,
meta-atoms...]``; everything before the meta-atoms is "static" (no bit changes it).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

from phyll_core.errors import ParameterError

TX = 0
"""Index of the transmitting antenna."""
RX = 1
"""Index of the receiving antenna."""
STIRRER_LENGTH = 1.5
"""Length of one stirrer segment (wavelengths)."""
STIRRER_DIPOLES = 7
"""Dipoles per stirrer (spacing ``STIRRER_LENGTH / 6 = 0.25``)."""
WALL_CLEARANCE = 0.5
"""Smallest distance between a stirrer's end and a wall, or its centre and the metasurface row
(plus half its length)."""
CONTROL_ROW_GAP = 0.5
"""Distance (wavelengths) between the input meta-atom row and the row of control meta-atoms."""
DRIFT_STEP = 1.0
"""Standard deviation (wavelengths) of a stirrer centre's displacement per unit drift strength,
along each axis."""
DRIFT_TURN = 1.0 / (STIRRER_LENGTH / 2)
"""Standard deviation (radians) of a stirrer's rotation per unit drift strength: its ends move
as far as its centre."""


def _readonly(value: object) -> np.ndarray:
    arr = np.array(value, dtype=np.float64)
    arr.setflags(write=False)
    return arr


def _shape(*shape: int | None) -> Any:
    """attrs validator: a finite array of ``shape`` (None matches any length)."""

    def check(instance: object, attribute: Any, value: np.ndarray) -> None:
        ok = value.ndim == len(shape) and all(
            s is None or s == d for s, d in zip(shape, value.shape, strict=True)
        )
        if not ok or not np.isfinite(value).all():
            raise ValueError(f"{attribute.name} must be a finite array of shape {shape}")

    return check


@attrs.frozen
class Geometry:
    """Positions of every dipole of the enclosure (read-only arrays).

    ``stirrer_centres`` (S, 2) and ``stirrer_angles`` (S,) define S segments of
    ``stirrer_length`` carrying ``stirrer_dipoles`` dipoles each.
    """

    width: float
    height: float
    tx: np.ndarray = attrs.field(converter=_readonly, validator=_shape(2), eq=False)
    rx: np.ndarray = attrs.field(converter=_readonly, validator=_shape(2), eq=False)
    walls: np.ndarray = attrs.field(converter=_readonly, validator=_shape(None, 2), eq=False)
    atoms: np.ndarray = attrs.field(converter=_readonly, validator=_shape(None, 2), eq=False)
    stirrer_centres: np.ndarray = attrs.field(
        converter=_readonly, validator=_shape(None, 2), eq=False
    )
    stirrer_angles: np.ndarray = attrs.field(converter=_readonly, validator=_shape(None), eq=False)
    stirrer_length: float = STIRRER_LENGTH
    stirrer_dipoles: int = STIRRER_DIPOLES

    def __attrs_post_init__(self) -> None:
        if self.stirrer_centres.shape[0] != self.stirrer_angles.shape[0]:
            raise ValueError("stirrer_centres and stirrer_angles describe different counts")

    @property
    def n_atoms(self) -> int:
        """Number of meta-atoms N."""
        return int(self.atoms.shape[0])

    @property
    def n_static(self) -> int:
        """Number of dipoles that no bit changes (antennas, walls, stirrers)."""
        return 2 + self.walls.shape[0] + self.stirrer_centres.shape[0] * self.stirrer_dipoles

    @property
    def n_dipoles(self) -> int:
        """Total number of dipoles."""
        return self.n_static + self.n_atoms

    @property
    def stirrer_slice(self) -> slice:
        """Indices of the stirrer dipoles in the dipole order."""
        start = 2 + self.walls.shape[0]
        return slice(start, self.n_static)

    def stirrer_points(self) -> np.ndarray:
        """Positions (S * stirrer_dipoles, 2) of the stirrers' dipoles, stirrer by stirrer."""
        along = np.arange(self.stirrer_dipoles) / (self.stirrer_dipoles - 1) - 0.5
        along = along * self.stirrer_length
        direction = np.stack([np.cos(self.stirrer_angles), np.sin(self.stirrer_angles)], axis=1)
        pts = self.stirrer_centres[:, None, :] + along[None, :, None] * direction[:, None, :]
        return pts.reshape(-1, 2)

    def points(self) -> np.ndarray:
        """All dipole positions (n_dipoles, 2) in the order TX, RX, walls, stirrers, atoms."""
        return np.concatenate(
            [self.tx[None], self.rx[None], self.walls, self.stirrer_points(), self.atoms]
        )

    def with_stirrers(self, centres: np.ndarray, angles: np.ndarray) -> Geometry:
        """A copy with the stirrers at ``centres`` (S, 2) turned to ``angles`` (S,)."""
        return attrs.evolve(self, stirrer_centres=centres, stirrer_angles=angles)

    def stirrer_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of the region where stirrer centres may lie."""
        half = self.stirrer_length / 2 + WALL_CLEARANCE
        low_y = max(half, float(self.atoms[:, 1].max(initial=0.0)) + half)
        return np.array([half, low_y]), np.array([self.width - half, self.height - half])


def wall_points(width: float, height: float, spacing: float) -> np.ndarray:
    """Dipoles along the perimeter of ``[0, width] x [0, height]``, each side divided evenly
    into steps no longer than ``spacing``; every corner appears once."""
    nx = max(1, math.ceil(width / spacing - 1e-9))
    ny = max(1, math.ceil(height / spacing - 1e-9))
    xs = np.linspace(0.0, width, nx + 1)
    ys = np.linspace(0.0, height, ny + 1)[1:-1]
    return np.concatenate(
        [
            np.stack([xs, np.zeros_like(xs)], axis=1),
            np.stack([xs, np.full_like(xs, height)], axis=1),
            np.stack([np.zeros_like(ys), ys], axis=1),
            np.stack([np.full_like(ys, width), ys], axis=1),
        ]
    )


def default_geometry(
    *,
    atoms: int = 40,
    width: float = 10.0,
    height: float = 8.0,
    wall_spacing: float = 0.25,
    atom_spacing: float = 0.2,
    stirrers: int = 3,
    seed: int = 0,
    control_atoms: int = 0,
) -> Geometry:
    """The documented default layout (see the module docstring); ``seed`` fixes the stirrers.
    ``control_atoms`` extra meta-atoms (trainable controls) form a second row
    :data:`CONTROL_ROW_GAP` above the first, centred, same spacing; they follow the input
    meta-atoms in the dipole order. Raises ParameterError when the metasurface or the stirrers
    do not fit the enclosure."""
    if width < 4.0 or height < 4.0:
        raise ParameterError(f"the enclosure must be at least 4 x 4; got {width:g} x {height:g}")
    atom_pts = atom_rows(atoms, width, height, atom_spacing)
    if (control_atoms - 1) * atom_spacing > width - 2 * WALL_CLEARANCE:
        raise ParameterError(
            f"{control_atoms} control meta-atoms spaced {atom_spacing:g} do not fit along a"
            f" wall of width {width:g}"
        )
    if control_atoms:
        top = float(atom_pts[:, 1].max())
        cx = width / 2 + (np.arange(control_atoms) - (control_atoms - 1) / 2) * atom_spacing
        row = np.stack([cx, np.full(control_atoms, top + CONTROL_ROW_GAP)], axis=1)
        atom_pts = np.concatenate([atom_pts, row])
    geom = Geometry(
        width=float(width),
        height=float(height),
        tx=(1.5, height - 1.5),
        rx=(width - 1.5, height - 2.0),
        walls=wall_points(width, height, wall_spacing),
        atoms=atom_pts,
        stirrer_centres=np.zeros((0, 2)),
        stirrer_angles=np.zeros(0),
    )
    centres, angles = _place_stirrers(geom, stirrers, np.random.default_rng(seed))
    return geom.with_stirrers(centres, angles)


def atom_rows(atoms: int, width: float, height: float, atom_spacing: float) -> np.ndarray:
    """Positions (atoms, 2) of the input meta-atoms: rows of at most ``per_row`` atoms
    ``atom_spacing`` apart (as many as fit between the side walls' clearances), each row
    centred, the first :data:`WALL_CLEARANCE` above the bottom wall and the next ones
    ``atom_spacing`` above each other, filled in order. Raises ParameterError when the rows
    would come within 3 wavelengths of the top wall (where the antennas are)."""
    free = width - 2 * WALL_CLEARANCE
    per_row = int(np.floor(free / atom_spacing + 1e-9)) + 1
    rows = -(-atoms // per_row)
    top = WALL_CLEARANCE + (rows - 1) * atom_spacing
    if top > height - 3.0:
        raise ParameterError(
            f"{atoms} meta-atoms spaced {atom_spacing:g} need {rows} rows of {per_row} up to"
            f" y = {top:g}, too close to the antennas of an enclosure of height {height:g};"
            " use a wider or taller enclosure (width, height) or fewer bits per value"
        )
    index = np.arange(atoms)
    row, col = index // per_row, index % per_row
    in_row = np.where(row == rows - 1, atoms - (rows - 1) * per_row, per_row)
    xs = width / 2 + (col - (in_row - 1) / 2) * atom_spacing
    return np.stack([xs, WALL_CLEARANCE + row * atom_spacing], axis=1).astype(np.float64)


def _place_stirrers(
    geom: Geometry, count: int, rng: np.random.Generator, attempts: int = 10_000
) -> tuple[np.ndarray, np.ndarray]:
    """Rejection-sample ``count`` stirrer centres in the stirrer box, at least
    ``length/2 + 0.5`` from each antenna and ``length + 0.25`` from each other."""
    low, high = geom.stirrer_box()
    if count and np.any(high <= low):
        raise ParameterError(
            f"no room for stirrers in a {geom.width:g} x {geom.height:g} enclosure"
        )
    antennas = np.stack([geom.tx, geom.rx])
    clear_antenna = geom.stirrer_length / 2 + WALL_CLEARANCE
    clear_other = geom.stirrer_length + 0.25
    centres: list[np.ndarray] = []
    for _ in range(attempts):
        if len(centres) == count:
            break
        c = rng.uniform(low, high)
        if np.min(np.hypot(*(antennas - c).T)) < clear_antenna:
            continue
        if centres and np.min(np.hypot(*(np.array(centres) - c).T)) < clear_other:
            continue
        centres.append(c)
    if len(centres) < count:
        raise ParameterError(
            f"cannot place {count} stirrers in a {geom.width:g} x {geom.height:g} enclosure;"
            " use fewer stirrers or a larger enclosure"
        )
    angles = rng.uniform(0.0, np.pi, size=count)
    return np.array(centres, dtype=np.float64).reshape(count, 2), angles


def drift(geom: Geometry, strength: float, rng: np.random.Generator) -> Geometry:
    """Move every stirrer centre by a Gaussian step of standard deviation ``strength``
    wavelengths along each axis (kept inside the stirrer box) and turn it by a Gaussian angle
    of standard deviation ``strength / (length / 2)`` radians, so ``strength`` is the typical
    displacement of every stirrer dipole. ``strength = 0`` returns ``geom``."""
    count = geom.stirrer_centres.shape[0]
    step = rng.standard_normal((count, 2)) * (DRIFT_STEP * strength)
    turn = rng.standard_normal(count) * (DRIFT_TURN * strength)
    if strength == 0.0:
        return geom
    low, high = geom.stirrer_box()
    centres = np.clip(geom.stirrer_centres + step, low, high)
    return geom.with_stirrers(centres, geom.stirrer_angles + turn)
