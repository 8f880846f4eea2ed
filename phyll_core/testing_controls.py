"""Conformance checks of the physical-controls contract (part of :mod:`phyll_core.testing`).

They pass trivially for a system without controls, except that such a system must report
none (``controls is None``, an empty ``get_controls()``) and refuse a non-empty ``theta``. For a
system that declares :class:`~phyll_core.system.Controls` they check:

- ``get_controls()`` returns a float64 copy of ``controls.shape`` inside the domain, and
  ``set_controls(get_controls())`` after a change restores the outputs (round trip);
- setting different controls changes the outputs, deterministically: two systems of the same
  seed given the same controls answer the same inputs identically;
- periodic controls (``Controls.periodic``) give the same outputs at both ends of their
  interval (every component at ``low`` against every component at ``high``);
- bad controls (wrong shape, NaN, a value outside the domain, text) raise
  :class:`~phyll_core.errors.PhysicalInputError` naming the system, leave the controls as they
  were, and are not counted as queries (setting controls is never a query).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from phyll_core.domain import Binary, Interval
from phyll_core.errors import PhysicalInputError
from phyll_core.system import PhysicalSystem


def _other_controls(system: PhysicalSystem, seed: int = 99) -> np.ndarray:
    """Controls that differ from the current ones in most components (valid for the domain)."""
    spec = system.controls
    assert spec is not None
    current = system.get_controls()
    if isinstance(spec.domain, Binary):
        return 1.0 - current
    drawn = spec.domain.sample(np.random.default_rng(seed), spec.shape)
    if isinstance(spec.domain, Interval):
        # make sure the draw is not (almost) the current setting
        mid = 0.5 * (spec.domain.low + spec.domain.high)
        close = np.abs(drawn - current) < 0.05 * (spec.domain.high - spec.domain.low)
        drawn[close] = np.where(current[close] < mid, spec.domain.high, spec.domain.low)
    return drawn


def check_controls_declaration(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """``controls`` is None (then ``get_controls()`` is empty and a non-empty ``theta`` is
    refused) or a Controls whose ``get_controls()`` is a float64 copy inside its domain."""
    s = make(0)
    spec = s.controls
    if spec is None:
        theta = s.get_controls()
        assert theta.size == 0, f"no controls declared but get_controls() has {theta.size} values"
        s.set_controls(theta)  # the empty round trip is allowed
        try:
            s.set_controls(np.zeros(1))
        except PhysicalInputError:
            return
        raise AssertionError("a system without controls accepted set_controls([0])")
    theta = s.get_controls()
    assert theta.dtype == np.float64 and theta.shape == spec.shape, (
        f"get_controls() gave {theta.dtype} {theta.shape}, controls declare {spec.shape}"
    )
    assert not spec.domain.outside(theta).any(), "the initial controls lie outside their domain"
    theta[...] = _other_controls(s)
    assert not np.array_equal(theta, s.get_controls()), "get_controls() returned a live view"


def _outputs(
    make: Callable[[int], PhysicalSystem], x: np.ndarray, theta: np.ndarray | None, calls: int
) -> list[np.ndarray]:
    """Outputs of ``calls`` forward calls of a fresh system (controls ``theta`` if given); one
    system at a time, since a real instrument cannot be held twice."""
    s = make(0)
    if theta is not None:
        s.set_controls(theta)
    out = [s.forward(x) for _ in range(calls)]
    del s
    return out


def check_controls_effect(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """Different controls change the outputs; the same controls on two systems of one seed give
    identical outputs; ``set_controls(old)`` restores the old outputs exactly (round trip)."""
    s = make(0)
    if s.controls is None:
        return
    old, new = s.get_controls(), _other_controls(s)
    del s
    before, restored_ref = _outputs(make, x, None, 2)
    s = make(0)
    s.set_controls(new)
    assert np.array_equal(s.get_controls(), new), "get_controls() differs from what was set"
    after = s.forward(x)
    s.set_controls(old)
    assert np.array_equal(s.get_controls(), old), "set_controls(old) did not restore them"
    restored = s.forward(x)  # second call: same position in the noise sequence as the ref
    del s
    assert not np.allclose(after, before), "changing every control left the outputs unchanged"
    assert np.array_equal(_outputs(make, x, new, 1)[0], after), (
        "same seed and controls, different outputs"
    )
    assert np.allclose(restored, restored_ref, rtol=1e-9, atol=1e-12), (
        "restoring the controls did not restore the outputs"
    )


def check_controls_validation(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """Bad controls raise PhysicalInputError naming the system; the controls stay unchanged
    and nothing is counted as a query."""
    s = make(0)
    spec = s.controls
    if spec is None:
        return
    good = s.get_controls()
    outside = spec.domain.high + 1.0 if isinstance(spec.domain, Interval) else 0.5
    with_nan, with_outside = good.copy(), good.copy()
    with_nan[0], with_outside[0] = np.nan, outside
    bad: list[tuple[str, object]] = [
        ("wrong length", np.zeros(spec.size + 1)),
        ("2-D controls", good[None, :]),
        ("NaN", with_nan),
        ("outside the domain", with_outside),
        ("text", ["a"] * spec.size),
    ]
    for label, theta in bad:
        try:
            s.set_controls(theta)
        except PhysicalInputError as exc:
            assert s.name in str(exc), f"{label}: error does not name the system: {exc}"
        else:
            raise AssertionError(f"controls with {label} were accepted")
        assert np.array_equal(s.get_controls(), good), f"refused controls ({label}) were applied"
    assert s.queries.calls == 0, f"setting controls counted {s.queries.calls} queries"


def check_controls_periodic(make: Callable[[int], PhysicalSystem], x: np.ndarray) -> None:
    """Periodic controls: ``low`` and ``high`` are the same setting (the same outputs, up to
    rounding, on two fresh systems of one seed)."""
    s = make(0)
    spec = s.controls
    del s
    if spec is None or not spec.periodic:
        return
    assert isinstance(spec.domain, Interval), "periodic controls need an interval domain"
    at_low = _outputs(make, x, np.full(spec.shape, spec.domain.low), 1)[0]
    at_high = _outputs(make, x, np.full(spec.shape, spec.domain.high), 1)[0]
    scale = float(np.max(np.abs(at_low), initial=1.0))
    assert np.allclose(at_low, at_high, rtol=1e-7, atol=1e-9 * scale), (
        "periodic controls: the outputs at the two ends of the domain differ"
    )


CONTROL_CHECKS = (
    check_controls_declaration,
    check_controls_effect,
    check_controls_periodic,
    check_controls_validation,
)
