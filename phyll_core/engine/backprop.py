"""``backprop``: end-to-end backpropagation through a digital MLP of the same widths.

No physics: ``features -> [width, ReLU] x blocks -> C logits``, softmax cross-entropy, Adam with
``inner_steps`` steps per batch (the same optimiser budget as PhyLL). It is the accuracy
reference a reader expects beside a PhyLL result.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.special import log_softmax, softmax

from phyll_core.engine.optim import Adam
from phyll_core.engine.rule import LearningRule, Problem


class Backprop(LearningRule):
    """Digital MLP trained end to end."""

    name = "backprop"
    methods = ("direct",)

    def __init__(self) -> None:
        super().__init__()
        self.params: dict[str, np.ndarray] = {}
        self.opt = Adam()

    def init(self, problem: Problem) -> None:
        self.problem = problem
        rng = problem.rng(1)
        sizes = [problem.n_features] + [problem.width] * problem.blocks + [problem.n_classes]
        self.params = {}
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            self.params[f"W{i}"] = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
            self.params[f"b{i}"] = np.zeros(n_out)
        self.opt = Adam(lr=problem.lr_of(0), weight_decay=problem.weight_decay)
        self.opt.init(self.params)

    @property
    def layers(self) -> int:
        return len(self.params) // 2

    def _forward(self, x: np.ndarray) -> list[np.ndarray]:
        acts = [x]
        for i in range(self.layers):
            z = acts[-1] @ self.params[f"W{i}"] + self.params[f"b{i}"]
            self.flops += 2.0 * z.shape[0] * self.params[f"W{i}"].size
            acts.append(z if i == self.layers - 1 else np.maximum(z, 0.0))
        return acts

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Mean cross-entropy and its gradient with respect to every parameter."""
        acts = self._forward(x)
        logits = acts[-1]
        loss = -float(log_softmax(logits, axis=1)[np.arange(y.size), y].mean())
        delta = softmax(logits, axis=1)
        delta[np.arange(y.size), y] -= 1.0
        delta /= y.size
        grads = {}
        for i in reversed(range(self.layers)):
            grads[f"W{i}"] = acts[i].T @ delta
            grads[f"b{i}"] = delta.sum(axis=0)
            self.flops += 4.0 * delta.shape[0] * self.params[f"W{i}"].size
            if i:
                delta = (delta @ self.params[f"W{i}"].T) * (acts[i] > 0)
        return loss, grads

    def step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        assert self.problem is not None
        loss = float("nan")
        for _ in range(self.problem.inner_steps):
            loss, grads = self.loss_and_grads(x, y)
            self.opt.update(self.params, grads)
        return {"loss": loss}

    def predict(self, x: np.ndarray, method: str) -> np.ndarray:
        return np.argmax(self._forward(x)[-1], axis=1)

    def state_dict(self) -> dict[str, np.ndarray]:
        out = dict(self.params)
        out.update({f"opt/{k}": v for k, v in self.opt.state.items()})
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for k in self.params:
            self.params[k] = np.array(state[k], dtype=np.float64)
        self.opt.state = {k[4:]: np.array(v) for k, v in state.items() if k.startswith("opt/")}
