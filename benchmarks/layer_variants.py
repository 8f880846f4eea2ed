"""The experiment behind the physical layer's design: encoder x output standardisation.

Trains ``phyll train`` defaults on a dataset through each system with each combination of
``--encoder offset|magnitude`` and ``--standardise/--no-standardise`` and prints the goodness
and readout test accuracy (section ``layer-variants`` of docs/results.md). Usage::

    python benchmarks/layer_variants.py --dataset mnist1d --systems identity,optical --seeds 0
    python benchmarks/layer_variants.py --param inputs=64   # a wider system input

About 10 s per identity run and 1-3 min per optical run on mnist1d on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

VARIANTS = {
    "magnitude, raw": dict(encoder="magnitude", standardise=False),
    "offset, raw": dict(encoder="offset", standardise=False),
    "magnitude, standardised": dict(encoder="magnitude", standardise=True),
    "offset, standardised": dict(encoder="offset", standardise=True),
}


def main() -> None:
    from phyll_core.datasets import load, split
    from phyll_core.engine.config import TrainConfig
    from phyll_core.engine.trainer import Run
    from phyll_core.params import split_assignments

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="mnist1d")
    ap.add_argument("--systems", default="identity,random-features,optical")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--param", action="append", default=[], help="NAME=VALUE (repeatable)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    a = ap.parse_args()
    data = load(a.dataset)
    params = split_assignments(a.param)
    seeds = [int(s) for s in a.seeds.split(",")]
    rows = []
    for system, variant, seed in itertools.product(
        a.systems.split(","), a.variants.split(","), seeds
    ):
        config = TrainConfig(system=system, dataset=a.dataset, seed=seed,
                             params=dict(params), **VARIANTS[variant])
        run = Run(config, split(data, seed, config.test_fraction))
        run.train()
        acc = run.summary()["accuracy_by_method"]
        good, read = acc["goodness"]["test_accuracy"], acc["readout"]["test_accuracy"]
        row = f"| {system} | {variant} | {seed} | {100 * good:.1f} | {100 * read:.1f} |"
        print(row, flush=True)
        rows.append(row)
    if not a.no_write:
        write_section(
            "layer-variants",
            f"Physical layer variants on {a.dataset}",
            "Test accuracy (%) of `phyll train` defaults with each encoder and output"
            " standardisation (`--encoder`, `--standardise/--no-standardise`).\n\n"
            "| system | encoder, outputs | seed | goodness | readout |\n| --- | --- | --- | --- |"
            " --- |\n" + "\n".join(rows),
        )


if __name__ == "__main__":
    main()
