"""Acoustic modes of a closed cavity and its modal transfer function.

A cavity is described by its modes: wavenumbers ``k_n`` (rad/m, independent of temperature),
the mode shapes sampled at the source and microphone positions, and a damping law. With the
speed of sound ``c`` the angular mode frequencies are ``w_n = c k_n`` and the pressure at the
microphone per unit drive of source ``s`` is the damped modal sum

    H_s(w) = sum_n psi_n(r_s) psi_n(r_mic) / (w_n^2 - w^2 + i w w_n / Q_n).

Two mode models are provided:

* :func:`shoebox_modes` - the exact Neumann (rigid-wall) modes of a rectangular room,
  ``psi_n(r) = sqrt(e_x e_y e_z / V) cos(n_x pi x / L_x) cos(n_y pi y / L_y) cos(n_z pi z / L_z)``
  (``e_0 = 1``, ``e_n = 2``), so that ``psi_n`` is normalised to 1 over the volume ``V``.
* :func:`chaotic_modes` - a chaotic cavity of the same volume (random-wave model): mode shapes
  at the source and microphone are independent Gaussians of variance ``1 / V``; the mode
  count follows Weyl's law of the same room and the nearest-neighbour spacings follow the
  Wigner surmise (level repulsion).

Damping: with wall absorption ``alpha`` (Sabine), every mode decays at the same rate and
``w_n / Q_n = c S alpha / (4 V)`` (``S`` the wall area), i.e. ``Q_n = 4 k_n V / (S alpha)``,
which does not depend on the temperature; alternatively a constant quality factor ``Q``.
"""

from __future__ import annotations

import math

import attrs
import numpy as np

#: Speed of sound in dry air at 0 degrees Celsius (m/s).
C0_DRY_AIR = 331.3
#: 0 degrees Celsius in kelvin.
ZERO_CELSIUS = 273.15


def speed_of_sound(temperature_c: float) -> float:
    """Speed of sound in dry air (m/s) at ``temperature_c`` degrees Celsius (ideal gas,
    ``c = 331.3 sqrt(1 + T / 273.15)``). Raises ValueError below absolute zero."""
    ratio = 1.0 + temperature_c / ZERO_CELSIUS
    if ratio <= 0:
        raise ValueError(f"temperature {temperature_c} C is below absolute zero")
    return C0_DRY_AIR * math.sqrt(ratio)


@attrs.frozen
class Room:
    """A rectangular room of side lengths ``lx, ly, lz`` in metres."""

    lx: float
    ly: float
    lz: float

    def __attrs_post_init__(self) -> None:
        sides = (self.lx, self.ly, self.lz)
        if not all(math.isfinite(s) and s > 0 for s in sides):
            raise ValueError(f"room dimensions must be finite and > 0, got {sides}")

    @property
    def sides(self) -> np.ndarray:
        return np.array([self.lx, self.ly, self.lz])

    @property
    def volume(self) -> float:
        return self.lx * self.ly * self.lz

    @property
    def surface(self) -> float:
        return 2.0 * (self.lx * self.ly + self.lx * self.lz + self.ly * self.lz)

    @property
    def edges(self) -> float:
        return 4.0 * (self.lx + self.ly + self.lz)

    def weyl_count(self, k: np.ndarray) -> np.ndarray:
        """Expected number of Neumann modes with wavenumber <= ``k`` (Weyl's law with surface
        and edge corrections; the zero mode excluded)."""
        k = np.asarray(k, dtype=np.float64)
        return (
            self.volume * k**3 / (6 * np.pi**2)
            + self.surface * k**2 / (16 * np.pi)
            + self.edges * k / (16 * np.pi)
        )

    def weyl_inverse(self, count: np.ndarray) -> np.ndarray:
        """The wavenumbers ``k >= 0`` at which :meth:`weyl_count` equals ``count`` (>= 0)."""
        count = np.asarray(count, dtype=np.float64)
        a = self.volume / (6 * np.pi**2)
        b = self.surface / (16 * np.pi)
        c = self.edges / (16 * np.pi)
        k = np.cbrt(count / a)  # the volume term alone over-estimates k: Newton from above
        for _ in range(60):
            step = (self.weyl_count(k) - count) / (3 * a * k**2 + 2 * b * k + c)
            k = k - step
            if np.all(np.abs(step) <= 1e-13 * np.maximum(k, 1.0)):
                break
        return k

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Boolean mask of the (n, 3) ``points`` that lie inside the closed room."""
        return np.all((points >= 0) & (points <= self.sides), axis=1)


@attrs.frozen(eq=False)
class Modes:
    """Modes of a cavity seen from given points.

    ``k``: (n,) wavenumbers in rad/m (``k[0] = 0`` is the uniform compression mode).
    ``coupling``: (microphones * speakers, n) products ``psi_n(r_s) psi_n(r_m)`` in 1/m^3,
    row ``m * speakers + s`` for source ``s`` and microphone ``m`` (one microphone: row ``s``).
    """

    k: np.ndarray
    coupling: np.ndarray

    @property
    def count(self) -> int:
        return int(self.k.size)


def shoebox_modes(room: Room, sources: np.ndarray, microphone: np.ndarray, k_max: float) -> Modes:
    """All rigid-wall modes of ``room`` with wavenumber <= ``k_max``, sampled at the (s, 3)
    ``sources`` and the (3,) ``microphone`` position, or the (m, 3) positions of ``m``
    microphones."""
    limits = [math.floor(k_max * side / np.pi) for side in room.sides]
    grids = np.meshgrid(*(np.arange(n + 1) for n in limits), indexing="ij")
    idx = np.stack([g.ravel() for g in grids], axis=1)  # (m, 3) integer mode indices
    k = np.pi * np.sqrt(((idx / room.sides) ** 2).sum(axis=1))
    keep = k <= k_max
    idx, k = idx[keep], k[keep]
    order = np.argsort(k, kind="stable")
    idx, k = idx[order], k[order]
    norm = np.sqrt(np.prod(np.where(idx == 0, 1.0, 2.0), axis=1) / room.volume)

    def shape(points: np.ndarray) -> np.ndarray:
        # (p, 3) points -> (p, n) mode shapes
        phase = np.pi * points[:, None, :] * idx[None, :, :] / room.sides
        return norm * np.prod(np.cos(phase), axis=2)

    src, mic = shape(np.atleast_2d(sources)), shape(np.atleast_2d(microphone))
    coupling = (mic[:, None, :] * src[None, :, :]).reshape(-1, k.size)
    return Modes(k=k, coupling=coupling)


def chaotic_modes(
    room: Room, speakers: int, k_max: float, rng: np.random.Generator, microphones: int = 1
) -> Modes:
    """Modes of a chaotic cavity with the volume, wall area and edge length of ``room``, up to
    ``k_max``: Weyl-law density, Wigner-surmise spacings, Gaussian mode shapes (variance
    ``1/V``) drawn independently at each of ``speakers`` sources and ``microphones``
    microphones. The uniform compression mode (``k = 0``, ``psi = 1/sqrt(V)``) is kept, as in
    any closed cavity."""
    expected = float(room.weyl_count(np.array(k_max)))
    n = max(math.ceil(expected * 1.2) + 10, 10)
    # separate streams, each filled mode by mode: mode i gets the same level spacing and shape
    # whatever k_max (and so however many modes) is asked for
    levels_rng, shapes_rng = (np.random.default_rng(s) for s in rng.integers(2**63, size=2))
    # Wigner surmise P(s) = (pi/2) s exp(-pi s^2/4): inverse-CDF sampling, unit mean spacing.
    u = levels_rng.uniform(size=n + 1)
    spacings = np.sqrt(-4.0 * np.log1p(-u[1:]) / np.pi)
    levels = np.cumsum(spacings) - u[0] * spacings[0]  # unfolded levels, random offset
    k = room.weyl_inverse(levels)  # unfolded levels (mean density 1) -> wavenumbers
    keep = (k > 0) & (k <= k_max)
    scale = 1.0 / np.sqrt(room.volume)
    psi = shapes_rng.standard_normal((n, speakers + microphones))[keep] * scale  # (modes, s + m)
    src, mic = psi[:, :speakers], psi[:, speakers:]
    coupling = (mic[:, :, None] * src[:, None, :]).reshape(-1, speakers * microphones).T
    rows = speakers * microphones
    coupling = np.concatenate([np.full((rows, 1), scale * scale), coupling], axis=1)
    return Modes(k=np.concatenate([[0.0], k[keep]]), coupling=coupling)


def transfer(
    modes: Modes,
    omega: np.ndarray,
    c: float,
    *,
    absorption: float | None = None,
    surface: float = 1.0,
    volume: float = 1.0,
    q: float | None = None,
) -> np.ndarray:
    """Modal transfer functions ``H(omega)`` of every row of ``modes.coupling`` (source, or
    microphone and source), shape (rows, len(omega)).

    Damping is either Sabine's (``absorption`` with the room's ``surface`` and ``volume``:
    ``w_n / Q_n = c S alpha / (4 V)`` for every mode) or a constant quality factor ``q``
    (then the zero mode is undamped). Exactly one of ``absorption`` and ``q`` must be given.
    """
    if (absorption is None) == (q is None):
        raise ValueError("give exactly one of absorption and q")
    omega = np.asarray(omega, dtype=np.float64)
    wn = c * modes.k
    if absorption is not None:
        rate = np.full_like(wn, c * surface * absorption / (4.0 * volume))
    else:
        rate = wn / float(q)  # type: ignore[arg-type]
    denom = wn[:, None] ** 2 - omega[None, :] ** 2 + 1j * omega[None, :] * rate[:, None]
    return modes.coupling @ (1.0 / denom)
