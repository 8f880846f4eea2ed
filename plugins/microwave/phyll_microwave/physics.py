"""Coupled-dipole ("PhysFad") physics: Lorentzian dipoles coupled by the 2D Green's function.

Units follow PhysFad (Faqiri et al., IEEE Trans. Wireless Commun. 2022): the wave speed is 1,
so the wavenumber is ``k = 2 pi f`` and the wavelength at ``f = 1`` is 1; constants of
proportionality are dropped. For dipoles ``i, j`` at 2D positions ``r_i, r_j``::

    W_ii = ((2 pi f_res,i)^2 - (2 pi f)^2) / chi_i^2 + i (k^2/4 + 2 pi f Gamma_i / chi_i^2)
    W_ij = i (k^2/4) H0^(2)(k |r_i - r_j|)                     (i != j)

``W_ii`` is the inverse polarisability (resonance ``f_res``, oscillator strength ``chi``,
absorption ``Gamma``, radiation damping ``k^2/4``); ``W_ij`` is minus the free-space Green's
function. The end-to-end channel from a transmitting to a receiving dipole, multiple
scattering included, is ``H(f) = [diag(W) W^-1]_{RX, TX}``.
"""

from __future__ import annotations

import attrs
import numpy as np


@attrs.frozen
class Lorentzian:
    """Response of one kind of dipole: resonance frequency ``f_res``, oscillator strength
    ``chi`` (> 0) and absorption ``gamma`` (>= 0), all in PhysFad units."""

    f_res: float
    chi: float
    gamma: float

    def inverse_polarisability(self, freqs: np.ndarray) -> np.ndarray:
        """``W_ii`` at each frequency of ``freqs`` (shape (F,)) -> complex (F,)."""
        return inverse_polarisability(
            np.array([self.f_res]), np.array([self.chi]), np.array([self.gamma]), freqs
        )[:, 0]


def inverse_polarisability(
    f_res: np.ndarray, chi: np.ndarray, gamma: np.ndarray, freqs: np.ndarray
) -> np.ndarray:
    """Diagonal of W: dipoles with parameters of shape (n,) at frequencies (F,) -> (F, n)."""
    omega = 2.0 * np.pi * np.asarray(freqs, dtype=np.float64)[:, None]
    k = omega  # c = 1
    chi2 = np.asarray(chi, dtype=np.float64) ** 2
    real = ((2.0 * np.pi * np.asarray(f_res)) ** 2 - omega**2) / chi2
    imag = k**2 / 4.0 + omega * np.asarray(gamma) / chi2
    return real + 1j * imag


def hankel2_0(x: np.ndarray) -> np.ndarray:
    """Hankel function of the second kind of order 0, ``H0^(2)(x) = J0(x) - i Y0(x)`` for
    real ``x > 0``; equal to ``scipy.special.hankel2(0, x)`` but about three times faster.
    SciPy's special functions are imported here, when a system is built, not with the module
    (``phyll systems`` imports it to read the parameters)."""
    from scipy import special

    return special.j0(x) - 1j * special.y0(x)


def green(r: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Coupling ``i (k^2/4) H0^(2)(k r)`` at distances ``r`` (any shape, all > 0) and
    frequencies (F,) -> complex (F, *r.shape)."""
    r = np.asarray(r, dtype=np.float64)
    if r.size and not r.min() > 0.0:
        raise ValueError("two distinct dipoles sit at the same position")
    k = 2.0 * np.pi * np.asarray(freqs, dtype=np.float64).reshape((-1,) + (1,) * r.ndim)
    return 1j * (k**2 / 4.0) * hankel2_0(k * r[None])


def distances(points_a: np.ndarray, points_b: np.ndarray) -> np.ndarray:
    """Pairwise distances (na, nb) between points (na, 2) and (nb, 2)."""
    diff = points_a[:, None, :] - points_b[None, :, :]
    return np.hypot(diff[..., 0], diff[..., 1])


def interaction_matrix(points: np.ndarray, diagonal: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """The full matrix W (F, n, n) of dipoles at ``points`` (n, 2) with inverse
    polarisabilities ``diagonal`` (F, n) and couplings :func:`green` off the diagonal. Only
    the upper triangle is evaluated (W is symmetric)."""
    n = points.shape[0]
    iu, ju = np.triu_indices(n, k=1)
    diff = points[iu] - points[ju]
    values = green(np.hypot(diff[:, 0], diff[:, 1]), freqs)
    w = np.zeros((values.shape[0], n, n), dtype=np.complex128)
    w[:, iu, ju] = values
    w[:, ju, iu] = values
    idx = np.arange(n)
    w[:, idx, idx] = diagonal
    return w
