"""Adam with decoupled weight decay (AdamW), as an (init, update) pair over named arrays."""

from __future__ import annotations

import attrs
import numpy as np


@attrs.define
class Adam:
    """Adam on a dict of parameter arrays, updated in place.

    ``weight_decay`` is decoupled (AdamW): ``w -= lr * weight_decay * w`` each step. The moment
    estimates live in :attr:`state` so that checkpoints can save and restore them exactly.
    """

    lr: float = 1e-3
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    state: dict[str, np.ndarray] = attrs.field(factory=dict)

    def init(self, params: dict[str, np.ndarray]) -> None:
        """Zero moments for each parameter array and a step counter."""
        self.state = {"t": np.zeros(())}
        for k, v in params.items():
            self.state[f"m/{k}"] = np.zeros_like(v)
            self.state[f"v/{k}"] = np.zeros_like(v)

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One Adam step: ``params[k] -= ...`` in place for every ``k`` in ``grads``."""
        t = float(self.state["t"]) + 1.0
        self.state["t"] = np.asarray(t)
        b1, b2 = self.beta1, self.beta2
        step = self.lr * np.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        for k, g in grads.items():
            m, v = self.state[f"m/{k}"], self.state[f"v/{k}"]
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * np.square(g)
            p = params[k]
            if self.weight_decay:
                p *= 1.0 - self.lr * self.weight_decay
            denom = np.sqrt(v)
            denom += self.eps
            p -= step * m / denom
