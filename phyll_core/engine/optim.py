"""Adam with decoupled weight decay (AdamW), as an (init, update) pair over named arrays."""

from __future__ import annotations

import math

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
    _scratch: dict[str, tuple[np.ndarray, np.ndarray, str, str]] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )

    def init(self, params: dict[str, np.ndarray]) -> None:
        """Zero moments for each parameter array and a step counter."""
        self.state = {"t": np.zeros(())}
        for k, v in params.items():
            self.state[f"m/{k}"] = np.zeros_like(v)
            self.state[f"v/{k}"] = np.zeros_like(v)

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One Adam step: ``params[k] -= ...`` in place for every ``k`` in ``grads``.

        Everything is computed in the gradient's dtype (float32 engines stay float32), in
        preallocated scratch buffers; the order of operations is fixed, so the same inputs
        give the same numbers."""
        state = self.state
        t = float(state["t"]) + 1.0
        state["t"] = np.asarray(t)
        b1, b2 = self.beta1, self.beta2
        step = self.lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        decay = 1.0 - self.lr * self.weight_decay
        for k, g in grads.items():
            tmp, denom, m_key, v_key = self._buffers(k, g)
            m, v = state[m_key], state[v_key]
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2
            np.square(g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            p = params[k]
            if self.weight_decay:
                p *= decay
            np.sqrt(v, out=denom)
            denom += self.eps
            np.multiply(m, step, out=tmp)
            tmp /= denom
            p -= tmp

    def _buffers(self, key: str, like: np.ndarray) -> tuple[np.ndarray, np.ndarray, str, str]:
        """Two scratch arrays of the gradient ``key``'s shape and dtype (kept between steps to
        avoid allocations; not optimiser state) and the keys of its moments."""
        buf = self._scratch.get(key)
        if buf is None or buf[0].shape != like.shape or buf[0].dtype != like.dtype:
            buf = (np.empty_like(like), np.empty_like(like), f"m/{key}", f"v/{key}")
            self._scratch[key] = buf
        return buf
