"""Regularisers of the physical layer the engine does not offer, against its defaults: each
system's physical outputs scaled by a gain in ``z``, or the offset encoder's span changed.

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

``--gain 1 --span 3`` (the defaults) is the engine itself.
"""

from __future__ import annotations

import numpy as np
from results import accuracy_text, experiment_parser, trained_run

from phyll_core.datasets import load
from phyll_core.engine import network
from phyll_core.engine.config import TrainConfig
from phyll_core.params import split_assignments


def patch_gain(gain: float) -> None:
    """Scale every physical layer's outputs by ``gain`` (training and prediction alike)."""
    forward = network.PhysicalLayer.forward

    def scaled(self: network.PhysicalLayer, *args: object, **kwargs: object) -> np.ndarray:
        return gain * forward(self, *args, **kwargs)  # type: ignore[arg-type]

    network.PhysicalLayer.forward = scaled  # type: ignore[method-assign]


def main() -> None:
    ap = experiment_parser(__doc__)
    ap.add_argument("--gain", type=float, default=1.0, help="physical outputs times this in z")
    ap.add_argument("--span", type=float, default=network.SPAN, help="offset encoder span")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--eval-every", type=int, default=0, help="as phyll train's (noisy systems:"
                    " evaluation passes draw on the noise too)")
    ap.add_argument("-p", "--param", action="append", default=[], help="NAME=VALUE")
    args = ap.parse_args()
    if args.gain != 1.0:
        patch_gain(args.gain)
    network.SPAN = args.span
    data = load(args.dataset)
    params = split_assignments(args.param)
    table: dict[str, list[float]] = {}
    for system in args.systems.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            config = TrainConfig(
                system=system, params=params, dataset=args.dataset, seed=seed,
                weight_decay=args.weight_decay, eval_every=args.eval_every,
            )
            run = trained_run(config, data)
            test = run.summary()["accuracy_by_method"]["goodness"]["test_accuracy"]
            table.setdefault(system, []).append(100 * test)
            print(f"{args.dataset} {system} gain {args.gain:g} span {args.span:g} weight decay"
                  f" {args.weight_decay:g} seed {seed}: {accuracy_text(run)}", flush=True)
    for system, accs in table.items():
        a = np.array(accs)
        print(f"{system}: {a.mean():.1f} ± {a.std(ddof=1) if a.size > 1 else 0.0:.1f} "
              f"({', '.join(f'{v:.1f}' for v in a)})")


if __name__ == "__main__":
    main()
