"""The PhysicalSystem boundary: input and output validation, query counting, perturb, domains,
and building systems from the registry."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from phyll_core import (
    Binary,
    Domain,
    Interval,
    Param,
    PhysicalInputError,
    PhysicalOutputError,
    PhysicalSystem,
    PluginError,
    SystemSpec,
)
from phyll_core.builtin_systems import Identity, RandomFeatures


@attrs.define(kw_only=True, eq=False)
class Bits(PhysicalSystem):
    """Parity-like toy on 4 bits -> 2 outputs; ``bad`` makes it return a bad output."""

    name = "bits"
    bad: str = ""

    @property
    def input_dim(self) -> int:
        return 4

    @property
    def output_dim(self) -> int:
        return 2

    @property
    def domain(self) -> Domain:
        return Binary()

    def _forward(self, x: np.ndarray) -> np.ndarray:
        y = np.stack([x.sum(axis=1) % 2, x[:, 0] * x[:, 1]], axis=1)
        if self.bad == "shape":
            return y[:, :1]
        if self.bad == "inf":
            y[0, 1] = np.inf
        if self.bad == "text":
            return np.full(y.shape, "x")
        return y


# -- inputs -----------------------------------------------------------------------------------
def _with(value: float, row: int, col: int) -> np.ndarray:
    x = np.full((3, 20), 0.5)
    x[row, col] = value
    return x


@pytest.mark.parametrize(
    ("value", "needles"),
    [
        (np.zeros((3, 5)), ["(batch, 20)", "[0, 1]", "got shape (3, 5)"]),
        (np.zeros(20), ["got shape (20,)"]),
        (np.zeros((0, 20)), ["got shape (0, 20)"]),
        (np.zeros((2, 20, 1)), ["got shape (2, 20, 1)"]),
        ([["a"] * 20], ["not numeric"]),
        (_with(np.nan, 1, 2), ["finite", "got nan at row 1, column 2"]),
        (_with(-np.inf, 2, 0), ["finite", "got -inf at row 2, column 0"]),
        (_with(1.5, 0, 7), ["in [0, 1]", "got 1.5 at row 0, column 7 (1 values outside)"]),
        (_with(-0.01, 2, 19), ["in [0, 1]", "got -0.01 at row 2, column 19"]),
    ],
)
def test_bad_inputs_are_refused_naming_system_expectation_and_value(
    value: object, needles: list[str]
) -> None:
    system = Identity()
    with pytest.raises(PhysicalInputError) as info:
        system.forward(value)
    message = str(info.value)
    assert message.startswith("system 'identity' expects")
    for needle in needles:
        assert needle in message, message
    assert system.queries.calls == 0 and system.queries.samples == 0


def test_binary_domain_refuses_fractions() -> None:
    with pytest.raises(PhysicalInputError, match=r"expects inputs in \{0, 1\}; got 0.5"):
        Bits().forward([[0, 1, 0.5, 1]])
    np.testing.assert_array_equal(Bits().forward([[1, 1, 0, 1]]), [[1.0, 1.0]])


def test_accepts_lists_and_ints_and_returns_float64() -> None:
    y = Identity(dim=2).forward([[0, 1], [1, 0]])
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [[0.0, 1.0], [1.0, 0.0]])


def test_domain_edges_are_inside() -> None:
    Identity(dim=2).forward([[0.0, 1.0]])


# -- outputs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ("shape", "returned shape (3, 1); the contract says (3, 2)"),
        ("inf", "returned 1 non-finite output values"),
        ("text", "non-numeric output"),
    ],
)
def test_bad_outputs_are_never_used(bad: str, needle: str) -> None:
    with pytest.raises(PhysicalOutputError, match="system 'bits'") as info:
        Bits(bad=bad).forward(np.ones((3, 4)))
    assert needle in str(info.value)


# -- counting, calling, drift -----------------------------------------------------------------
def test_query_counter() -> None:
    system = Identity(dim=3)
    system.forward(np.zeros((5, 3)))
    system(np.zeros((2, 3)))  # __call__ is forward
    assert (system.queries.calls, system.queries.samples) == (2, 7)
    system.queries.reset()
    assert (system.queries.calls, system.queries.samples) == (0, 0)


def test_perturb_contract() -> None:
    x = np.full((4, 20), 0.3)
    system = RandomFeatures(seed=1)
    before = system.forward(x)
    system.perturb(0.0, 5)
    np.testing.assert_array_equal(system.forward(x), before)
    system.perturb(0.5, np.random.default_rng(5))
    assert not np.allclose(system.forward(x), before)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="strength"):
            system.perturb(bad)


def test_systems_without_drift_say_so() -> None:
    assert not Identity().can_perturb and RandomFeatures().can_perturb
    with pytest.raises(NotImplementedError, match="'identity' does not model drift"):
        Identity().perturb(0.1)


def test_describe() -> None:
    from phyll_core.factory import build_system

    info = build_system("random-features", ["outputs=3"]).describe()
    assert info["name"] == "random-features"
    assert (info["input_dim"], info["output_dim"], info["domain"]) == (20, 3, "[0, 1]")
    assert info["perturb"] is True
    assert info["params"]["outputs"] == 3 and info["params"]["nonlinearity"] == "tanh"


def test_random_features_is_seeded() -> None:
    x = np.random.default_rng(0).uniform(size=(8, 20))
    a, b, c = (RandomFeatures(seed=s).forward(x) for s in (3, 3, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_cos_random_features_uses_an_offset() -> None:
    x = np.zeros((1, 20))
    assert not np.allclose(RandomFeatures(nonlinearity="cos").forward(x), 1.0)
    np.testing.assert_array_equal(RandomFeatures(nonlinearity="tanh").forward(x), 0.0)


# -- domains ----------------------------------------------------------------------------------
def test_interval() -> None:
    dom = Interval(-1.0, 2.0)
    sample = dom.sample(np.random.default_rng(0), (1000, 3))
    assert sample.shape == (1000, 3) and sample.min() >= -1 and sample.max() <= 2
    assert dom.outside(np.array([-1.0, -1.01, 2.0, 2.01])).tolist() == [False, True, False, True]
    assert dom.describe() == "[-1, 2]" and dom.kind == "interval"
    for low, high in ((1.0, 1.0), (2.0, 1.0), (0.0, float("inf"))):
        with pytest.raises(ValueError, match="finite low < high"):
            Interval(low, high)


def test_binary() -> None:
    sample = Binary().sample(np.random.default_rng(0), (200, 4))
    assert set(np.unique(sample)) == {0.0, 1.0} and sample.dtype == np.float64
    assert Binary().describe() == "{0, 1}" and Binary().kind == "binary"


# -- factory ----------------------------------------------------------------------------------
def test_build_system_from_mapping_or_assignments() -> None:
    from phyll_core.factory import build_system

    a = build_system("random-features", {"inputs": 4, "nonlinearity": "abs"})
    b = build_system("random-features", ["inputs=4", "nonlinearity=abs"])
    assert a.input_dim == b.input_dim == 4 and a.params == b.params
    assert a.params == {
        "inputs": 4, "outputs": 20, "nonlinearity": "abs", "scale": 3.0, "seed": 0
    }


def test_factory_returning_a_non_system_is_a_plugin_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from phyll_core import plugins
    from phyll_core.factory import build_system

    host = plugins.Host(warn=lambda message: None)
    host.systems.add(
        SystemSpec("not-a-system", lambda n: [n], "Returns a list.", (Param("n", "int", 1),)),
        "phyll-bad",
        "0.1",
    )
    monkeypatch.setattr(plugins, "_HOST", host)
    with pytest.raises(PluginError) as info:
        build_system("not-a-system")
    assert str(info.value) == (
        "plugin 'phyll-bad': factory of system 'not-a-system' returned list, not a PhysicalSystem"
    )
