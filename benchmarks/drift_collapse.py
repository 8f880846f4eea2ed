"""Why PhyLL with hardest negatives collapsed to chance after a drift step, and what fixes it.

Trains PhyLL through the microwave metasurface (``control_atoms=20``, frozen controls) on a
dataset at the ``phyll train`` defaults, perturbs the system after ``--drift-at`` epochs and
keeps training, printing per epoch:

- the test accuracy (goodness prediction);
- ``off``: how far each block's physical outputs are from the scale its output
  standardisation was fixed for, on the epoch's training passes: the RMS over output columns
  of the standardised batch mean (about ``1/sqrt(n)`` on a well-calibrated layer, ``n`` rows)
  and the mean standardised standard deviation (about 1);
- the hardest-negative labels of 512 training rows (how many distinct classes, the largest
  class's share): a degenerate selection puts almost every negative in one class;
- the goodness spread (std over rows and labels of block 0's goodness): saturated goodness
  leaves almost nothing to rank the labels by.

Variants (``--variants``):

- ``engine``: the engine as it is;
- ``fixed``: the output standardisation never refreshed (the engine before the fix:
  ``network.REFRESH_SHIFT`` and ``REFRESH_SPREAD`` set to infinity);
- ``fixed-recal``: as ``fixed``, and the output statistics dropped by hand right after the
  drift (the next training pass measures them again);
- ``fixed-adam``: as ``fixed``, and every block's Adam state reset after the drift;
- ``fixed-random``: as ``fixed``, with ``negatives=random``.

    python benchmarks/drift_collapse.py                 # every variant, seed 0, 12 epochs
    python benchmarks/drift_collapse.py --variants engine,fixed --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import numpy as np


def run_variant(variant: str, seed: int, args: argparse.Namespace) -> list[float]:
    """One run; prints its per-epoch diagnostics and returns the test accuracy curve (before
    the drift, right after it, then after every further epoch)."""
    from phyll_core.engine import Run, TrainConfig, network
    from phyll_core.engine.network import PhysicalLayer, embed
    from phyll_core.engine.optim import Adam

    old_limits = network.REFRESH_SHIFT, network.REFRESH_SPREAD
    if variant.startswith("fixed"):
        network.REFRESH_SHIFT = network.REFRESH_SPREAD = float("inf")
    negatives = "random" if variant == "fixed-random" else "hardest"
    config = TrainConfig(
        system=["microwave"], dataset=args.dataset, params={"control_atoms": 20},
        rule_params={"negatives": negatives}, seed=seed, epochs=10**6, eval_every=10**6,
    )
    run = Run(config)
    rule, data = run.rule, run.data
    seen: dict[int, list[tuple[float, float]]] = {}
    layers = {id(b.layer): b.index for b in rule.blocks}
    original = PhysicalLayer.forward

    def watched(self: PhysicalLayer, h: np.ndarray, calibrate: bool = False) -> np.ndarray:
        out = original(self, h, calibrate)
        if calibrate and id(self) in layers:
            off = float(np.sqrt(np.mean(out.mean(axis=0) ** 2)))
            seen.setdefault(layers[id(self)], []).append((off, float(out.std(axis=0).mean())))
        return out

    def accuracy() -> float:
        return float(np.mean(rule.predict(data.x_test, run.method) == data.y_test))

    def negatives_of() -> str:
        x, y = data.x_train[:512], data.y_train[:512]
        s = rule.block_scores(x)
        total = s.sum(axis=0)
        total[np.arange(y.size), y] = -np.inf
        counts = np.bincount(np.argmax(total, axis=1), minlength=rule.problem.n_classes)
        return (
            f"negatives: {int(np.count_nonzero(counts))} classes, largest"
            f" {100 * counts.max() / y.size:.0f} %, goodness spread {float(s[0].std()):.4f}"
        )

    def report(tag: str) -> float:
        acc = accuracy()
        offs = "  ".join(
            f"block{k} off {np.mean([o for o, _ in v]):.2f} std {np.mean([s for _, s in v]):.2f}"
            for k, v in sorted(seen.items())
        )
        print(f"  {tag:>10}: {100 * acc:5.1f} %  {offs}  {negatives_of()}", flush=True)
        seen.clear()
        return acc

    PhysicalLayer.forward = watched  # type: ignore[method-assign]
    curve = []
    try:
        print(f"{variant}, seed {seed} (negatives={negatives}):", flush=True)
        for epoch in range(1, args.epochs + 1):
            run.train_epoch()
            if epoch == args.drift_at:
                curve.append(report(f"epoch {epoch}"))
                rng = np.random.default_rng([seed, 99])
                for s in run.unique_systems():
                    s.perturb(args.drift, rng)
                if variant == "fixed-adam":
                    for b in rule.blocks:
                        b.opt = Adam(lr=b.opt.lr, weight_decay=b.opt.weight_decay)
                        b.opt.init(b.params)
                # the outputs at the old statistics, on the training rows
                x, y = data.x_train[:1024], data.y_train[:1024]
                b0 = rule.blocks[0]
                h = embed(x, y, rule.problem.n_classes, rule.problem.label_constant)
                if "out_mean" in b0.layer.stats:
                    out = b0.physics(h)
                    print(f"  {'drift':>10}: block0 outputs on the training rows: off"
                          f" {float(np.sqrt(np.mean(out.mean(axis=0) ** 2))):.2f} std"
                          f" {float(out.std(axis=0).mean()):.2f}")
                curve.append(report("after"))
                if variant == "fixed-recal":  # the next training pass measures them again
                    for b in rule.blocks:
                        b.layer.stats.pop("out_mean", None)
                        b.layer.stats.pop("out_std", None)
            elif epoch > args.drift_at:
                curve.append(report(f"epoch {epoch}"))
            elif epoch % 3 == 0 or epoch == 1:
                report(f"epoch {epoch}")
            else:
                seen.clear()
    finally:
        PhysicalLayer.forward = original  # type: ignore[method-assign]
        network.REFRESH_SHIFT, network.REFRESH_SPREAD = old_limits
    return curve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist1d")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--drift", type=float, default=0.2)
    parser.add_argument("--drift-at", type=int, default=6)
    parser.add_argument(
        "--variants", default="engine,fixed,fixed-recal,fixed-adam,fixed-random"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    summary: dict[str, Any] = {}
    for variant in args.variants.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            start = time.perf_counter()
            curve = run_variant(variant, seed, args)
            print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
            summary.setdefault(variant, []).append(curve)
    print("\nvariant: before drift -> right after -> last epoch (test %, mean over seeds)")
    for variant, curves in summary.items():
        c = 100 * np.mean(np.asarray(curves), axis=0)
        print(f"{variant:>13}: {c[0]:.1f} -> {c[1]:.1f} -> {c[-1]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
