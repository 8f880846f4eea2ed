"""The physics of the example instrument: a nonlinear driven multichannel resonator.

Input ``x`` (batch, inputs) holds the drive voltages of the source channels, in [0, 1] V.
Each source has a weakly nonlinear transducer, ``s(x) = x + beta * x**2``; the resonator mixes
the sources linearly into complex fields at the detector bins, ``E = s(x) @ M`` with a fixed
seeded complex Gaussian matrix ``M`` (entries of variance ``1 / inputs``); the detector reads the
magnitudes ``y = |E + n|`` (``n`` complex Gaussian detector noise of standard deviation
``noise``). The magnitude makes the response strongly nonlinear, like the measured acoustic
cavity (|complex linear mix| plus weak nonlinearity).
"""

from __future__ import annotations

import numpy as np


class ResponseModel:
    """``y = |s(x) @ M + n|`` with ``s(x) = x + beta x^2`` (see the module docstring)."""

    def __init__(self, inputs: int = 20, outputs: int = 20, seed: int = 0, beta: float = 0.5):
        if inputs < 1 or outputs < 1:
            raise ValueError("inputs and outputs must be >= 1")
        self.inputs, self.outputs, self.seed, self.beta = inputs, outputs, seed, float(beta)
        rng = np.random.default_rng(seed)
        real = rng.standard_normal((inputs, outputs))
        imag = rng.standard_normal((inputs, outputs))
        self.matrix = (real + 1j * imag) / np.sqrt(2.0 * inputs)

    def field(self, x: np.ndarray, matrix: np.ndarray | None = None) -> np.ndarray:
        """Complex detector fields (batch, outputs) for drives ``x`` (batch, inputs)."""
        x = np.asarray(x, dtype=np.float64)
        drive = x + self.beta * x * x
        return drive @ (self.matrix if matrix is None else matrix)

    def __call__(
        self,
        x: np.ndarray,
        noise: float = 0.0,
        rng: np.random.Generator | None = None,
        matrix: np.ndarray | None = None,
    ) -> np.ndarray:
        """Detector magnitudes (batch, outputs); ``noise`` > 0 needs ``rng``."""
        e = self.field(x, matrix)
        if noise > 0:
            if rng is None:
                raise ValueError("noise needs an rng")
            e = e + noise * (rng.standard_normal(e.shape) + 1j * rng.standard_normal(e.shape))
        return np.abs(e)
