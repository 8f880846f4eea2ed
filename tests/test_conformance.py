"""phyll_core.testing: the conformance suite passes on the built-in systems and fails, with a
message naming the broken check, on deliberately wrong systems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pytest

from phyll_core import Binary, Domain, Interval, PhysicalInputError, PhysicalSystem
from phyll_core.builtin_systems import NONLINEARITIES, Identity, RandomFeatures
from phyll_core.errors import PhyllError
from phyll_core.factory import build_system
from phyll_core.system import SeededNoise
from phyll_core.testing import ConformanceError, check_system, run_checks


def test_identity_conforms() -> None:
    check_system(lambda seed: Identity(dim=5))


@pytest.mark.parametrize("nonlinearity", sorted(NONLINEARITIES))
def test_random_features_conforms(nonlinearity: str) -> None:
    check_system(
        lambda seed: build_system("random-features", {"seed": seed, "nonlinearity": nonlinearity})
    )


def test_every_check_runs_and_passes_on_a_drifting_system() -> None:
    results = run_checks(lambda seed: RandomFeatures(seed=seed, inputs=4, outputs=3))
    assert [r.name for r in results] == [
        "declaration",
        "forward_shapes",
        "determinism",
        "noise_generator",
        "input_validation",
        "query_counter",
        "perturb",
        "controls_declaration",
        "controls_effect",
        "controls_periodic",
        "controls_validation",
    ]
    assert all(r.passed for r in results), results


# -- deliberately wrong systems ---------------------------------------------------------------
@attrs.define(kw_only=True, eq=False)
class Base(PhysicalSystem):
    """A correct little system (y = x^2 on [0, 1]^3 -> 2 outputs, optional drift) that the
    wrong variants below break in one way each."""

    name = "base"
    seed: int = 0
    _gain: float = attrs.field(init=False, default=1.0)

    @property
    def input_dim(self) -> int:
        return 3

    @property
    def output_dim(self) -> int:
        return 2

    @property
    def domain(self) -> Domain:
        return Interval(0.0, 1.0)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return self._gain * (x[:, :2] ** 2 + 0.1 * self.seed)


@attrs.define(kw_only=True, eq=False)
class WrongShape(Base):
    name = "wrong-shape"

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return x  # three columns, declared two


@attrs.define(kw_only=True, eq=False)
class NaNOutput(Base):
    name = "nan-output"

    def _forward(self, x: np.ndarray) -> np.ndarray:
        y = x[:, :2].copy()
        y[-1, 0] = np.nan
        return y


@attrs.define(kw_only=True, eq=False)
class NotDeterministic(Base):
    name = "not-deterministic"

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return x[:, :2] + np.random.default_rng().normal(size=(x.shape[0], 2))  # unseeded


@attrs.define(kw_only=True, eq=False)
class MutatesInput(Base):
    name = "mutates-input"

    def _forward(self, x: np.ndarray) -> np.ndarray:
        x *= 0.5  # in place: the caller's array changes
        return x[:, :2]


@attrs.define(kw_only=True, eq=False)
class NotValidating(Base):
    name = "not-validating"

    def forward(self, x: Any) -> np.ndarray:  # bypasses the core's validation and counting
        arr = np.asarray(x, dtype=np.float64)
        return np.nan_to_num(np.atleast_2d(arr))[:, :2]


@attrs.define(kw_only=True, eq=False)
class CountsTwice(Base):
    name = "counts-twice"

    def _forward(self, x: np.ndarray) -> np.ndarray:
        self.queries.add(x.shape[0])
        return x[:, :2]


@attrs.define(kw_only=True, eq=False)
class DriftAtZero(Base):
    name = "drift-at-zero"

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        self._gain *= 1.0 + rng.uniform(0.1, 0.2)  # ignores the strength


@attrs.define(kw_only=True, eq=False)
class UnseededDrift(Base):
    name = "unseeded-drift"

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        self._gain *= 1.0 + strength * np.random.default_rng().uniform()


@attrs.define(kw_only=True, eq=False)
class NoName(Base):
    name = "system"


@attrs.define(kw_only=True, eq=False)
class BinaryAcceptsHalf(Base):
    name = "binary-accepts-half"

    @property
    def domain(self) -> Domain:
        return Binary()

    def validate_input(self, x: Any) -> np.ndarray:  # lets values outside the domain through
        try:
            return super().validate_input(x)
        except PhysicalInputError as exc:
            if "expects inputs in" not in str(exc):
                raise
            return np.asarray(x, dtype=np.float64)


@attrs.define(kw_only=True, eq=False)
class SeededNoisy(SeededNoise, Base):
    """Read-out noise from its own seeded generator: conforms."""

    name = "seeded-noisy"
    _noise_rng: np.random.Generator = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._noise_rng = np.random.default_rng(self.seed)

    @property
    def noisy(self) -> bool:
        return True

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return super()._forward(x) + 0.01 * self._noise_rng.standard_normal((x.shape[0], 2))


@attrs.define(kw_only=True, eq=False)
class NoiseElsewhere(SeededNoisy):
    """Exposes a noise generator but draws part of its noise from another one."""

    name = "noise-elsewhere"
    _other: np.random.Generator = attrs.field(init=False, repr=False, factory=np.random.default_rng)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return super()._forward(x) + 0.01 * self._other.standard_normal((x.shape[0], 2))


WRONG: list[tuple[type[Base], str, str]] = [
    (WrongShape, "forward_shapes", "returned shape"),
    (NaNOutput, "forward_shapes", "non-finite"),
    (NotDeterministic, "determinism", "same seed, different outputs"),
    (MutatesInput, "forward_shapes", "modified its input"),
    (NotValidating, "input_validation", "was accepted; expected PhysicalInputError"),
    (CountsTwice, "query_counter", "calls=4"),
    (DriftAtZero, "perturb", "perturb(0) changed outputs"),
    (UnseededDrift, "perturb", "same seed gave different systems"),
    (NoName, "declaration", "set the class attribute 'name'"),
    (NoiseElsewhere, "noise_generator", "some noise does not come from noise_generator"),
    (BinaryAcceptsHalf, "input_validation", "outside the domain was accepted"),
]


@pytest.mark.parametrize(("cls", "check", "message"), WRONG, ids=[w[0].__name__ for w in WRONG])
def test_wrong_system_fails_with_a_clear_message(
    cls: type[Base], check: str, message: str
) -> None:
    make: Callable[[int], PhysicalSystem] = lambda seed: cls(seed=seed)  # noqa: E731
    with pytest.raises(ConformanceError) as info:
        check_system(make)
    text = str(info.value)
    assert text.startswith(f"system '{cls.name}' failed ")
    assert f"  - {check}: " in text, text
    assert message in text, text


def test_the_correct_base_passes() -> None:
    check_system(lambda seed: Base(seed=seed))


def test_a_system_with_seeded_noise_passes_and_lends_its_generator() -> None:
    check_system(lambda seed: SeededNoisy(seed=seed))
    system = SeededNoisy(seed=0)
    assert system.noise_generator is system._noise_rng
    other = np.random.default_rng(5)
    system.use_noise_generator(other)
    assert system.noise_generator is other
    with pytest.raises(PhyllError, match="no simulated noise"):
        Base(seed=0).use_noise_generator(other)


def test_a_factory_that_cannot_build_is_reported() -> None:
    def make(seed: int) -> PhysicalSystem:
        raise RuntimeError("no instrument connected")

    results = run_checks(make)
    assert [(r.name, r.passed) for r in results] == [("construction", False)]
    with pytest.raises(ConformanceError, match="construction: RuntimeError: no instrument"):
        check_system(make)


def test_a_factory_returning_something_else_is_reported() -> None:
    with pytest.raises(ConformanceError) as info:
        check_system(lambda seed: object())  # type: ignore[arg-type,return-value]
    expected = "construction: TypeError: make(0) returned object, not a PhysicalSystem"
    assert expected in str(info.value)
