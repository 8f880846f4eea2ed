"""The physical-controls contract: validation at the boundary, the conformance checks (pass on a
correct system, fail on broken ones), and the two estimators of phyll_core.engine.controls."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import attrs
import numpy as np
import pytest

from phyll_core import Binary, Interval, PhysicalInputError, PhysicalSystem
from phyll_core.builtin_systems import Identity
from phyll_core.domain import Domain
from phyll_core.engine.controls import BlockControls, ControlSettings
from phyll_core.errors import PhyllError
from phyll_core.system import Controls
from phyll_core.testing import ConformanceError, check_system, run_checks


@attrs.define(kw_only=True, eq=False)
class Biased(PhysicalSystem):
    """``y = tanh(x @ M + theta)``: interval controls in [-1, 1] (or bits, ``binary=True``)."""

    name = "biased"
    seed: int = 0
    binary: bool = False
    _m: np.ndarray = attrs.field(init=False)
    _theta: np.ndarray = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._m = np.random.default_rng(self.seed).standard_normal((3, 4))
        self._theta = np.zeros(4)

    @property
    def input_dim(self) -> int:
        return 3

    @property
    def output_dim(self) -> int:
        return 4

    @property
    def domain(self) -> Domain:
        return Interval(0.0, 1.0)

    @property
    def controls(self) -> Controls | None:
        return Controls(4, Binary() if self.binary else Interval(-1.0, 1.0), "offsets")

    def _get_controls(self) -> np.ndarray:
        return self._theta

    def _set_controls(self, theta: np.ndarray) -> None:
        self._theta = theta

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x @ self._m + self._theta)


def test_a_correct_controlled_system_conforms() -> None:
    check_system(lambda seed: Biased(seed=seed))
    check_system(lambda seed: Biased(seed=seed, binary=True))


def test_a_system_without_controls_reports_none() -> None:
    s = Identity(dim=3)
    assert s.controls is None and s.get_controls().size == 0
    assert s.describe()["controls"] is None
    s.set_controls([])  # the empty round trip
    with pytest.raises(PhysicalInputError, match="no controls"):
        s.set_controls([0.5])


@pytest.mark.parametrize(
    ("theta", "message"),
    [
        (np.zeros(3), "shape"),
        (np.full(4, np.nan), "finite"),
        (np.array([0.0, 0.0, 2.0, 0.0]), "2 at index 2"),
        ("abcd", "numeric"),
    ],
)
def test_bad_controls_are_refused_and_not_applied(theta: object, message: str) -> None:
    s = Biased()
    s.set_controls([0.1, 0.2, 0.3, 0.4])
    with pytest.raises(PhysicalInputError, match=message):
        s.set_controls(theta)
    assert np.array_equal(s.get_controls(), [0.1, 0.2, 0.3, 0.4])
    assert s.describe()["controls"] == {"size": 4, "domain": "[-1, 1]", "description": "offsets"}


@attrs.define(kw_only=True, eq=False)
class Ignores(Biased):
    """Declares controls but the physics ignores them."""

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x @ self._m)


@attrs.define(kw_only=True, eq=False)
class LiveView(Biased):
    """get_controls hands out its internal array and set_controls writes into it."""

    def _set_controls(self, theta: np.ndarray) -> None:
        self._theta[...] = theta

    def get_controls(self) -> np.ndarray:
        return self._theta


@attrs.define(kw_only=True, eq=False)
class Random(Biased):
    """Controls are applied with a fresh random jitter each time (not deterministic)."""

    def _set_controls(self, theta: np.ndarray) -> None:
        self._theta = theta + np.random.default_rng().normal(0, 1e-3, theta.shape)


@attrs.define(kw_only=True, eq=False)
class Phased(Biased):
    """Periodic controls: ``y = tanh(x @ M + sin(theta))``, theta in ``[0, 2 pi]``."""

    @property
    def controls(self) -> Controls | None:
        return Controls(4, Interval(0.0, 2 * np.pi), "phases", periodic=True)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x @ self._m + np.sin(self._theta))


@attrs.define(kw_only=True, eq=False)
class NotPeriodic(Phased):
    """Declares periodic controls whose two ends act differently."""

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x @ self._m + self._theta / np.pi)


def test_periodic_controls_conform_and_only_on_an_interval() -> None:
    check_system(lambda seed: Phased(seed=seed))
    assert Phased().describe()["controls"]["periodic"] is True
    with pytest.raises(ValueError, match="periodic"):
        Controls(3, Binary(), "bits", periodic=True)


@pytest.mark.parametrize(
    ("cls", "check"),
    [
        (Ignores, "controls_effect"),
        (LiveView, "controls_declaration"),
        (Random, "controls_effect"),
        (NotPeriodic, "controls_periodic"),
    ],
)
def test_broken_controls_fail_their_check(cls: type[Biased], check: str) -> None:
    failed = {r.name for r in run_checks(lambda seed: cls(seed=seed)) if not r.passed}
    assert check in failed
    with pytest.raises(ConformanceError, match=check):
        check_system(lambda seed: cls(seed=seed))


# -- estimators --------------------------------------------------------------------------------
def _quadratic(target: np.ndarray) -> Callable[[np.ndarray], float]:
    def loss(theta: np.ndarray) -> float:
        return float(np.sum((theta - target) ** 2))

    return loss


def test_spsa_descends_a_smooth_loss_from_evaluations_only() -> None:
    spec = Controls(6, Interval(-1.0, 1.0))
    target = np.linspace(-0.6, 0.6, 6)
    ctl = BlockControls(spec, np.zeros(6), ControlSettings("spsa", lr=0.02, perturbation=0.05))
    loss, rng, calls = _quadratic(target), np.random.default_rng(0), []

    def evaluate(theta: np.ndarray) -> float:
        calls.append(theta)
        assert not spec.domain.outside(theta).any()
        return loss(theta)

    start = loss(ctl.theta)
    for _ in range(300):
        ctl.update(evaluate, loss(ctl.theta), rng)
    assert len(calls) == 600  # two evaluations per update, whatever the number of controls
    assert loss(ctl.theta) < 0.05 * start


def test_search_flips_bits_towards_a_target_and_never_accepts_worse() -> None:
    spec = Controls(12, Binary())
    target = (np.arange(12) % 3 == 0).astype(float)
    ctl = BlockControls(spec, np.zeros(12), ControlSettings("search", flips=1))
    loss, rng = _quadratic(target), np.random.default_rng(1)
    history = [loss(ctl.theta)]
    for _ in range(80):
        ctl.update(loss, loss(ctl.theta), rng)
        history.append(loss(ctl.theta))
        assert set(np.unique(ctl.theta)) <= {0.0, 1.0}
    assert all(b <= a for a, b in itertools.pairwise(history))
    assert history[-1] == 0.0


def test_spsa_on_binary_controls_is_refused_with_advice() -> None:
    with pytest.raises(PhyllError, match="physics=search"):
        BlockControls(Controls(3, Binary()), np.zeros(3), ControlSettings("spsa"))


def test_estimator_state_round_trips() -> None:
    spec = Controls(4, Interval(-1.0, 1.0))
    a = BlockControls(spec, np.zeros(4), ControlSettings("spsa"))
    loss, rng = _quadratic(np.full(4, 0.5)), np.random.default_rng(2)
    for _ in range(5):
        a.update(loss, 0.0, rng)
    b = BlockControls(spec, np.zeros(4), ControlSettings("spsa"))
    b.load(a.state("k/"), "k/")
    ra, rb = np.random.default_rng(3), np.random.default_rng(3)
    a.update(loss, 0.0, ra)
    b.update(loss, 0.0, rb)
    assert np.array_equal(a.theta, b.theta) and np.array_equal(a.v, b.v)
