"""Whitened physical outputs: train vs test accuracy and the components kept, per ``--whiten``.

Trains ``phyll train`` defaults with each ``--whiten`` value (0: plain per-output
standardisation) for each system and seed, and prints one line per run: goodness train / test
accuracy, readout test accuracy, and the number of principal components each block keeps. The
tables in docs/training.md ("Whitened outputs") were made with it::

    python benchmarks/whiten.py mnist1d identity,optical,microwave --whiten 0,0.9,0.95,0.99
    python benchmarks/whiten.py circles random-features,acoustic,optical,microwave,identity,lens \
        --seeds 0,1,2 --whiten 0,0.95,0.99
    python benchmarks/whiten.py mnist1d optical,microwave --whiten 1 --shrink 1,0.1

``--shrink D`` replaces the engine's basis by one that keeps every component and scales each by
``1/sqrt(l + D mean(l))`` (shrinkage whitening: nothing dropped, small components damped),
to tell decorrelation from dropping components. The tables were measured before ``--reduce``
existed, so the runs keep every output column (``--no-reduce``) unless ``--reduce`` is given
(benchmarks/reduce.py measures that).
"""

from __future__ import annotations

import itertools

import numpy as np
from results import accuracy_text, experiment_parser, trained_run

from phyll_core.datasets import load
from phyll_core.engine import network
from phyll_core.engine.config import TrainConfig
from phyll_core.engine.trainer import Run

ENGINE_BASIS = network._whitening_basis


def shrinkage_basis(shrink: float):
    """A basis of every component, each scaled by ``1/sqrt(l + shrink mean(l))`` (rotated back
    onto the outputs: the layer's width and order stay)."""

    def basis(s: np.ndarray, keep: float) -> np.ndarray:
        d = s - s.mean(axis=0)
        lam, vec = np.linalg.eigh(d.T @ d / s.shape[0])
        lam = np.maximum(lam, 0.0)
        return (vec / np.sqrt(lam + shrink * lam.mean())) @ vec.T

    return basis


def kept(run: Run) -> str:
    """Components kept per block (``-``: not whitened)."""
    cells = []
    for block in run.rule.blocks:
        basis = block.layer.stats.get("out_basis")
        cells.append(f"{basis.shape[1]}/{basis.shape[0]}" if basis is not None else "-")
    return ",".join(cells)


def main() -> None:
    ap = experiment_parser(__doc__)
    ap.add_argument("--whiten", default="0,0.95", help="comma-separated fractions")
    ap.add_argument("--shrink", default="", help="comma-separated D: shrinkage bases instead")
    ap.add_argument("--reduce", action="store_true", help="reduce wide outputs (the default)")
    args = ap.parse_args()
    data = load(args.dataset)
    seeds = [int(s) for s in args.seeds.split(",")]
    fractions = [float(f) for f in args.whiten.split(",")]
    bases = [(f"shrink {d}", shrinkage_basis(float(d))) for d in args.shrink.split(",") if d]
    for (name, basis), f, system, seed in itertools.product(
        bases or [("", ENGINE_BASIS)], fractions, args.systems.split(","), seeds
    ):
        network._whitening_basis = basis
        config = TrainConfig(
            system=system, dataset=args.dataset, seed=seed, whiten=f, reduce=args.reduce
        )
        run = trained_run(config, data)
        print(
            f"{args.dataset} whiten={f:g} {name} {system:16s} seed {seed}: {accuracy_text(run)},"
            f" kept {kept(run)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
