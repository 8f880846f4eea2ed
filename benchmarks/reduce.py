"""Reduced outputs (``--reduce``): wide physical outputs against as many whitened components as
the system has inputs.

Default: for each dataset, system and seed, ``phyll train`` defaults with ``--no-reduce`` and
with ``--reduce``, interleaved; one line per run (goodness train / test, readout test, the
width of ``z`` in each block, digital FLOPs and training seconds per epoch), then mean ± std
per variant. ``--curve`` instead prints train / test accuracy every 10 epochs of one seed.
The tables of docs/training.md ("Reduced outputs") were made with::

    python benchmarks/reduce.py --curve
    python benchmarks/reduce.py --datasets mnist1d,digits,circles --systems optical,lens --seeds 5

Two variants the engine does not offer, swapped in for the experiment (``--reduce`` runs only):
``--times K`` keeps ``K x input_dim`` components instead of ``input_dim``, and ``--square``
reduces systems as wide as their input too (every component of 20 outputs, whitened)::

    python benchmarks/reduce.py --systems optical --times 2 --variants reduce
    python benchmarks/reduce.py --systems identity,random-features,acoustic,microwave \
        --square --variants reduce --seeds 3
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
from results import trained_run

from phyll_core.datasets import load
from phyll_core.engine.config import TrainConfig
from phyll_core.engine.network import PhysicalLayer

#: the systems and variants of ``--curve``: (label, system, reduce)
CURVE = (
    ("identity", "identity", True),
    ("fibre, every pixel (--no-reduce)", "optical", False),
    ("fibre (--reduce)", "optical", True),
    ("microwave (20 outputs)", "microwave", True),
)


def curve(dataset: str, seed: int, every: int) -> None:
    data = load(dataset)
    for label, system, reduce in CURVE:
        config = TrainConfig(
            system=system, dataset=dataset, seed=seed, reduce=reduce, eval_every=every
        )
        run = trained_run(config, data)
        cells = [
            f"{m.epoch}: {100 * m.train_accuracy:.0f} / {100 * m.test_accuracy:.1f}"
            for m in run.history
            if m.test_accuracy is not None and m.train_accuracy is not None
        ]
        print(f"{dataset} seed {seed} {label}: " + ", ".join(cells), flush=True)


def patch(times: float, square: bool) -> None:
    """Swap the layer's width rule for the experiment's (``times`` components per input;
    ``square``: systems as wide as their input count as wide)."""

    def reduced(layer: PhysicalLayer) -> bool:
        out, inp = layer.system.output_dim, layer.system.input_dim
        return layer.reduce and layer.standardise and (out >= inp if square else out > inp)

    def out_width(layer: PhysicalLayer) -> int:
        out, inp = layer.system.output_dim, layer.system.input_dim
        return min(int(times * inp), out) if reduced(layer) else out

    PhysicalLayer.reduced = property(reduced)  # type: ignore[method-assign,assignment]
    PhysicalLayer.out_width = property(out_width)  # type: ignore[method-assign,assignment]


def compare(datasets: list[str], systems: list[str], seeds: int, variants: list[bool]) -> None:
    table: dict[tuple[str, str, bool], list[tuple[float, float, float, float]]] = {}
    for dataset in datasets:
        data = load(dataset)
        for system, seed, reduce in itertools.product(systems, range(seeds), variants):
            config = TrainConfig(system=system, dataset=dataset, seed=seed, reduce=reduce)
            run = trained_run(config, data)
            s = run.summary()
            good, read = s["accuracy_by_method"]["goodness"], s["accuracy_by_method"]["readout"]
            blocks = getattr(run.rule, "blocks", [])
            z = ",".join(str(b.params["W"].shape[1] - 1) for b in blocks)
            row = (
                100 * good["test_accuracy"],
                100 * read["test_accuracy"],
                s["digital_flops"],
                s["train_seconds_per_epoch"],
            )
            table.setdefault((dataset, system, reduce), []).append(row)
            print(
                f"{dataset} {system} {'--reduce' if reduce else '--no-reduce'} seed {seed}:"
                f" goodness {100 * good['train_accuracy']:.1f} / {row[0]:.1f}, readout"
                f" {row[1]:.1f}, z {z}, digital FLOPs {row[2]:.3g}, {row[3]:.3f} s/epoch",
                flush=True,
            )
    print("\n| dataset | system | variant | goodness | readout | digital FLOPs | s/epoch |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (dataset, system, reduce), rows in table.items():
        a = np.array(rows)
        print(
            f"| {dataset} | {system} | {'--reduce' if reduce else '--no-reduce'} |"
            f" {a[:, 0].mean():.1f} ± {a[:, 0].std():.1f} | {a[:, 1].mean():.1f} ± "
            f"{a[:, 1].std():.1f} | {a[:, 2].mean():.3g} | {a[:, 3].mean():.3f} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--curve", action="store_true", help="accuracy against epoch, one seed")
    ap.add_argument("--datasets", default="mnist1d")
    ap.add_argument("--systems", default="optical,lens")
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1")
    ap.add_argument("--seed", type=int, default=0, help="the seed of --curve")
    ap.add_argument("--every", type=int, default=10, help="epochs between --curve points")
    ap.add_argument("--variants", default="no-reduce,reduce", help="comma-separated")
    ap.add_argument("--times", type=float, default=1.0, help="components per system input")
    ap.add_argument("--square", action="store_true", help="reduce outputs as wide as inputs")
    args = ap.parse_args()
    if args.times != 1.0 or args.square:
        patch(args.times, args.square)
    if args.curve:
        curve(args.datasets.split(",")[0], args.seed, args.every)
    else:
        variants = [v == "reduce" for v in args.variants.split(",")]
        compare(args.datasets.split(","), args.systems.split(","), args.seeds, variants)


if __name__ == "__main__":
    main()
