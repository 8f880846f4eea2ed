"""The PhyLL learning rules: supervised local contrastive training and its unsupervised form.

Supervised (``phyll``), per batch: positives carry the true label, negatives a wrong one; each
block makes exactly one physical pass of the positive and one of the negative data, runs
``inner_steps`` Adam steps on its digital weights reusing those outputs, and hands its
(detached) outputs to the next block. The wrong label is, with ``negatives="hardest"`` (the
default), the one with the highest current summed goodness: scoring it costs one extra physical
pass of ``n * C`` rows per block (none for two classes, where the only wrong label is taken);
with ``negatives="random"`` (the published choice) it is uniformly random among the ``C - 1``
wrong ones. On ``digits`` (10 classes) hardest negatives lift the test accuracy from about 95 %
to about 97 % (docs/results.md).

Unsupervised (``phyll-unsupervised``): positives are the data, negatives are synthetic: two
samples mixed through a smooth random mask (``negatives="mask"``) or every feature shuffled
across the batch (``negatives="shuffle"``); a softmax readout on the block outputs classifies.

Both train the systems' physical controls too with ``physics="spsa"`` or ``"search"``: after
its digital steps on a batch, each block updates its own controls from its local loss with
extra forward passes (:mod:`phyll_core.engine.controls`); those rows are counted in
:meth:`_LocalRule.control_queries` (they are part of the systems' query counters as well).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np

from phyll_core.engine.controls import BlockControls, ControlSettings, control_step
from phyll_core.engine.local import LocalBlock, SoftmaxReadout
from phyll_core.engine.network import embed
from phyll_core.engine.rule import LearningRule, Problem
from phyll_core.errors import PhyllError

SCORE_ROWS = 4096  # at most this many physical rows (samples x labels) per scoring pass


class _LocalRule(LearningRule):
    """Blocks of :class:`LocalBlock` plus a readout; subclasses say what goes in."""

    labelled = True
    fitted: ClassVar[tuple[str, ...]] = ("readout",)

    def __init__(self, **physics: Any) -> None:
        super().__init__()
        self.blocks: list[LocalBlock] = []
        self.readout = SoftmaxReadout()
        self.physics = ControlSettings.from_rule_params(**physics)

    def init(self, problem: Problem) -> None:
        self.problem = problem
        width = problem.n_features + (problem.n_classes if self.labelled else 0)
        self.blocks = []
        digital = self.labelled and problem.labels == "digital"
        for k in range(problem.blocks):
            slots = problem.n_classes if digital and k == 0 else 0
            self.blocks.append(LocalBlock(problem, k, width, label_slots=slots))
            width = problem.width
        if self.physics.active:
            for block in self.blocks:
                block.controls = BlockControls.for_system(block.system, self.physics)
            if all(b.controls is None for b in self.blocks):
                names = sorted({b.system.name for b in self.blocks})
                raise PhyllError(
                    f"physics={self.physics.estimator} trains physical controls, but system"
                    f" {', '.join(names)} declares none as configured (see docs/in-situ.md)"
                )

    def control_queries(self) -> int:
        return sum(b.controls.queries for b in self.blocks if b.controls is not None)

    def total_flops(self) -> float:
        return self.flops + sum(b.flops for b in self.blocks)

    def _train_blocks(
        self,
        h_pos: np.ndarray,
        h_neg: np.ndarray,
        z0: tuple[np.ndarray, np.ndarray] | None = None,
        rng: np.random.Generator | None = None,
    ) -> dict[str, float]:
        """Train every block on positive/negative inputs; ``z0`` gives block 0's ``z`` rows
        when an earlier pass (hardest-negative scoring) already measured them. Blocks with
        trained controls then update them (random choices from ``rng``, which also dithers
        the physical passes' inputs)."""
        metrics = {}
        for block in self.blocks:
            if block.index == 0 and z0 is not None:
                z_pos, z_neg = z0
            elif block.label_slots:  # positives and negatives share the label-free physics
                phys = block.physics(h_pos, True, block.dither_noise(h_pos.shape[0], rng))
                z_pos, z_neg = block.z(h_pos, phys=phys), block.z(h_neg, phys=phys)
            else:  # a positive row and its negative share their dither noise
                noise = block.dither_noise(h_pos.shape[0], rng)
                z_pos = block.z(h_pos, calibrate=True, noise=noise)
                z_neg = block.z(h_neg, noise=noise)
            metrics[f"loss_block{block.index}"] = block.train(z_pos, z_neg)
            if block.controls is not None and rng is not None:
                control_step(block, h_pos, h_neg, (z_pos, z_neg), rng)
            if block is not self.blocks[-1]:  # the last block's outputs would feed nothing
                h_pos, h_neg = block.project(z_pos), block.project(z_neg)
        return metrics

    def _outputs(self, h: np.ndarray) -> list[np.ndarray]:
        """Block outputs ``a_k`` for inputs ``h`` (one physical pass per block)."""
        outs = []
        for block in self.blocks:
            h = block.project(block.z(h))
            outs.append(h)
        return outs

    def _features(self, x: np.ndarray) -> np.ndarray:
        """Readout features of rows ``x``: every block's output ``a_k`` and its magnitude
        ``|a_k|`` (the quantity the goodness is computed from), one pass with the neutral
        label. On mnist1d (identity, seed 0) ``[a, |a|]`` reads 58.3 % where ``a`` alone reads
        36.9 % and the goodness 57.4 % (docs/training.md)."""
        assert self.problem is not None
        h = (
            embed(x, None, self.problem.n_classes, self.problem.label_constant)
            if self.labelled
            else x
        )
        outs = self._outputs(h)
        return np.hstack([*outs, *(np.abs(a) for a in outs)])

    def fit_readout(self, x: np.ndarray, y: np.ndarray) -> None:
        assert self.problem is not None
        if "readout" in self.methods:
            self.readout.fit(self._features(x), y, self.problem.n_classes)

    def _predict_readout(self, x: np.ndarray) -> np.ndarray:
        if not self.readout.fitted:
            raise PhyllError("the readout is not fitted yet")
        return self.readout.predict(self._features(x))

    def state_dict(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for block in self.blocks:
            out.update(block.state())
        out.update(self.readout.state())
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for block in self.blocks:
            block.load(state)
        self.readout.load(state)


class PhyLL(_LocalRule):
    """Supervised PhyLL (Momeni et al., Science 2023).

    Prediction methods: ``goodness`` (the label with the highest goodness summed over the
    blocks, as published), ``readout`` (softmax readout, one pass with the neutral label) and
    ``weighted`` (the goodness of block ``k`` weighted by ``w_k``, fitted on the training data
    with the readout, :func:`~phyll_core.engine.logistic.fit_block_weights`; equal weights,
    i.e. the goodness, until fitted). Deep networks gain most: their late blocks are weaker
    (mnist1d through ``lens``, 10 blocks: 58.7 % summed, 64.5 % weighted, docs/training.md)."""

    name = "phyll"
    methods = ("goodness", "readout", "weighted")
    fitted = ("readout", "weighted")

    def __init__(self, negatives: str = "hardest", **physics: Any) -> None:
        super().__init__(**physics)
        if negatives not in ("random", "hardest"):
            raise PhyllError(f"negatives must be 'random' or 'hardest', got {negatives!r}")
        self.negatives = negatives
        self.block_weights = np.ones(0)
        self._shared: dict[tuple[Any, ...], np.ndarray] | None = None

    def init(self, problem: Problem) -> None:
        super().init(problem)
        self.block_weights = np.ones(problem.blocks)

    @contextmanager
    def shared_scoring(self) -> Iterator[None]:
        """Within the context, the per-block goodness of identical rows is measured once and
        reused by ``goodness``, ``weighted`` and the weights' fit (one evaluation)."""
        self._shared = {}
        try:
            yield
        finally:
            self._shared = None

    def _rows_per_pass(self) -> int:
        """Rows scored per physical pass: ``n * C`` physical rows stay <= :data:`SCORE_ROWS`."""
        assert self.problem is not None
        return max(1, SCORE_ROWS // self.problem.n_classes)

    def _calibrated(self) -> bool:
        return all(b.layer.calibrated for b in self.blocks)

    def block_scores(self, x: np.ndarray) -> np.ndarray:
        """Goodness of every block for every label and row: (K, n, C). One physical pass per
        block of ``n * C`` rows, made in chunks of at most :data:`SCORE_ROWS` rows so that
        memory stays bounded (rows are independent: the same scores); shared within
        :meth:`shared_scoring`."""
        assert self.problem is not None
        key: tuple[Any, ...] = ()
        if self._shared is not None:  # the rows' digest only where it can be reused
            key = (x.shape, x.dtype.str, hashlib.sha1(np.ascontiguousarray(x).tobytes()).digest())
            if key in self._shared:
                return self._shared[key]
        n, step = x.shape[0], self._rows_per_pass()
        parts = [self._scores(x[i : i + step])[0] for i in range(0, n, step)]
        out = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        if self._shared is not None:
            self._shared[key] = out
        return out

    def scores(self, x: np.ndarray, calibrate: bool = False) -> np.ndarray:
        """Summed goodness of every label for every row: (n, C) (see :meth:`block_scores`;
        ``calibrate``: see :meth:`LocalBlock.z`; a pass that calibrates the physical layers
        takes every row at once)."""
        if calibrate and not self._calibrated():
            return self._scores(x, calibrate)[0].sum(axis=0)
        return self.block_scores(x).sum(axis=0)

    def fit_readout(self, x: np.ndarray, y: np.ndarray) -> None:
        from phyll_core.engine.logistic import fit_block_weights

        super().fit_readout(x, y)
        self.block_weights = fit_block_weights(self.block_scores(x), y)

    def _scores(
        self, x: np.ndarray, calibrate: bool = False, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The per-block goodness (K, n, C) and block 0's ``z`` of the ``n * C`` rows
        (label-major order); ``rng``: a training pass (dithered inputs, the ``C`` copies of
        a row sharing their noise)."""
        assert self.problem is not None
        n, c = x.shape[0], self.problem.n_classes
        labels = np.repeat(np.arange(c), n)
        h = embed(np.tile(x, (c, 1)), labels, c, self.problem.label_constant)
        per_block = np.empty((len(self.blocks), n, c), dtype=x.dtype)
        z0 = h
        for block in self.blocks:
            noise = block.dither_noise(n, rng)
            if block.label_slots:  # label-free physics: one pass of the n rows, shared
                phys = block.physics(h[:n], calibrate=calibrate, noise=noise)
                z = block.z(h, phys=np.tile(phys, (c, 1)))
            else:
                z = block.z(h, calibrate=calibrate, noise=noise)
            del h  # free each block's input and z early: n * C rows of wide blocks are large
            if block.index == 0:
                z0 = z
            h = block.project(z)
            del z
            per_block[block.index] = block.goodness.value(h).reshape(c, n).T
        return per_block, z0

    def step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        assert self.problem is not None
        c, m = self.problem.n_classes, self.problem.label_constant
        z0 = None
        if c == 2:
            wrong = 1 - y
        elif self.negatives == "hardest":
            wrong, z0 = self._hardest(x, y, rng)
        else:
            wrong = (y + rng.integers(1, c, size=y.size)) % c
        return self._train_blocks(embed(x, y, c, m), embed(x, wrong, c, m), z0, rng)

    def _hardest(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """The highest-scoring wrong label of every row, and block 0's ``z`` of the rows with
        their true and with that label (taken from the scoring pass: no second physical pass).
        Once the layers are calibrated, rows are scored in chunks of at most
        :data:`SCORE_ROWS` physical rows, keeping only those two ``z`` rows of each chunk, so
        memory stays bounded (rows are independent: the same labels and rows)."""
        assert self.problem is not None
        n, step = y.size, self._rows_per_pass()
        if n <= step or not self._calibrated():
            step = n  # the calibrating pass takes every row at once
        wrong = np.empty(n, dtype=np.int64)
        z_pos = z_neg = np.empty((0, 0))
        for start in range(0, n, step):
            part = slice(start, min(start + step, n))
            per_block, z_all = self._scores(x[part], calibrate=True, rng=rng)
            s = per_block.sum(axis=0)
            m, rows, yp = s.shape[0], np.arange(s.shape[0]), y[part]
            s[rows, yp] = -np.inf
            wrong[part] = np.argmax(s, axis=1)
            if start == 0:
                z_pos = np.empty((n, z_all.shape[1]), dtype=z_all.dtype)
                z_neg = np.empty_like(z_pos)
            z_pos[part], z_neg[part] = z_all[yp * m + rows], z_all[wrong[part] * m + rows]
            del s, per_block, z_all
        return wrong, (z_pos, z_neg)

    def predict(self, x: np.ndarray, method: str) -> np.ndarray:
        if method == "readout":
            return self._predict_readout(x)
        if method == "weighted":
            return np.argmax(np.einsum("k,knc->nc", self.block_weights, self.block_scores(x)), 1)
        return np.argmax(self.scores(x), axis=1)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {**super().state_dict(), "weighted/w": self.block_weights}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore the state; a checkpoint without block weights (written before they existed)
        predicts ``weighted`` with equal weights (the goodness) until refitted."""
        super().load_state_dict(state)
        if "weighted/w" in state:
            self.block_weights = np.asarray(state["weighted/w"], dtype=np.float64)


class PhyLLUnsupervised(_LocalRule):
    """Unsupervised PhyLL: real samples against synthetic negatives, then a linear readout."""

    name = "phyll-unsupervised"
    methods = ("readout",)
    labelled = False

    def __init__(
        self, negatives: str = "mask", smoothness: float = 2.0, **physics: Any
    ) -> None:
        super().__init__(**physics)
        if negatives not in ("mask", "shuffle"):
            raise PhyllError(f"negatives must be 'mask' or 'shuffle', got {negatives!r}")
        self.negatives = negatives
        self.smoothness = smoothness

    def synthetic(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Negatives for the rows of ``x`` (see the module docstring)."""
        if self.negatives == "shuffle":
            return rng.permuted(x, axis=0)  # each feature shuffled independently
        from scipy.ndimage import gaussian_filter1d

        noise = gaussian_filter1d(
            rng.standard_normal(x.shape), self.smoothness, axis=1, mode="wrap"
        )
        mask = (noise > 0).astype(x.dtype)
        partner = x[rng.permutation(x.shape[0])]
        return mask * x + (1.0 - mask) * partner

    def step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        return self._train_blocks(x, self.synthetic(x, rng), rng=rng)

    def predict(self, x: np.ndarray, method: str) -> np.ndarray:
        return self._predict_readout(x)
