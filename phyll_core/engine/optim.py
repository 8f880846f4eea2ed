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
    _scratch: dict[str, _Slot] = attrs.field(factory=dict, init=False, repr=False, eq=False)

    def init(self, params: dict[str, np.ndarray]) -> None:
        """Zero moments for each parameter array and a step counter."""
        self.state = {"t": np.zeros(())}
        for k, v in params.items():
            self.state[f"m/{k}"] = np.zeros_like(v)
            self.state[f"v/{k}"] = np.zeros_like(v)

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One Adam step: ``params[k] -= ...`` in place for every ``k`` in ``grads``.

        Everything is computed in the gradient's dtype (float32 engines stay float32), in
        preallocated scratch buffers, with the constants held as 0-d arrays of that dtype (a
        Python float costs more to convert than the arithmetic on a small layer); the order of
        operations is fixed, so the same inputs give the same numbers."""
        state = self.state
        t = float(state["t"]) + 1.0
        state["t"] = np.asarray(t)
        step = self.step_size(t)
        for k, g in grads.items():
            s = self._slot(k, g)
            m, v, tmp, denom = state[s.m_key], state[s.v_key], s.tmp, s.denom
            m *= s.b1
            np.multiply(g, s.one_minus_b1, out=tmp)
            m += tmp
            v *= s.b2
            np.square(g, out=tmp)
            tmp *= s.one_minus_b2
            v += tmp
            p = params[k]
            if self.weight_decay:
                p *= 1.0 - self.lr * self.weight_decay
            np.sqrt(v, out=denom)
            denom += s.eps
            s.step[...] = step
            np.multiply(m, s.step, out=tmp)
            tmp /= denom
            p -= tmp

    def step_size(self, t: float) -> float:
        """The bias-corrected step size of step ``t`` (1 for the first):
        ``lr sqrt(1 - beta2^t) / (1 - beta1^t)``, in float64 (rounded to the parameter's dtype
        where it is used)."""
        return self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)

    def _slot(self, key: str, like: np.ndarray) -> _Slot:
        """The scratch of gradient ``key`` (kept between steps to avoid allocations)."""
        slot = self._scratch.get(key)
        if (
            slot is None
            or slot.tmp.shape != like.shape
            or slot.tmp.dtype != like.dtype
            or slot.constants != (self.beta1, self.beta2, self.eps)
        ):
            slot = self._scratch[key] = _Slot(self, key, like)
        return slot


class _Slot:
    """Scratch of one parameter (not optimiser state): two work arrays of its gradient's shape
    and dtype, the constants of :class:`Adam` as 0-d arrays of that dtype, the state keys."""

    def __init__(self, opt: Adam, key: str, like: np.ndarray) -> None:
        dtype = like.dtype
        self.m_key, self.v_key = f"m/{key}", f"v/{key}"
        self.tmp, self.denom = np.empty_like(like), np.empty_like(like)
        self.b1, self.b2 = np.array(opt.beta1, dtype), np.array(opt.beta2, dtype)
        self.one_minus_b1 = np.array(1.0 - opt.beta1, dtype)
        self.one_minus_b2 = np.array(1.0 - opt.beta2, dtype)
        self.eps, self.step = np.array(opt.eps, dtype), np.zeros((), dtype)
        self.constants = (opt.beta1, opt.beta2, opt.eps)
