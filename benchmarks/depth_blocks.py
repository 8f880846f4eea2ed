"""Depth: each block's own goodness accuracy, the accuracy of the sum over the first k blocks,
and of the fitted block weights (the ``weighted`` prediction), for one deep PhyLL network.

    python benchmarks/depth_blocks.py --system lens --blocks 10 --seed 0

Prints the figures quoted in docs/training.md ("Depth"); ``phyll train`` defaults otherwise.
"""

from __future__ import annotations

import argparse

import numpy as np

from phyll_core.engine import Run, TrainConfig
from phyll_core.engine.trainer import blas_limit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", default="lens")
    ap.add_argument("--dataset", default="mnist1d")
    ap.add_argument("--blocks", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    run = Run(TrainConfig(system=a.system, dataset=a.dataset, blocks=a.blocks, seed=a.seed))
    run.train()
    rule, d = run.rule, run.data
    with blas_limit(), rule.shared_scoring():
        rule.fit_readout(d.x_train, d.y_train)
        for name, x, y in (("train", d.x_train, d.y_train), ("test", d.x_test, d.y_test)):
            g = rule.block_scores(x)  # (K, n, C)
            single = [np.mean(g[k].argmax(1) == y) for k in range(len(g))]
            prefix = [np.mean(g[: k + 1].sum(0).argmax(1) == y) for k in range(len(g))]
            weighted = np.mean(np.einsum("k,knc->nc", rule.block_weights, g).argmax(1) == y)
            print(f"{name}: each block  " + " ".join(f"{100 * v:.1f}" for v in single))
            print(f"{name}: first k summed " + " ".join(f"{100 * v:.1f}" for v in prefix))
            print(f"{name}: weighted {100 * weighted:.1f}")
    print("weights", " ".join(f"{w:.1f}" for w in rule.block_weights))


if __name__ == "__main__":
    main()
