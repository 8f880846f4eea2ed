"""How far each block's input moves from the encoder's calibration during training.

The offset encoder's statistics are fixed on the first training batch (docs/training.md, "The
network"); block ``k > 0`` is then calibrated on the output of an untrained block ``k - 1``.
After training, this prints per block the spread of the adapted inputs in units of the fixed
deviations and the share of them beyond +-3 deviations, which the encoder clips to the domain's
edge. ``--refresh L`` is an experiment the engine does not offer: a training pass whose inputs
spread more than ``L`` fixed deviations measures the encoder (and the output scale) again;
``--row-norm`` another: blocks after the first adapt ``h / rms(h)``, row by row (the cosine
goodness does not see the scale of a block's output, which grows as it trains)::

    python benchmarks/encoder_drift.py mnist1d identity,microwave
    python benchmarks/encoder_drift.py mnist1d identity,microwave --seeds 0,1,2 --refresh 2
    python benchmarks/encoder_drift.py mnist1d identity,microwave --seeds 0,1,2 --row-norm
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from results import accuracy_text, experiment_parser

from phyll_core.datasets import load, split
from phyll_core.engine.config import TrainConfig
from phyll_core.engine.network import PhysicalLayer, embed
from phyll_core.engine.trainer import Run

ENGINE_FORWARD = PhysicalLayer.forward
ENGINE_ADAPT = PhysicalLayer.adapt


def refreshing(limit: float, counts: dict[int, int]) -> Any:
    """``PhysicalLayer.forward`` that re-measures the encoder when its inputs spread out."""

    def forward(self: PhysicalLayer, h: np.ndarray, calibrate: bool = False) -> np.ndarray:
        if calibrate and "enc_mean" in self.stats and h.shape[0] > 1:
            spread = float(np.mean(self.adapt(h).std(axis=0) / self.stats["enc_std"]))
            if spread > limit:
                for key in ("enc_mean", "enc_std", "out_mean", "out_std", "out_basis"):
                    self.stats.pop(key, None)
                counts[id(self)] = counts.get(id(self), 0) + 1
        return ENGINE_FORWARD(self, h, calibrate)

    return forward


def row_normed(first: set[int]) -> Any:
    """``PhysicalLayer.adapt`` that divides each row by its RMS, except in layers ``first``."""

    def adapt(self: PhysicalLayer, h: np.ndarray) -> np.ndarray:
        if id(self) not in first:
            h = h / np.sqrt(np.mean(h * h, axis=1, keepdims=True) + 1e-12)
        return ENGINE_ADAPT(self, h)

    return adapt


def saturation(run: Run) -> list[str]:
    """Per block: spread of the adapted training inputs / fixed deviation, share clipped (over
    the columns that vary)."""
    rule, problem = run.rule, run.problem
    h = embed(run.data.x_train, run.data.y_train, problem.n_classes, problem.label_constant)
    cells = []
    for block in rule.blocks:
        layer = block.layer
        v = layer.adapt(h[:, block.label_slots :])
        live = v.std(axis=0) > 0  # zero-padded columns stay at the mean
        units = ((v - layer.stats["enc_mean"]) / layer.stats["enc_std"])[:, live]
        spread = float(np.mean(v.std(axis=0)[live] / layer.stats["enc_std"][live]))
        clipped = 100 * float(np.mean(np.abs(units) > 3))
        cells.append(f"block {block.index}: spread {spread:.2f}, clipped {clipped:.1f} %")
        h = block.project(block.z(h))
    return cells


def main() -> None:
    ap = experiment_parser(__doc__)
    ap.add_argument("--refresh", type=float, default=0.0, help="re-measure above this spread")
    ap.add_argument("--row-norm", action="store_true", help="blocks > 0 adapt h / rms(h)")
    args = ap.parse_args()
    first: set[int] = set()
    if args.row_norm:
        PhysicalLayer.adapt = row_normed(first)  # type: ignore[method-assign]
    data = load(args.dataset)
    counts: dict[int, int] = {}
    if args.refresh:
        PhysicalLayer.forward = refreshing(args.refresh, counts)  # type: ignore[method-assign]
    for system, seed in itertools.product(args.systems.split(","), map(int, args.seeds.split(","))):
        config = TrainConfig(system=system, dataset=args.dataset, seed=seed)
        run = Run(config, split(data, seed, config.test_fraction))
        first.add(id(run.rule.blocks[0].layer))  # type: ignore[attr-defined]
        run.train()
        refreshed = [counts.get(id(b.layer), 0) for b in run.rule.blocks]
        print(
            f"{args.dataset} {system} seed {seed}: {accuracy_text(run)}; "
            + "; ".join(saturation(run))
            + (f"; encoder refreshes {refreshed}" if args.refresh else ""),
            flush=True,
        )
    PhysicalLayer.forward = ENGINE_FORWARD  # type: ignore[method-assign]
    PhysicalLayer.adapt = ENGINE_ADAPT  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
