"""In-situ training of physical controls inside the PhyLL rules: per-block controls on a shared
system, separate query counting, readable refusals, exact resume from a checkpoint."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from phyll_core import Binary, Interval, PhysicalSystem
from phyll_core.domain import Domain
from phyll_core.engine import Problem, TrainConfig
from phyll_core.engine.phyll_rules import PhyLL
from phyll_core.errors import PhyllError
from phyll_core.system import Controls
from tests.engine.conftest import train_and_resume


@attrs.define(kw_only=True, eq=False)
class Offsets(PhysicalSystem):
    """``y = tanh(3 x @ M + 0.3 theta)`` with 8 control offsets in [-1, 1] (or bits)."""

    name = "offsets"
    seed: int = 0
    binary: bool = False
    _m: np.ndarray = attrs.field(init=False)
    _theta: np.ndarray = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._m = np.random.default_rng(self.seed).standard_normal((6, 8)) / np.sqrt(6)
        self._theta = np.zeros(8)

    @property
    def input_dim(self) -> int:
        return 6

    @property
    def output_dim(self) -> int:
        return 8

    @property
    def domain(self) -> Domain:
        return Interval(0.0, 1.0)

    @property
    def controls(self) -> Controls | None:
        return Controls(8, Binary() if self.binary else Interval(-1.0, 1.0), "offsets")

    def _get_controls(self) -> np.ndarray:
        return self._theta

    def _set_controls(self, theta: np.ndarray) -> None:
        self._theta = theta

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(3.0 * x @ self._m + 0.3 * self._theta)


def _data(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, 4))
    return x, (x[:, 0] * x[:, 1] > 0).astype(int) + 2 * (x[:, 2] > 0)


def _rule(physics: str, system: PhysicalSystem) -> PhyLL:
    rule = PhyLL(negatives="random", physics=physics)
    rule.init(Problem(n_features=4, n_classes=4, systems=[system], blocks=2, width=8, seed=1))
    return rule


@pytest.mark.parametrize(("physics", "binary"), [("spsa", False), ("search", True)])
def test_each_block_trains_its_own_controls_on_one_shared_system(
    physics: str, binary: bool
) -> None:
    system = Offsets(binary=binary)
    rule = _rule(physics, system)
    x, y = _data()
    rng = np.random.default_rng(0)
    for _ in range(30):
        rule.step(x, y, rng)
    thetas = [b.controls.theta for b in rule.blocks if b.controls is not None]
    assert len(thetas) == 2
    assert all(not system.controls.domain.outside(t).any() for t in thetas)
    if physics == "spsa":  # (greedy search may rightly keep the start on this toy)
        assert all(np.any(t != 0) for t in thetas), "no block changed its controls"
        assert not np.array_equal(thetas[0], thetas[1]), "the blocks share one setting"
    # SPSA: 2 evaluations per update, search: 1; each evaluation is 2n rows
    per_update = (2 if physics == "spsa" else 1) * 2 * x.shape[0]
    assert rule.control_queries() == 30 * 2 * per_update
    assert system.queries.samples == rule.control_queries() + 30 * 2 * 2 * x.shape[0]
    # a prediction sets each block's controls itself: what the system holds does not matter
    expected = rule.predict(x, "goodness")
    system.set_controls(np.ones(8) if binary else -np.ones(8))
    assert np.array_equal(rule.predict(x, "goodness"), expected)


def test_frozen_controls_are_left_alone() -> None:
    system = Offsets()
    system.set_controls(np.full(8, 0.25))
    rule = _rule("none", system)
    x, y = _data()
    rule.step(x, y, np.random.default_rng(0))
    assert all(b.controls is None for b in rule.blocks) and rule.control_queries() == 0
    assert np.array_equal(system.get_controls(), np.full(8, 0.25))
    assert not any("controls" in k for k in rule.state_dict())


def test_readable_refusals() -> None:
    from phyll_core.builtin_systems import Identity

    with pytest.raises(PhyllError, match="declares none"):
        _rule("spsa", Identity(dim=6))
    with pytest.raises(PhyllError, match="physics=search"):
        _rule("spsa", Offsets(binary=True))
    with pytest.raises(PhyllError, match="physics must be one of"):
        PhyLL(physics="adam")


def test_cli_trains_controls_and_reports_their_queries() -> None:
    pytest.importorskip("phyll_optical")
    from phyll_core.engine import train

    summary = train(
        TrainConfig(
            system=["optical"], dataset="circles", params={"phase_mask": True}, epochs=2,
            rule_params={"physics": "spsa"},
        )
    )
    assert 0 < summary["control_queries"] < summary["physical_queries"]


def test_resume_from_a_checkpoint_is_exact_with_trained_controls(tmp_path) -> None:
    pytest.importorskip("phyll_optical")
    config = TrainConfig(
        system=["optical"], dataset="circles", params={"phase_mask": True}, epochs=4,
        rule_params={"physics": "spsa", "negatives": "random"}, eval_every=100,
    )
    full, resumed = train_and_resume(config, tmp_path / "ckpt")
    a, b = full.rule.state_dict(), resumed.rule.state_dict()
    assert set(a) == set(b) and any("controls/theta" in k for k in a)
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert resumed.control_queries == full.control_queries > 0
    assert resumed.physical_queries == full.physical_queries


def test_trained_and_frozen_runs_draw_the_same_negatives() -> None:
    x, y = _data()
    states = []
    for physics in ("none", "spsa"):
        rule, rng = _rule(physics, Offsets()), np.random.default_rng(3)
        for _ in range(3):
            rule.step(x, y, rng)
        states.append(rng.bit_generator.state["state"])
    assert states[0] == states[1]


@attrs.define(kw_only=True, eq=False)
class Inert(Offsets):
    """Declares controls that do nothing: every proposal ties, so none is accepted."""

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(3.0 * x @ self._m)


@pytest.mark.parametrize("cls", [Inert, Offsets])
def test_search_keeps_the_frozen_weights_unless_a_proposal_wins(cls: type[Offsets]) -> None:
    x, y = _data()
    rules = {}
    for physics in ("none", "search"):
        rule, rng = _rule(physics, cls(binary=True)), np.random.default_rng(4)
        for _ in range(4):
            rule.step(x, y, rng)
        rules[physics] = rule
    searched = [b.controls for b in rules["search"].blocks]
    assert all(c is not None for c in searched)
    if cls is Inert:  # rejected proposals leave the weights exactly as in the frozen run
        assert all(c.accepted == 0 and not c.theta.any() for c in searched if c)
        for a, b in zip(rules["none"].blocks, rules["search"].blocks, strict=True):
            assert np.array_equal(a.params["W"], b.params["W"])
    else:  # on this toy some flips win on their refitted loss
        assert any(c.accepted and c.theta.any() for c in searched if c)
    assert rules["search"].total_flops() > rules["none"].total_flops()  # refits are counted
