"""Complex Gaussian measurement noise of the microphone read-out, drawn cheaply.

The read-out noise is circular complex Gaussian, ``n = a + i b`` with ``a, b`` independent
``N(0, rms^2 / 2)``, so ``E|n|^2 = rms^2``. It is drawn in polar form (Box-Muller):

    n = r exp(i theta),   r = rms sqrt(-ln(1 - u1)),   theta = 2 pi u2,   u1, u2 ~ U[0, 1)

(``r^2`` is exponential with mean ``rms^2``, ``theta`` uniform; this is the exact law of a
circular complex Gaussian). In float32 it costs two uniforms, one log, one sqrt and one sin/cos
pair per complex sample: about half of numpy's float32 ziggurat ``standard_normal`` for the two
real parts, measured in ``benchmarks/acoustic_noise.py``. The only approximation is float32's
own: ``u1`` has 24 bits, so ``r`` never exceeds ``5.77 rms`` (probability ``2^-24`` in the exact
law).
"""

from __future__ import annotations

import math

import numpy as np


def add_complex_noise(y: np.ndarray, rms: float, rng: np.random.Generator) -> None:
    """Add complex Gaussian noise of RMS ``rms`` (``E|n|^2 = rms^2``) to the rows of the
    float32 array ``y`` of shape (n, 2B), laid out ``[real parts | imaginary parts]``, in place.
    Draws ``2 n B`` float32 uniforms from ``rng`` (the same generator state gives the same
    noise)."""
    rows, width = y.shape
    b = width // 2
    if width != 2 * b or y.dtype != np.float32:
        raise ValueError(f"expected a float32 (n, 2B) array, got {y.dtype} {y.shape}")
    u = rng.random((2, rows, b), dtype=np.float32)
    r, theta = u[0], u[1]
    np.subtract(np.float32(1.0), r, out=r)  # (0, 1]: the log is finite
    np.log(r, out=r)
    np.multiply(r, np.float32(-(rms**2)), out=r)
    np.sqrt(r, out=r)
    np.multiply(theta, np.float32(2.0 * math.pi), out=theta)
    re = np.cos(theta)
    np.sin(theta, out=theta)
    re *= r
    theta *= r
    y[:, :b] += re
    y[:, b:] += theta
