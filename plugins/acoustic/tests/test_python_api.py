"""The documented Python API on the acoustic cavity: ``phyll_core.build_system("acoustic",
noise=0)`` is deterministic and probes as a nonlinear system; with noise it is not."""

from __future__ import annotations

import numpy as np
import pytest

import phyll_core


def test_build_system_by_name_with_parameters_and_probe_it() -> None:
    quiet = phyll_core.build_system("acoustic", noise=0)
    x = quiet.domain.sample(np.random.default_rng(0), (16, quiet.input_dim))
    assert np.array_equal(quiet.forward(x), quiet.forward(x))  # no measurement noise
    result = phyll_core.probe_system(quiet, samples=512)
    assert result.samples == 512 and 0.02 < result.nonlinearity < 1.0
    noisy = phyll_core.build_system("acoustic", noise=0.05)
    assert not np.array_equal(noisy.forward(x), noisy.forward(x))
    with pytest.raises(phyll_core.PhyllError, match="noise"):
        phyll_core.build_system("acoustic", noise=-1)
