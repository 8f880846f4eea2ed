"""Whitened physical outputs: train vs test accuracy and the components kept, per ``--whiten``.

Trains ``phyll train`` defaults with each ``--whiten`` value (0: plain per-output
standardisation) for each system and seed, and prints one line per run: goodness train / test
accuracy, readout test accuracy, and the number of principal components each block keeps. The
tables in docs/training.md ("Whitened outputs") were made with it::

    python benchmarks/whiten.py mnist1d identity,optical,microwave --whiten 0,0.9,0.95,0.99
    python benchmarks/whiten.py circles random-features,acoustic,optical,microwave,identity,lens \
        --seeds 0,1,2 --whiten 0,0.95,0.99
"""

from __future__ import annotations

import argparse
import itertools

from phyll_core.datasets import load, split
from phyll_core.engine.config import TrainConfig
from phyll_core.engine.trainer import Run


def kept(run: Run) -> str:
    """Components kept per block (``-``: not whitened)."""
    cells = []
    for block in run.rule.blocks:
        basis = block.layer.stats.get("out_basis")
        cells.append(f"{basis.shape[1]}/{basis.shape[0]}" if basis is not None else "-")
    return ",".join(cells)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("systems", help="comma-separated")
    ap.add_argument("--seeds", default="0", help="comma-separated")
    ap.add_argument("--whiten", default="0,0.95", help="comma-separated fractions")
    args = ap.parse_args()
    data = load(args.dataset)
    seeds = [int(s) for s in args.seeds.split(",")]
    fractions = [float(f) for f in args.whiten.split(",")]
    for f, system, seed in itertools.product(fractions, args.systems.split(","), seeds):
        config = TrainConfig(system=system, dataset=args.dataset, seed=seed, whiten=f)
        run = Run(config, split(data, seed, config.test_fraction))
        run.train()
        acc = run.summary()["accuracy_by_method"]
        good, read = acc["goodness"], acc["readout"]
        print(
            f"{args.dataset} whiten={f:g} {system:16s} seed {seed}: goodness"
            f" {100 * good['train_accuracy']:.1f} / {100 * good['test_accuracy']:.1f},"
            f" readout {100 * read['test_accuracy']:.1f}, kept {kept(run)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
