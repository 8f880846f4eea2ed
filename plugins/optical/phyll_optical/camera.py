"""Camera side: detection of the field, and 3x3 average pooling with stride 2."""

from __future__ import annotations

import numpy as np

DETECTIONS = ("amplitude", "intensity")
POOL, STRIDE = 3, 2


def detect(field: np.ndarray, detection: str = "amplitude") -> np.ndarray:
    """Camera reading of a complex field: ``|E|`` (``amplitude``, as published: a camera
    read in the square root of its counts) or ``|E|^2`` (``intensity``, the raw counts)."""
    intensity = field.real**2 + field.imag**2
    if detection == "intensity":
        return intensity
    if detection == "amplitude":
        return np.sqrt(intensity)
    raise ValueError(f"detection must be one of {DETECTIONS}, got {detection!r}")


def pooled_side(side: int) -> int:
    """Side of the pooled image for a ``side x side`` camera image (valid 3x3 windows,
    stride 2): ``(side - 3) // 2 + 1``."""
    if side < POOL:
        raise ValueError(f"a camera image of side {side} is smaller than the {POOL}x{POOL} pool")
    return (side - POOL) // STRIDE + 1


def average_pool(images: np.ndarray) -> np.ndarray:
    """3x3 average pooling, stride 2, valid windows, over the last two axes of ``images``
    (..., H, W) -> (..., pooled_side(H), pooled_side(W)). Separable: rows, then columns."""
    h, w = images.shape[-2:]
    ph, pw = pooled_side(h), pooled_side(w)
    rows = sum(images[..., k : k + STRIDE * (ph - 1) + 1 : STRIDE, :] for k in range(POOL))
    cols = sum(rows[..., k : k + STRIDE * (pw - 1) + 1 : STRIDE] for k in range(POOL))
    return cols / (POOL * POOL)
