"""The trainer: builds a run from a :class:`TrainConfig`, trains it epoch by epoch, evaluates.

Reproducibility: every random choice comes from ``seed`` (split, initial weights, fixed random
vectors) or from the per-epoch stream ``default_rng([seed, 2, epoch])`` (batch order,
negative labels), so a resumed run continues exactly like an uninterrupted one. A simulator's
measurement noise (:attr:`~phyll_core.system.PhysicalSystem.noise_generator`) comes from its
own seed in training passes, and from ``default_rng([seed, 3, epoch])`` in the evaluation
after epoch ``epoch``: how often a run is evaluated does not change its training. An interrupted
epoch (Ctrl-C) is dropped: weights, optimiser state and query counters return to the end of
the last completed epoch.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import numpy as np

from phyll_core.datasets import Split, load, split
from phyll_core.engine.config import TrainConfig
from phyll_core.engine.rule import LearningRule, Problem
from phyll_core.errors import PhyllError
from phyll_core.system import PhysicalSystem

MAX_BATCH = 1024


@attrs.define
class EpochMetrics:
    """Metrics of one epoch; accuracies are ``None`` on epochs that were not evaluated.
    ``physical_queries`` and ``flops`` are cumulative; ``train_seconds`` covers the training
    steps of this epoch only, ``seconds`` the whole run so far. ``control_queries`` (cumulative,
    part of ``physical_queries``) are the rows sent only to train physical controls."""

    epoch: int
    losses: dict[str, float]
    train_accuracy: float | None
    test_accuracy: float | None
    physical_queries: int
    flops: float
    train_seconds: float
    seconds: float
    control_queries: int = 0

    def row(self) -> dict[str, Any]:
        out: dict[str, Any] = {"epoch": self.epoch, **self.losses}
        out.update(
            train_accuracy=self.train_accuracy,
            test_accuracy=self.test_accuracy,
            physical_queries=self.physical_queries,
            control_queries=self.control_queries,
            flops=self.flops,
            train_seconds=self.train_seconds,
            seconds=self.seconds,
        )
        return out


def blas_threads() -> int:
    """BLAS threads used while training: ``PHYLL_BLAS_THREADS``, default 1. The engine's
    matrices are small (a batch times a block width), where BLAS threading costs more in
    synchronisation than it gains, and badly so on a busy machine (measured: 61 ms per epoch
    with default threads against 17 ms with one, published vowel configuration, load 6)."""
    import os

    raw = os.environ.get("PHYLL_BLAS_THREADS", "1")
    try:
        return max(1, int(raw))
    except ValueError:
        raise PhyllError(f"PHYLL_BLAS_THREADS must be a whole number, got {raw!r}") from None


def blas_limit() -> Any:
    """Context manager limiting BLAS to :func:`blas_threads` threads."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=blas_threads(), user_api="blas")


def label_constant(x_train: np.ndarray) -> float:
    """The label-slot constant ``m``: the 99th percentile of |x| over the standardised training
    features, fixed once. (The plain maximum lets one outlier feature, e.g. a nearly constant
    pixel of ``digits`` at 38 standard deviations, dwarf every other input of the physics.)"""
    return float(np.percentile(np.abs(x_train), 99))


_measure_label_constant = label_constant  # Run's argument of that name shadows it


def build_rule(name: str, params: dict[str, Any]) -> LearningRule:
    """Build the registered learning rule ``name`` with ``params`` checked against its schema."""
    from phyll_core.params import resolve
    from phyll_core.plugins import get_host

    entry = get_host().rules.get(name)
    rule = entry.spec.factory(**resolve(entry.spec.params, params, f"rule '{name}'"))
    if not isinstance(rule, LearningRule):
        raise PhyllError(f"rule '{name}' factory returned {type(rule).__name__}")
    return rule


def build_systems(config: TrainConfig) -> list[PhysicalSystem]:
    """One system per name in ``config.system`` (one name: the same instance for all blocks)."""
    from phyll_core.factory import build_system

    built: dict[str, PhysicalSystem] = {}
    systems = []
    for name in config.system:
        if name not in built:
            built[name] = build_system(name, config.params)
        systems.append(built[name])
    return systems


class Run:
    """A training run: data split, systems, learning rule and metric history."""

    def __init__(
        self, config: TrainConfig, data: Split | None = None, label_constant: float | None = None
    ) -> None:
        """``data`` replaces loading and splitting ``config.dataset``; ``label_constant`` the
        constant measured on its training part (a checkpoint loaded without its data)."""
        self.config = config
        self.data = data or split(
            load(config.dataset, **config.dataset_options), config.seed, config.test_fraction
        )
        self.systems = build_systems(config)
        self.rule = build_rule(config.rule, dict(config.rule_params))
        method = config.predict or self.rule.methods[0]
        if method not in self.rule.methods:
            raise PhyllError(
                f"rule '{config.rule}' predicts with {', '.join(self.rule.methods)}, not '{method}'"
            )
        self.method = method
        self.problem = Problem(
            n_features=self.data.x_train.shape[1],
            n_classes=self.data.n_classes,
            systems=self.systems,
            blocks=config.blocks,
            width=config.width,
            skip=config.skip,
            project=config.project,
            encoder=config.encoder,
            standardise=config.standardise,
            whiten=config.whiten,
            reduce=config.reduce,
            dither=config.dither,
            labels=config.labels,
            dtype=config.dtype,
            kernel=config.kernel,
            lr=config.lr,
            weight_decay=config.weight_decay,
            inner_steps=config.inner_steps,
            goodness=config.loss,
            objective=config.objective,
            objective_params={"theta": config.theta},
            label_constant=(
                _measure_label_constant(self.data.x_train)
                if label_constant is None
                else label_constant
            ),
            seed=config.seed,
        )
        self.rule.init(self.problem)
        self.history: list[EpochMetrics] = []
        self._final_eval: tuple[int, dict[str, dict[str, float]]] | None = None
        self.query_offset = 0
        self.seconds_offset = 0.0
        self.interrupted = False
        self._start = time.perf_counter()
        self._best_loss = math.inf
        self._stale = 0

    # -- counters ---------------------------------------------------------------------------
    def unique_systems(self) -> list[PhysicalSystem]:
        seen: dict[int, PhysicalSystem] = {}
        for s in self.systems:
            seen.setdefault(id(s), s)
        return list(seen.values())

    @property
    def physical_queries(self) -> int:
        """Samples sent to the physical systems (training and evaluation), cumulative."""
        return self.query_offset + sum(s.queries.samples for s in self.unique_systems())

    @property
    def control_queries(self) -> int:
        """Rows sent to the systems only to train physical controls (part of
        :attr:`physical_queries`; 0 for rules that train none)."""
        counter = getattr(self.rule, "control_queries", None)
        return int(counter()) if callable(counter) else 0

    @property
    def output_refreshes(self) -> int:
        """How often a training pass found a physical layer's outputs off the scale its
        standardisation was fixed for (the system drifted) and measured it again, summed over
        the rule's layers (checkpointed: a resumed run counts on)."""
        rule = self.rule
        layers = [getattr(b, "layer", None) for b in getattr(rule, "blocks", [])]
        others = getattr(rule, "layers", None)  # the twin rules keep their layers in a list
        if not layers and isinstance(others, list | tuple):
            layers = list(others)
        return sum(int(getattr(layer, "refreshes", 0)) for layer in layers)

    @property
    def epoch(self) -> int:
        """Number of completed epochs."""
        return self.history[-1].epoch if self.history else 0

    @property
    def seconds(self) -> float:
        return self.seconds_offset + time.perf_counter() - self._start

    # -- training -----------------------------------------------------------------------------
    def _batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        n = self.data.y_train.size
        size = self.config.batch_size or min(n, MAX_BATCH)
        order = rng.permutation(n)
        return [order[i : i + size] for i in range(0, n, size)]

    def train_epoch(self) -> EpochMetrics:
        """Train one epoch, evaluate if due, append and return its metrics."""
        epoch = self.epoch + 1
        rng = np.random.default_rng([self.config.seed, 2, epoch])
        losses: dict[str, list[float]] = {}
        start = time.perf_counter()
        for idx in self._batches(rng):
            x = self.data.x_train[idx].astype(self.config.dtype, copy=False)
            for k, v in self.rule.step(x, self.data.y_train[idx], rng).items():
                losses.setdefault(k, []).append(v)
        train_seconds = time.perf_counter() - start
        train_acc = test_acc = None
        if epoch == self.config.epochs:  # the last epoch: every method, kept for summary()
            by_method = self.evaluate_all(epoch)
            self._final_eval = (epoch, by_method)
            train_acc = by_method[self.method]["train_accuracy"]
            test_acc = by_method[self.method]["test_accuracy"]
        elif epoch % self.config.eval_interval == 0:
            with self._evaluation_noise(epoch):
                train_acc, test_acc = self._accuracy(self.method)
        metrics = EpochMetrics(
            epoch=epoch,
            losses={k: float(np.mean(v)) for k, v in losses.items()},
            train_accuracy=train_acc,
            test_accuracy=test_acc,
            physical_queries=self.physical_queries,
            control_queries=self.control_queries,
            flops=self.rule.total_flops(),
            train_seconds=train_seconds,
            seconds=self.seconds,
        )
        self.history.append(metrics)
        return metrics

    @contextlib.contextmanager
    def _evaluation_noise(self, epoch: int | None = None) -> Iterator[None]:
        """Evaluation passes after epoch ``epoch`` (default: the last completed one) draw the
        systems' simulated noise from ``default_rng([seed, 3, epoch])``; the training noise
        generators are put back afterwards, untouched."""
        key = self.epoch if epoch is None else epoch
        saved = []
        try:
            for system in self.unique_systems():
                rng = system.noise_generator
                if rng is not None:
                    saved.append((system, rng))
                    system.use_noise_generator(
                        np.random.default_rng([self.config.seed, 3, key, len(saved)])
                    )
            yield
        finally:
            for system, rng in saved:
                system.use_noise_generator(rng)

    def accuracy(self, method: str, fit: bool = True) -> tuple[float, float]:
        """(train, test) accuracy with ``method`` (with ``fit``, fits the readout first when
        the method needs it); the passes draw their noise from the evaluation stream."""
        with self._evaluation_noise():
            return self._accuracy(method, fit)

    def _accuracy(self, method: str, fit: bool = True) -> tuple[float, float]:
        if fit and method in self.rule.fitted:
            self.rule.fit_readout(self.data.x_train, self.data.y_train)
        d, dtype = self.data, self.config.dtype
        train = float(np.mean(self.rule.predict(d.x_train.astype(dtype), method) == d.y_train))
        test = float(np.mean(self.rule.predict(d.x_test.astype(dtype), method) == d.y_test))
        return train, test

    def _should_stop(self, metrics: EpochMetrics) -> bool:
        if not self.config.patience:
            return False
        loss = sum(metrics.losses.values())
        if loss < self._best_loss - 1e-6:
            self._best_loss, self._stale = loss, 0
        else:
            self._stale += 1
        return self._stale >= self.config.patience

    def _snapshot(self) -> tuple[dict[str, np.ndarray], list[tuple[int, int]], float]:
        state = {k: np.array(v, copy=True) for k, v in self.rule.state_dict().items()}
        counts = [(s.queries.calls, s.queries.samples) for s in self.unique_systems()]
        return state, counts, self.rule.flops

    def _restore(self, snap: tuple[dict[str, np.ndarray], list[tuple[int, int]], float]) -> None:
        state, counts, flops = snap
        self.rule.load_state_dict(state)
        for s, (calls, samples) in zip(self.unique_systems(), counts, strict=True):
            s.queries.calls, s.queries.samples = calls, samples
        self.rule.flops = flops

    def train(
        self, epochs: int | None = None, on_epoch: Callable[[EpochMetrics], None] | None = None
    ) -> list[EpochMetrics]:
        """Train until ``epochs`` epochs are complete (default: ``config.epochs``) or early
        stopping; Ctrl-C drops the current epoch, sets :attr:`interrupted` and returns. Any
        other error also drops the current epoch (the run stays at the last completed one,
        ready to save) and propagates."""
        target = self.config.epochs if epochs is None else epochs
        with blas_limit():
            self._train_until(target, on_epoch)
        return self.history

    def _train_until(
        self, target: int, on_epoch: Callable[[EpochMetrics], None] | None
    ) -> None:
        while self.epoch < target:
            snap = self._snapshot()
            try:
                metrics = self.train_epoch()
            except KeyboardInterrupt:
                self._restore(snap)
                self.interrupted = True
                break
            except BaseException:  # a failing system: keep the last completed epoch
                self._restore(snap)
                raise
            if on_epoch:
                on_epoch(metrics)
            if self._should_stop(metrics):
                break

    def evaluate_all(self, epoch: int | None = None) -> dict[str, dict[str, float]]:
        """Train and test accuracy with every prediction method of the rule (noise: the
        evaluation stream of ``epoch``, default the last completed one)."""
        out = {}
        # the methods share their physical passes
        with blas_limit(), self.rule.shared_scoring(), self._evaluation_noise(epoch):
            if self.rule.fitted:
                self.rule.fit_readout(self.data.x_train, self.data.y_train)
            for method in self.rule.methods:
                train, test = self._accuracy(method, fit=False)
                out[method] = {"train_accuracy": train, "test_accuracy": test}
        return out

    def summary(self, by_method: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
        """The JSON summary of ``phyll train``."""
        if by_method is None and self._final_eval and self._final_eval[0] == self.epoch:
            by_method = self._final_eval[1]  # measured at the end of the last epoch
        by_method = by_method or self.evaluate_all()
        done = [m for m in self.history if m.train_seconds > 0]
        return {
            "test_accuracy": by_method[self.method]["test_accuracy"],
            "train_accuracy": by_method[self.method]["train_accuracy"],
            "predict": self.method,
            "accuracy_by_method": by_method,
            "epochs": self.epoch,
            "physical_queries": self.physical_queries,
            "control_queries": self.control_queries,
            "output_refreshes": self.output_refreshes,
            "digital_flops": self.rule.total_flops(),
            "seconds": self.seconds,
            "train_seconds_per_epoch": (
                float(np.mean([m.train_seconds for m in done])) if done else 0.0
            ),
            "seed": self.config.seed,
            "rule": self.config.rule,
            "systems": list(self.config.system),
            "dataset": self.config.dataset,
            "interrupted": self.interrupted,
        }


def train(config: TrainConfig | None = None, **overrides: Any) -> dict[str, Any]:
    """Train with ``config`` (or ``TrainConfig(**overrides)``) and return the summary dict
    (keys as in ``phyll train --json``)."""
    run = Run(config or TrainConfig(**overrides))
    run.train()
    return run.summary()
