"""The free-space Fourier processor: a line of SLM pixels, a lens, a line camera in its back
focal plane (system ``lens``).

A thin lens of focal length ``f`` forms, in its back focal plane, the Fourier transform of the
field in its front focal plane (Goodman, *Introduction to Fourier Optics*, ch. 5). With the
``inputs`` SLM pixels (pitch ``p``, fill factor 1) on one line and a line camera of ``pixels``
pixels at spacing ``lambda f / (pixels p)``, the camera samples one period of the SLM field's
spectrum ``pixels`` times. For SLM values ``u`` (batch, inputs) the field at camera pixel
``q = 0 .. pixels/2`` is

    E(q) = sinc(q / N) / sqrt(N) * sum_k u_k exp(-2 pi i q k / N) * exp(i phi_k),   N = pixels,

a zero-padded DFT of ``u`` times the pixel aperture's envelope ``sinc(t) = sin(pi t) / (pi t)``,
with ``phi`` the phase error of the optics (0 until :meth:`perturb`) plus the trainable SLM
phase mask (controls). The camera reads ``|E|`` (``amplitude``) or ``|E|^2`` (``intensity``),
plus seeded Gaussian read noise, divided by the mean reading of a fixed random reference batch
(outputs of order 1). It covers the half line ``q >= 0``: for real SLM values the other half is
its mirror image.

The modulus of a Fourier transform does not change when the pattern moves on the SLM
(``|E(q)|`` is the same for ``u_k`` and ``u_{k-s}`` as long as no value leaves the line): the
lens gives translation-invariant features no digital linear layer has. ``signed`` encoding
(the default), ``u = 2x - 1``, writes the value's sign as a pi phase step (an amplitude SLM
behind a binary phase plate, or a complex-modulating SLM), so the inputs' mean level does not
put a bright zero-order peak into the spectrum.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from phyll_core.domain import Domain, Interval
from phyll_core.errors import ParameterError
from phyll_core.system import Controls, PhysicalSystem, SeededNoise
from phyll_optical.camera import DETECTIONS, detect

ENCODINGS = ("signed", "amplitude", "phase")
REFERENCE_BATCH = 64
"""Size of the fixed random input batch that sets the output scale."""
ABERRATION_ORDERS = 3
"""Legendre orders of the drift's phase error: tilt, defocus, coma."""


def camera_pixels(pixels: int) -> int:
    """Number of camera readings of a line of ``pixels`` Fourier-plane pixels (half line)."""
    return pixels // 2 + 1


def samples(inputs: int, pixels: int) -> int:
    """``N``, the Fourier-plane samples per period: ``pixels``, or twice the inputs for 0."""
    return pixels or 2 * inputs


def fourier_map(inputs: int, pixels: int) -> np.ndarray:
    """Complex128 (inputs, pixels // 2 + 1) map from SLM values to camera fields (no phase):
    ``sinc(q / N) exp(-2 pi i q k / N) / sqrt(N)``."""
    k = np.arange(inputs)[:, None]
    q = np.arange(camera_pixels(pixels))[None, :]
    return np.sinc(q / pixels) * np.exp(-2j * np.pi * q * k / pixels) / np.sqrt(pixels)


@attrs.define(kw_only=True, eq=False)
class LensSystem(SeededNoise, PhysicalSystem):
    """An SLM line, a Fourier lens and a line camera (see the module docstring).

    ``pixels`` 0 (the default) samples the spectrum at twice the inputs (2x zero padding).
    Inputs: ``inputs`` values in ``[0, 1]``. Outputs: ``N // 2 + 1`` camera readings,
    non-negative, mean about 1. ``perturb`` adds a smooth random phase error (aberration drift).
    Same ``seed``: the same reference scale, drift-free optics and camera-noise sequence.
    """

    name = "lens"
    inputs: int = 64
    pixels: int = 0
    encoding: str = "signed"
    phase_depth: float = float(np.pi)
    detection: str = "amplitude"
    noise: float = 0.0
    phase_mask: bool = False
    seed: int = 0

    _plain: np.ndarray = attrs.field(init=False, repr=False)  # fourier_map, no phase
    _map: np.ndarray = attrs.field(init=False, repr=False)  # with the phase error and mask
    _real_map: np.ndarray = attrs.field(init=False, repr=False)  # [Re | Im] for real u
    _aberration: np.ndarray = attrs.field(init=False, repr=False)
    _mask: np.ndarray = attrs.field(init=False, repr=False)
    _scale: float = attrs.field(init=False, repr=False, default=1.0)
    _noise_rng: np.random.Generator = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._check_params()
        ref_seed, noise_seed = np.random.SeedSequence(self.seed).spawn(2)
        self._plain = fourier_map(self.inputs, self.samples)
        self._aberration = np.zeros(self.inputs)
        self._mask = np.zeros(self.inputs)
        self._refresh()
        x = self.domain.sample(np.random.default_rng(ref_seed), (REFERENCE_BATCH, self.inputs))
        self._scale = float(np.mean(self._reading(x))) or 1.0
        self._noise_rng = np.random.default_rng(noise_seed)

    def _check_params(self) -> None:
        for key, choices in (("encoding", ENCODINGS), ("detection", DETECTIONS)):
            if getattr(self, key) not in choices:
                raise ParameterError(
                    f"parameter '{key}' of system 'lens' must be one of {', '.join(choices)},"
                    f" got {getattr(self, key)!r}"
                )
        if self.inputs < 2 or not (self.pixels == 0 or self.pixels >= self.inputs):
            raise ParameterError(
                f"system 'lens' needs inputs >= 2 and pixels 0 or >= inputs, got"
                f" inputs={self.inputs}, pixels={self.pixels}"
            )
        if not 0 <= self.phase_depth <= 2 * np.pi:
            raise ParameterError(
                f"parameter 'phase_depth' of system 'lens' must be in [0, 2 pi], got"
                f" {self.phase_depth}"
            )
        if not (np.isfinite(self.noise) and self.noise >= 0) or self.seed < 0:
            raise ParameterError("parameters 'noise' and 'seed' of system 'lens' must be >= 0")

    @property
    def samples(self) -> int:
        """``N``: Fourier-plane samples per period of the spectrum (``pixels`` or 2 inputs)."""
        return samples(self.inputs, self.pixels)

    def _refresh(self) -> None:
        """Rebuild the map after the phase (aberration + mask) changed."""
        self._map = np.exp(1j * (self._aberration + self._mask))[:, None] * self._plain
        self._real_map = np.hstack([self._map.real, self._map.imag])

    def encode(self, x: np.ndarray) -> np.ndarray:
        """SLM values for inputs ``x`` in [0, 1]: ``2x - 1``, ``x`` or ``exp(i depth x)``."""
        if self.encoding == "signed":
            return 2.0 * x - 1.0
        if self.encoding == "amplitude":
            return x
        return np.exp(1j * self.phase_depth * x)

    def camera_field(self, x: np.ndarray) -> np.ndarray:
        """Complex (batch, pixels // 2 + 1) field on the camera for inputs ``x`` (no noise)."""
        u = self.encode(np.asarray(x, dtype=np.float64))
        if np.iscomplexobj(u):
            return u @ self._map
        both = u @ self._real_map  # a real product: half the work of a complex one
        m = self._map.shape[1]
        return both[:, :m] + 1j * both[:, m:]

    def _reading(self, x: np.ndarray) -> np.ndarray:
        return detect(self.camera_field(x), self.detection)

    # -- the contract ------------------------------------------------------------------------
    @property
    def noisy(self) -> bool:
        """Noisy whenever ``noise`` is on."""
        return self.noise > 0

    @property
    def input_dim(self) -> int:
        return self.inputs

    @property
    def output_dim(self) -> int:
        return camera_pixels(self.samples)

    @property
    def domain(self) -> Domain:
        return Interval(0.0, 1.0)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        reading = self._reading(x)
        if self.noise > 0:
            reading = reading + self.noise * self._scale * self._noise_rng.standard_normal(
                reading.shape
            )
        return reading / self._scale

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        """Aberration drift: the optics' phase error on the SLM line takes a random step
        ``strength * sum_j c_j P_j(t)`` (Legendre polynomials of orders 1-3, tilt, defocus
        and coma, over the line ``t`` in [-1, 1]; ``c_j ~ N(0, 1/3)``, so the step's RMS over
        the line is about ``strength / 2`` radians). Strength 1: about an hour of thermal
        drift of a free-space set-up on an optical table (a fraction of a wave)."""
        if strength == 0:
            return
        t = np.linspace(-1.0, 1.0, self.inputs)
        c = rng.standard_normal(ABERRATION_ORDERS) / np.sqrt(ABERRATION_ORDERS)
        legendre = np.polynomial.legendre.legval(t, np.concatenate([[0.0], c]))
        self._aberration = self._aberration + strength * legendre
        self._refresh()

    @property
    def controls(self) -> Controls | None:
        """With ``phase_mask``: a phase ``phi_k`` in ``[0, 2 pi]`` added on SLM pixel ``k``
        (initially 0, the plain system)."""
        if not self.phase_mask:
            return None
        return Controls(
            self.inputs, Interval(0.0, 2 * np.pi), "SLM phase of each pixel", periodic=True
        )

    def _get_controls(self) -> np.ndarray:
        return self._mask.copy()

    def _set_controls(self, theta: np.ndarray) -> None:
        self._mask = theta.copy()
        self._refresh()

    def status(self) -> dict[str, Any]:
        rms = float(np.sqrt(np.mean(self._aberration**2)))
        return {"camera pixels": self.output_dim, "aberration rms (rad)": f"{rms:.3f}"}
