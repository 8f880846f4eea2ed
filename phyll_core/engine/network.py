"""The fixed (non-trained) parts of a physical network: label embedding, the adapter from a
block's input to its system's input width, the encoder into the system's domain, and the
physical pass itself.

Block ``k`` computes ``z = [P_k(enc_k(h)), h]`` (skip on) or ``z = P_k(enc_k(h))`` (skip off),
then the trained projection ``a = W_k z + b_k``; the next block gets ``h = a``.

- **Label embedding**: ``C`` slots are prepended to each input row; label ``c`` sets slot ``c``
  to the constant ``m`` (99th percentile of |value| of the standardised training features,
  fixed once)
  and the others to 0. The neutral label sets every slot to ``m / C``.
- **Adapter**: when ``h`` is narrower than the system's input it is zero-padded (as published);
  when wider, it is multiplied by a fixed seeded Gaussian projection ``R`` (entries
  N(0, 1/width)), or, with ``project=False``, refused.
- **Encoder** (continuous domain ``[lo, hi]``): ``x = lo + (hi - lo) |v| / max_j |v_j|`` per row
  (each row scaled by its own largest magnitude, so a prediction never depends on the rest of
  the batch); binary domain: ``x = 1[v > 0]`` (sign quantiser).
"""

from __future__ import annotations

import attrs
import numpy as np

from phyll_core.domain import Binary, Domain, Interval
from phyll_core.errors import PhyllError
from phyll_core.system import PhysicalSystem

_TINY = 1e-12


def embed(x: np.ndarray, labels: np.ndarray | None, n_classes: int, m: float) -> np.ndarray:
    """Prepend ``n_classes`` label slots; ``labels=None`` embeds the neutral label."""
    slots = np.zeros((x.shape[0], n_classes))
    if labels is None:
        slots[:] = m / n_classes
    else:
        slots[np.arange(x.shape[0]), labels] = m
    return np.hstack([slots, x])


def encode(v: np.ndarray, domain: Domain) -> np.ndarray:
    """Map rows of ``v`` into ``domain`` (see the module docstring)."""
    if isinstance(domain, Binary):
        return (v > 0).astype(np.float64)
    if isinstance(domain, Interval):
        u = np.abs(v)
        u /= np.maximum(u.max(axis=1, keepdims=True), _TINY)  # now in [0, 1]
        if domain.low == 0.0 and domain.high == 1.0:
            return u
        return domain.low + (domain.high - domain.low) * u
    raise PhyllError(f"no encoder for domain {domain!r}")


@attrs.define(eq=False)
class PhysicalLayer:
    """Adapter, encoder and system of one block: ``forward(h)`` returns ``P(enc(adapt(h)))``."""

    system: PhysicalSystem
    in_width: int
    projection: np.ndarray | None = None

    @classmethod
    def build(
        cls, system: PhysicalSystem, in_width: int, rng: np.random.Generator, project: bool = True
    ) -> PhysicalLayer:
        projection = None
        if in_width > system.input_dim:
            if not project:
                raise PhyllError(
                    f"block input width {in_width} exceeds system '{system.name}' input"
                    f" {system.input_dim}; allow the random projection or pick a wider system"
                )
            projection = rng.standard_normal((in_width, system.input_dim)) / np.sqrt(in_width)
        return cls(system, in_width, projection)

    @property
    def out_width(self) -> int:
        return self.system.output_dim

    def encode(self, h: np.ndarray) -> np.ndarray:
        """``enc(adapt(h))``: the system input for block input ``h``."""
        v = h @ self.projection if self.projection is not None else h
        if v.shape[1] < self.system.input_dim:
            v = np.hstack([v, np.zeros((v.shape[0], self.system.input_dim - v.shape[1]))])
        return encode(v, self.system.domain)

    def forward(self, h: np.ndarray) -> np.ndarray:
        """One physical pass (counted by the system's query counter)."""
        return self.system.forward(self.encode(h))
