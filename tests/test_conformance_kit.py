"""The conformance suite's reports: an input-mutating forward is reported once, NaN outputs
name their row and column, and the drift response at strength 1 is measured."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from phyll_core import Interval, PhysicalSystem
from phyll_core.testing import (
    ConformanceError,
    ConformanceReport,
    check_system,
    drift_response,
    run_checks,
)


@attrs.define(kw_only=True, eq=False)
class Mix(PhysicalSystem):
    """``y = tanh(x @ M)`` with a seeded M; drift adds ``0.1 strength`` Gaussian noise to M."""

    name = "kit-mix"
    seed: int = 0
    mutate: bool = False
    nan_at: tuple[int, int] | None = None
    _m: np.ndarray = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._m = np.random.default_rng(self.seed).standard_normal((4, 3))

    input_dim = 4
    output_dim = 3

    @property
    def domain(self) -> Interval:
        return Interval(0.0, 1.0)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        if self.mutate:
            x *= 0.5  # the bug under test: writes into the caller's array
        y = np.tanh(x @ self._m)
        if self.nan_at is not None and y.shape[0] > self.nan_at[0]:
            y[self.nan_at] = np.nan
        return y

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        self._m = self._m + 0.1 * strength * rng.standard_normal(self._m.shape)


def _failures(**kw: object) -> dict[str, str]:
    return {r.name: r.error for r in run_checks(lambda s: Mix(seed=s, **kw)) if not r.passed}


def test_a_good_system_passes_and_reports_its_drift() -> None:
    report = check_system(lambda s: Mix(seed=s))
    assert isinstance(report, ConformanceReport) and report.failed == []
    assert report.drift_response is not None and 0.01 < report.drift_response < 1.0
    assert "drift response at strength 1" in str(report)


def test_input_mutation_is_reported_once_without_follow_on_failures() -> None:
    failed = _failures(mutate=True)
    assert list(failed) == ["forward_shapes"], failed
    assert "forward() modified its input array" in failed["forward_shapes"]
    assert "row 0, column 0" in failed["forward_shapes"]


def test_nan_outputs_name_row_and_column() -> None:
    failed = _failures(nan_at=(0, 2))
    assert "at row 0, column 2" in failed["forward_shapes"], failed
    with pytest.raises(ConformanceError, match=r"nan, at row 0, column 2"):
        check_system(lambda s: Mix(seed=s, nan_at=(0, 2)))


def test_a_failure_repeated_by_later_checks_is_listed_once() -> None:
    failed = _failures(nan_at=(0, 1))
    texts = list(failed.values())
    assert sum("non-finite" in t for t in texts) <= 2  # different batch sizes, different counts
    assert any(t.startswith("same failure as") for t in texts), failed


def test_drift_response_scales_with_strength_and_is_none_without_drift() -> None:
    make = lambda s: Mix(seed=s)  # noqa: E731
    assert drift_response(make, strength=0.0) == 0.0
    small, large = drift_response(make, 0.5), drift_response(make, 2.0)
    assert small is not None and large is not None and large > 2 * small

    from phyll_core.builtin_systems import Identity

    assert drift_response(lambda s: Identity(dim=3)) is None
