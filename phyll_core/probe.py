"""Probing a physical system: output statistics, throughput and a nonlinearity score."""

from __future__ import annotations

import time
from typing import Any

import attrs
import numpy as np

from phyll_core.system import PhysicalSystem


@attrs.frozen
class ProbeResult:
    """What ``phyll probe`` reports (see :func:`probe`)."""

    system: str
    samples: int
    samples_per_second: float
    nonlinearity: float
    output_mean: float
    output_std: float
    output_min: float
    output_max: float
    status: dict[str, Any] = attrs.field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def nonlinearity_score(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """1 - R^2 of the best affine map from ``x`` to ``y``, fitted by least squares on a random
    half and evaluated on the other half, pooled over all outputs (sum of squared errors over
    the total sum of squares about the held-out mean). 0 means affine; near 1, no affine trace.
    """
    n = x.shape[0]
    if n < 4:
        raise ValueError("the nonlinearity score needs at least 4 samples")
    idx = np.random.default_rng(seed).permutation(n)
    tr, te = idx[: n // 2], idx[n // 2 :]
    design = np.hstack([x, np.ones((n, 1))])
    coef, *_ = np.linalg.lstsq(design[tr], y[tr], rcond=None)
    resid = y[te] - design[te] @ coef
    total = ((y[te] - y[te].mean(axis=0)) ** 2).sum()
    if total <= 0:
        return 0.0
    return float((resid**2).sum() / total)


def probe(system: PhysicalSystem, samples: int = 4096, seed: int = 0) -> ProbeResult:
    """Send ``samples`` uniform random inputs from the system's domain (one batch, after a
    small warm-up) and measure throughput, output statistics and the nonlinearity score."""
    if samples < 4:
        raise ValueError("probe needs at least 4 samples")
    rng = np.random.default_rng(seed)
    x = system.domain.sample(rng, (samples, system.input_dim))
    system.forward(x[: min(8, samples)])  # warm-up (caches, lazy set-up)
    start = time.perf_counter()
    y = system.forward(x)
    elapsed = max(time.perf_counter() - start, 1e-9)
    return ProbeResult(
        system=system.name,
        samples=samples,
        samples_per_second=samples / elapsed,
        nonlinearity=nonlinearity_score(x, y, seed),
        output_mean=float(y.mean()),
        output_std=float(y.std()),
        output_min=float(y.min()),
        output_max=float(y.max()),
        status=system.status(),
    )
