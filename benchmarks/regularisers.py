"""Regularisers of the physical layer the engine does not offer, against its defaults: each
system's physical outputs scaled by a gain in ``z``, or the offset encoder's span changed; and
the optimiser's budget: a cosine decay of the learning rate over the epochs, more inner steps
per batch, more epochs or smaller batches.

For each system and seed, ``phyll train`` defaults (plus ``-p`` parameters and
``--weight-decay``) with the patched layer; one line per run, then mean ± std of the goodness
test accuracy per system. Round 7 (docs/results.md, "Physics gain, round 7") ran these, each
with ``--eval-every 1000`` (one evaluation, at the end)::

    python benchmarks/regularisers.py mnist1d identity,random-features,acoustic,lens \
        --seeds 0,1,2,3,4 --gain 0.5
    python benchmarks/regularisers.py mnist1d identity,random-features,acoustic,lens \
        --seeds 0,1,2,3,4 --gain 0.25
    python benchmarks/regularisers.py mnist1d microwave --seeds 0,1 --gain 0.5
    python benchmarks/regularisers.py mnist1d microwave --seeds 0,1 --span 1.5
    python benchmarks/regularisers.py mnist1d identity,random-features,acoustic,microwave \
        --seeds 0,1 --weight-decay 0.1
    python benchmarks/regularisers.py mnist1d acoustic --seeds 0,1,2,3,4 -p noise=0
    python benchmarks/regularisers.py mnist1d acoustic --seeds 0,1,2,3,4 -p cavity=chaotic
    python benchmarks/regularisers.py mnist1d lens --seeds 0,1,2,3,4 -p detection=intensity
    python benchmarks/regularisers.py mnist1d lens --seeds 0,1,2,3,4 -p pixels=256
    python benchmarks/regularisers.py mnist1d lens --seeds 0,1,2,3,4 -p encoding=phase
    python benchmarks/regularisers.py mnist1d lens --seeds 0,1,2,3,4 -p encoding=amplitude

Round 8 ("Physics gain, round 8"), also with ``--eval-every 1000``::

    python benchmarks/regularisers.py mnist1d lens,identity --seeds 0,1,2,3,4 --schedule cosine
    python benchmarks/regularisers.py mnist1d lens,identity --seeds 0,1,2,3,4 --schedule cosine \
        --lr 0.02
    python benchmarks/regularisers.py mnist1d lens,identity --seeds 0,1,2,3,4 --inner-steps 30
    python benchmarks/regularisers.py mnist1d microwave --seeds 0,1 -p frequencies=60
    python benchmarks/regularisers.py mnist1d lens --seeds 0,1,2,3,4 --no-reduce
    python benchmarks/regularisers.py digits microwave --seeds 0 --no-skip -p frequencies=150
    python benchmarks/regularisers.py circles identity,acoustic,microwave \
        --seeds 0,1,2,3,4,5,6,7,8,9   # and with --schedule cosine, --inner-steps 20
    python benchmarks/regularisers.py circles identity,acoustic,microwave,random-features,\
optical,lens --seeds 0,1,2,3,4,5,6,7,8,9 --batch-size 267
    python benchmarks/regularisers.py circles acoustic,microwave --seeds 0,1,2,3,4,5,6,7,8,9 \
        --epochs 300
    python benchmarks/regularisers.py circles identity --seeds 0,1,4 --epochs 300
    python benchmarks/regularisers.py circles acoustic --seeds 0,1,2,3,4,5,6,7,8,9 -p noise=0

``--gain 1 --span 3 --schedule constant`` (the defaults) is the engine itself.
"""

from __future__ import annotations

import math

import numpy as np
from results import accuracy_text, experiment_parser, mean_std

from phyll_core.datasets import load, split
from phyll_core.engine import network
from phyll_core.engine.config import REDUCE, TrainConfig
from phyll_core.engine.trainer import EpochMetrics, Run
from phyll_core.params import split_assignments


def patch_gain(gain: float) -> None:
    """Scale every physical layer's outputs by ``gain`` (training and prediction alike)."""
    forward = network.PhysicalLayer.forward

    def scaled(self: network.PhysicalLayer, *args: object, **kwargs: object) -> np.ndarray:
        return gain * forward(self, *args, **kwargs)  # type: ignore[arg-type]

    network.PhysicalLayer.forward = scaled  # type: ignore[method-assign]


def cosine_schedule(run: Run) -> None:
    """Train ``run`` with every block's learning rate decayed as ``lr (1 + cos(pi e / E)) / 2``
    after epoch ``e`` of ``E`` (PhyLL's blocks; the engine itself keeps it constant)."""
    blocks = run.rule.blocks  # type: ignore[attr-defined]
    start = [block.opt.lr for block in blocks]

    def decay(metrics: EpochMetrics) -> None:
        factor = 0.5 * (1.0 + math.cos(math.pi * metrics.epoch / run.config.epochs))
        for block, lr in zip(blocks, start, strict=True):
            block.opt.lr = lr * factor

    run.train(on_epoch=decay)


def main() -> None:
    ap = experiment_parser(__doc__)
    ap.add_argument("--gain", type=float, default=1.0, help="physical outputs times this in z")
    ap.add_argument("--span", type=float, default=network.SPAN, help="offset encoder span")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--eval-every", type=int, default=0, help="as phyll train's (since round 8"
                    " it changes no number; round 7's runs of noisy systems depended on it)")
    ap.add_argument("-p", "--param", action="append", default=[], help="NAME=VALUE")
    ap.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                    help="learning rate over the epochs")
    ap.add_argument("--lr", type=float, default=None, help="default: phyll train's")
    ap.add_argument("--inner-steps", type=int, default=None, help="default: phyll train's")
    ap.add_argument("--epochs", type=int, default=None, help="default: phyll train's")
    ap.add_argument("--batch-size", type=int, default=None, help="default: phyll train's")
    ap.add_argument("--no-skip", action="store_true")
    ap.add_argument("--no-reduce", action="store_true", help="phyll train --no-reduce")
    args = ap.parse_args()
    if args.gain != 1.0:
        patch_gain(args.gain)
    network.SPAN = args.span
    data = load(args.dataset)
    params = split_assignments(args.param)
    table: dict[str, list[float]] = {}
    for system in args.systems.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            budget = {
                "lr": args.lr, "inner_steps": args.inner_steps, "epochs": args.epochs,
                "batch_size": args.batch_size,
            }
            config = TrainConfig(
                system=system, params=params, dataset=args.dataset, seed=seed,
                weight_decay=args.weight_decay, eval_every=args.eval_every, skip=not args.no_skip,
                reduce=False if args.no_reduce else REDUCE,
                **{k: v for k, v in budget.items() if v is not None},
            )
            run = Run(config, split(data, seed, config.test_fraction))
            if args.schedule == "cosine":
                cosine_schedule(run)
            else:
                run.train()
            test = run.summary()["accuracy_by_method"]["goodness"]["test_accuracy"]
            table.setdefault(system, []).append(test)
            print(f"{args.dataset} {system} gain {args.gain:g} span {args.span:g} weight decay"
                  f" {args.weight_decay:g} {args.schedule} seed {seed}: {accuracy_text(run)}",
                  flush=True)
    for system, accs in table.items():
        print(f"{system}: {mean_std(accs)} ({', '.join(f'{100 * v:.1f}' for v in accs)})")

if __name__ == "__main__":
    main()
