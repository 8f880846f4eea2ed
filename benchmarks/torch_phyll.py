"""A PyTorch implementation of supervised PhyLL on the ``identity`` system, for speed comparisons.

Same algorithm and shapes as ``phyll train --system identity --rule phyll`` with the defaults
(offset encoder, output standardisation, skip connection, cosine goodness, softplus-delta
objective, hardest negatives scored through every block, block 0 reusing the scoring pass's
rows), written the way PyTorch is usually written: ``nn.Linear`` blocks, autograd for the
gradient, ``torch.optim.Adam``. Only the benchmarks import it; PyTorch is never a dependency of
phyll (``engine_speed.py`` skips the comparison when it is absent).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

SPAN = 3.0  # phyll_core.engine.network.SPAN
EPS = 1e-12  # phyll_core.engine.losses._EPS


def _std(v: torch.Tensor) -> torch.Tensor:
    """Column standard deviations, constant columns given 1 (as phyll's physical layer)."""
    s = v.std(dim=0, unbiased=False)
    floor = 1e-8 * max(1.0, float(v.abs().max()))
    return torch.where(s > floor, s, torch.ones_like(s))


class Block(nn.Module):
    """``z = [S(P(enc(pad(h)))), h]``, ``a = Linear(z)``; ``P`` is the identity system."""

    def __init__(self, in_width: int, dim: int, width: int, lr: float, dtype: torch.dtype):
        super().__init__()
        self.in_width, self.dim = in_width, dim
        self.linear = nn.Linear(dim + in_width, width, dtype=dtype)
        p = torch.rand(width, dtype=dtype)
        self.register_buffer("p", p / p.norm())
        self.stats: dict[str, torch.Tensor] = {}
        self.opt = torch.optim.Adam(self.linear.parameters(), lr=lr)

    def z(self, h: torch.Tensor, calibrate: bool = False) -> torch.Tensor:
        v = F.pad(h, (0, self.dim - h.shape[1])) if h.shape[1] < self.dim else h
        if calibrate and "enc_mean" not in self.stats:
            self.stats["enc_mean"], self.stats["enc_std"] = v.mean(dim=0), _std(v)
        u = torch.clamp(0.5 + (v - self.stats["enc_mean"]) / (2 * SPAN * self.stats["enc_std"]),
                        0.0, 1.0)
        y = u.clone()  # the identity system's physical pass
        if calibrate and "out_mean" not in self.stats:
            self.stats["out_mean"], self.stats["out_std"] = y.mean(dim=0), _std(y)
        return torch.cat([(y - self.stats["out_mean"]) / self.stats["out_std"], h], dim=1)

    def goodness(self, a: torch.Tensor) -> torch.Tensor:
        return (a.abs() @ self.p) / (a.norm(dim=1) + EPS)


class TorchPhyLL:
    """Supervised PhyLL with ``blocks`` blocks of ``width`` on ``identity(dim)`` systems."""

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        label_constant: float,
        blocks: int = 2,
        width: int = 20,
        dim: int = 20,
        inner_steps: int = 10,
        lr: float = 1e-2,
        theta: float = 4.0,
        seed: int = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        torch.manual_seed(seed)
        self.c, self.m, self.theta, self.dtype = n_classes, label_constant, theta, dtype
        self.inner_steps = inner_steps
        widths = [n_features + n_classes] + [width] * (blocks - 1)
        self.blocks = [Block(w, dim, width, lr, dtype) for w in widths]

    def embed(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        slots = torch.zeros(x.shape[0], self.c, dtype=x.dtype)
        if labels is None:
            slots += self.m / self.c
        else:
            slots[torch.arange(x.shape[0]), labels] = self.m
        return torch.cat([slots, x], dim=1)

    @torch.no_grad()
    def _scores(self, x: torch.Tensor, calibrate: bool) -> tuple[torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        labels = torch.arange(self.c).repeat_interleave(n)
        h = self.embed(x.repeat(self.c, 1), labels)
        total = torch.zeros(n * self.c, dtype=x.dtype)
        z0 = h
        for k, block in enumerate(self.blocks):
            z = block.z(h, calibrate)
            if k == 0:
                z0 = z
            h = block.linear(z)
            total += block.goodness(h)
        return total.reshape(self.c, n).T, z0

    def step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """One batch: hardest negatives, then ``inner_steps`` Adam steps per block."""
        n = y.shape[0]
        s, z_all = self._scores(x, calibrate=True)
        rows = torch.arange(n)
        s[rows, y] = -torch.inf
        wrong = s.argmax(dim=1)
        z_pos, z_neg = z_all[y * n + rows], z_all[wrong * n + rows]
        h_pos, h_neg = self.embed(x, y), self.embed(x, wrong)
        for k, block in enumerate(self.blocks):
            if k > 0:
                with torch.no_grad():
                    z_pos, z_neg = block.z(h_pos, calibrate=True), block.z(h_neg)
            z = torch.cat([z_pos, z_neg])
            for _ in range(self.inner_steps):
                block.opt.zero_grad()
                g = block.goodness(block.linear(z))
                loss = F.softplus(-self.theta * (g[:n] - g[n:])).mean()
                loss.backward()
                block.opt.step()
            with torch.no_grad():
                h_pos, h_neg = block.linear(z_pos), block.linear(z_neg)

    def epoch(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        """One full-batch epoch on rows in a random order (as phyll's trainer)."""
        order = rng.permutation(y.size)
        self.step(torch.as_tensor(x[order], dtype=self.dtype), torch.as_tensor(y[order]))

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        s, _ = self._scores(torch.as_tensor(x, dtype=self.dtype), calibrate=False)
        return float((s.argmax(dim=1).numpy() == y).mean())
