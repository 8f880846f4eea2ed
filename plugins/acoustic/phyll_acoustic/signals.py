"""Drive signals, loudspeaker nonlinearities and the microphone's spectral read-out.

The tones are commensurate: every tone frequency is an integer multiple ``m_k`` of a base
frequency ``f0`` (the greatest common divisor of the tone frequencies), so each loudspeaker's
drive is periodic with period ``1 / f0`` and every intermodulation product of the nonlinearity
is a spectral *line* at an integer multiple of ``f0``. One period sampled at ``M`` points
holds the drive exactly; the lines are the DFT of the distorted drive over that period. ``M``
is chosen so that products up to the nonlinearity's order never alias onto a line that the
read-out sees (:func:`samples_per_period`).

The microphone records a Hann-windowed stretch of length ``T`` of the steady-state pressure
and reads the amplitude-calibrated spectrum at each output bin ``w_b``:

    Y_b = (2 / int w) int_0^T w(t) p(t) exp(-i w_b t) dt,

so a pure tone of amplitude ``A`` read at its own frequency gives ``|Y_b| = A``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import attrs
import numpy as np

#: Largest multiple of the base frequency accepted for a tone (keeps M small).
MAX_HARMONIC = 2048


@attrs.frozen(eq=False)
class ToneGrid:
    """Tone frequencies ``f_k = m_k * base`` (Hz) with integer ``m_k``."""

    base: float
    harmonics: np.ndarray

    @property
    def frequencies(self) -> np.ndarray:
        return self.base * self.harmonics


def tone_grid(start: float, spacing: float, count: int) -> ToneGrid:
    """``count`` tones ``start + k * spacing`` (Hz) on their common base frequency.

    Raises ValueError when the frequencies are not positive or when they are (nearly)
    incommensurate, i.e. their common base would make a tone a harmonic above
    :data:`MAX_HARMONIC`.
    """
    if not (start > 0 and spacing > 0 and count >= 1):
        raise ValueError(f"tones need start > 0, spacing > 0, count >= 1; got {start}, {spacing}")
    a = Fraction(start).limit_denominator(10_000)
    b = Fraction(spacing).limit_denominator(10_000)
    den = a.denominator * b.denominator // math.gcd(a.denominator, b.denominator)
    base = Fraction(math.gcd(int(a * den), int(b * den)), den)
    harmonics = np.array([int((a + k * b) / base) for k in range(count)], dtype=np.int64)
    if harmonics[-1] > MAX_HARMONIC:
        raise ValueError(
            f"tone frequencies start={start:g} Hz, spacing={spacing:g} Hz have a common base of"
            f" only {float(base):.4g} Hz (highest tone = harmonic {harmonics[-1]} >"
            f" {MAX_HARMONIC}); choose frequencies with a larger common divisor (e.g. a start"
            " that is a multiple of the spacing)"
        )
    return ToneGrid(base=float(base), harmonics=harmonics)


def schroeder_phases(count: int) -> np.ndarray:
    """Schroeder's low crest-factor phases ``phi_k = -pi k (k - 1) / count``, k = 1..count."""
    k = np.arange(1, count + 1)
    return -np.pi * k * (k - 1) / count


def samples_per_period(highest_tone: int, highest_line: int, order: int) -> int:
    """Time samples per drive period so that every product of up to ``order`` tones (at most
    harmonic ``order * highest_tone``) aliases, if at all, above ``highest_line``:
    ``M > order * highest_tone + highest_line``."""
    return int(order * highest_tone + highest_line + 1)


def hann_spectrum(omega: np.ndarray, duration: float) -> np.ndarray:
    """``int_0^T w(t) exp(-i omega t) dt`` of the Hann window ``w = sin^2(pi t / T)``."""
    omega = np.asarray(omega, dtype=np.float64)
    step = 2.0 * np.pi / duration

    def rect(om: np.ndarray) -> np.ndarray:
        # int_0^T exp(-i om t) dt, stable at om = 0
        return duration * np.exp(-0.5j * om * duration) * np.sinc(om * duration / (2 * np.pi))

    return 0.5 * rect(omega) - 0.25 * rect(omega - step) - 0.25 * rect(omega + step)


def line_readout(
    line_omega: np.ndarray, bin_omega: np.ndarray, duration: float
) -> tuple[np.ndarray, np.ndarray]:
    """Matrices ``(direct, image)`` of shape (lines, bins) such that a real pressure
    ``p(t) = sum_p Re(Y_p exp(i w_p t))`` reads ``Y_b = Y @ direct + conj(Y) @ image`` at the
    bins after the calibrated Hann-window read-out (see the module docstring)."""
    calib = 2.0 / (0.5 * duration)  # 2 / int w, int w = T / 2
    direct = 0.5 * calib * hann_spectrum(bin_omega[None, :] - line_omega[:, None], duration)
    image = 0.5 * calib * hann_spectrum(bin_omega[None, :] + line_omega[:, None], duration)
    return direct, image


def _tanh(saturation: float) -> Callable[[np.ndarray], np.ndarray]:
    if saturation == 0:
        return _identity
    inv = np.float32(1.0 / saturation)
    gain = np.float32(saturation)

    def apply(u: np.ndarray) -> np.ndarray:
        np.multiply(u, gain, out=u)
        np.tanh(u, out=u)
        np.multiply(u, inv, out=u)
        return u

    return apply


def _poly(beta: float, gamma: float) -> Callable[[np.ndarray], np.ndarray]:
    b, g = np.float32(beta), np.float32(gamma)

    def apply(u: np.ndarray) -> np.ndarray:
        # u + beta u^2 + gamma u^3 = u (1 + u (beta + gamma u)), in place
        t = u * g
        t += b
        t *= u
        t += 1
        u *= t
        return u

    return apply


def _identity(u: np.ndarray) -> np.ndarray:
    return u


@attrs.frozen
class Nonlinearity:
    """A memoryless loudspeaker nonlinearity ``v = g(u)`` applied to the normalised drive
    (``|u| <= 1``). ``kind``: ``tanh`` (``g = tanh(a u) / a``, ``a`` = ``saturation``),
    ``poly`` (``g = u + beta u^2 + gamma u^3``) or ``none`` (``g = u``).
    ``order`` is the highest intermodulation order that is kept alias-free."""

    kind: str = attrs.field(validator=attrs.validators.in_(("tanh", "poly", "none")))
    saturation: float = 0.0
    beta: float = 0.0
    gamma: float = 0.0

    @property
    def order(self) -> int:
        if self.kind == "none" or (self.kind == "tanh" and self.saturation == 0):
            return 1
        if self.kind == "poly":
            return 3 if self.gamma else (2 if self.beta else 1)
        # tanh: odd orders to the fifth; the higher ones that alias change the outputs by
        # < 1e-3 (relative RMS) for saturation <= 3 (tests/test_physics.py)
        return 5

    def function(self) -> Callable[[np.ndarray], np.ndarray]:
        """An in-place float32 implementation (it overwrites and returns its argument)."""
        if self.kind == "tanh":
            return _tanh(self.saturation)
        if self.kind == "poly":
            return _poly(self.beta, self.gamma)
        return _identity

    def __call__(self, u: np.ndarray) -> np.ndarray:
        """Apply ``g`` to a copy of ``u`` (float64 in, float64 out; for tests and plots)."""
        u = np.asarray(u, dtype=np.float64)
        if self.kind == "tanh":
            return u if self.saturation == 0 else np.tanh(self.saturation * u) / self.saturation
        if self.kind == "poly":
            return u + self.beta * u**2 + self.gamma * u**3
        return u.copy()
