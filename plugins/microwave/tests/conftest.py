"""Shared fixtures of the phyll-microwave tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from phyll_microwave import MicrowaveCavity


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread() -> Iterator[None]:
    """Run BLAS single-threaded: on a shared, oversubscribed machine multi-threaded OpenBLAS
    makes the 200 x 200 solves of these tests up to 100 times slower (it changes no result)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="session")
def cavity() -> MicrowaveCavity:
    """The default system (do not perturb it: build a fresh one for that)."""
    return MicrowaveCavity()
