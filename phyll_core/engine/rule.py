"""The learning-rule contract and the problem description every rule receives.

A learning rule is built by its registered factory (``RuleSpec.factory(**rule_params)``) and
then driven by the trainer, in the spirit of optax's (init, update) pairs:

1. ``init(problem)`` builds every trainable array from ``problem.rng(...)`` streams (same seed,
   same arrays);
2. ``step(x, y, rng)`` trains on one batch of standardised rows ``x`` with labels ``y`` and
   returns named scalar metrics (e.g. the loss of each block); randomness only from ``rng``;
3. ``fit_readout(x, y)`` is called after training (and before each evaluation) so that rules
   with a trained readout can fit it (the methods that need it are listed in ``fitted``);
4. ``predict(x, method)`` returns labels; ``methods`` lists the methods the rule supports
   (``goodness``, ``readout``, ``direct``), the first being its default;
5. ``state_dict()`` / ``load_state_dict(d)`` hold every array needed to resume or predict
   (weights, optimiser moments, fixed random vectors), as a flat ``{name: ndarray}``.

``flops`` accumulates an estimate of the digital floating-point operations (multiply-adds
count 2) of training and prediction. Physical queries are counted by the systems themselves.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar

import attrs
import numpy as np

from phyll_core.engine.config import DITHER, REDUCE, WHITEN
from phyll_core.system import PhysicalSystem


@attrs.define(eq=False)
class Problem:
    """Everything a rule needs to build a network: data sizes, systems, hyper-parameters."""

    n_features: int
    n_classes: int
    systems: Sequence[PhysicalSystem]
    blocks: int = 2
    width: int = 64
    skip: bool = True
    project: bool = True
    encoder: str = "offset"
    standardise: bool = True
    whiten: float = WHITEN
    """Fraction of the standardised outputs' variance kept by whitened principal components
    (0: off; :class:`phyll_core.engine.network.PhysicalLayer`)."""
    reduce: bool | None = REDUCE
    """Outputs wider than the system's input enter ``z`` through at most ``input_dim`` whitened
    principal components (:class:`phyll_core.engine.network.PhysicalLayer`); ``None``: when
    ``skip`` is on (:attr:`reduces`)."""
    dither: float = DITHER
    """Standard deviation, in input steps, of the noise added to the encoded inputs of
    training passes (a system with a quantised input only; 0: off;
    :class:`phyll_core.engine.network.PhysicalLayer`)."""
    labels: str = "physical"
    lr: Sequence[float] = (1e-2,)
    weight_decay: float = 0.0
    inner_steps: int = 10
    goodness: str = "cosine"
    objective: str = "softplus-delta"
    objective_params: dict[str, Any] = attrs.field(factory=dict)
    label_constant: float = 1.0
    seed: int = 0
    dtype: str = "float64"
    kernel: str = "numpy"
    """Inner-step kernel (:data:`phyll_core.engine.config.KERNELS`)."""

    @property
    def reduces(self) -> bool:
        """Whether wide outputs are reduced: ``reduce``, or with ``None`` whether ``skip`` is on."""
        return self.skip if self.reduce is None else self.reduce

    def rng(self, *stream: int) -> np.random.Generator:
        """An independent generator for the named stream (derived from the seed)."""
        return np.random.default_rng([self.seed, *stream])

    def system(self, block: int) -> PhysicalSystem:
        """The system of ``block`` (the last one repeats when fewer are given)."""
        return self.systems[min(block, len(self.systems) - 1)]

    def lr_of(self, block: int) -> float:
        """Learning rate of ``block`` (the last given value repeats)."""
        return float(self.lr[min(block, len(self.lr) - 1)])


class LearningRule(abc.ABC):
    """Base class of learning rules (see the module docstring for the contract)."""

    name: ClassVar[str] = "rule"
    methods: ClassVar[tuple[str, ...]] = ("goodness",)
    fitted: ClassVar[tuple[str, ...]] = ()
    """The methods that need :meth:`fit_readout` on the training data before predicting."""

    def __init__(self) -> None:
        self.flops = 0.0
        self.problem: Problem | None = None

    @abc.abstractmethod
    def init(self, problem: Problem) -> None:
        """Build all arrays for ``problem``."""

    @abc.abstractmethod
    def step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        """Train on one batch; return named metrics (losses)."""

    def fit_readout(self, x: np.ndarray, y: np.ndarray) -> None:  # noqa: B027 - optional
        """Fit what the :attr:`fitted` methods need (a readout) on the training data."""

    def shared_scoring(self) -> AbstractContextManager[None]:
        """A context in which predictions of the same rows by several methods may share their
        physical passes (one evaluation); outside it every call measures afresh."""
        return nullcontext()

    @abc.abstractmethod
    def predict(self, x: np.ndarray, method: str) -> np.ndarray:
        """Labels for rows ``x`` using ``method`` (one of :attr:`methods`)."""

    @abc.abstractmethod
    def state_dict(self) -> dict[str, np.ndarray]:
        """Every array needed to resume training or to predict."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore the arrays returned by :meth:`state_dict` (after :meth:`init`)."""

    def total_flops(self) -> float:
        """Digital floating-point operations so far (estimate)."""
        return self.flops

    def describe(self) -> dict[str, Any]:
        """Rule-specific facts for the run's metadata."""
        return {}
