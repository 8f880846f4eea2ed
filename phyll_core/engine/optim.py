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
    _scratch: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )

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
            tmp, denom, update = self._buffers(k, g)
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2
            np.square(g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            p = params[k]
            if self.weight_decay:
                p *= 1.0 - self.lr * self.weight_decay
            np.sqrt(v, out=denom)
            denom += self.eps
            np.multiply(m, step, out=update)  # the step itself in float64 (step is a float64)
            update /= denom
            p -= update

    def _buffers(self, key: str, like: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scratch arrays for the gradient ``key``: two of its dtype and one float64 (kept
        between steps to avoid allocations; not optimiser state)."""
        buf = self._scratch.get(key)
        if buf is None or buf[0].shape != like.shape or buf[0].dtype != like.dtype:
            buf = (np.empty_like(like), np.empty_like(like), np.empty(like.shape, np.float64))
            self._scratch[key] = buf
        return buf
