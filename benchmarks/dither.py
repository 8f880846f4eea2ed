"""Dithered inputs (``--dither``): training noise of a few input steps on a quantised system's
inputs, against none.

For each system, seed and ``--dither`` value (interleaved), ``phyll train`` defaults with that
``--dither`` (and ``--no-skip`` if given); one line per run (goodness train / test, readout
test), then mean ± std of the goodness test accuracy per value. The tables of
docs/training.md ("Dithered inputs") were made with::

    python benchmarks/dither.py mnist1d identity,microwave --seeds 0,1,2,3,4 --dither 0,1
    python benchmarks/dither.py circles microwave --seeds 0,1,2,3,4,5,6,7,8,9 --dither 0,0.5,1
    python benchmarks/dither.py circles identity --seeds 0,1,2,3,4,5,6,7,8,9 --dither 0
    python benchmarks/dither.py digits identity,microwave --seeds 0,1,2,3,4 --dither 0,1
    python benchmarks/dither.py digits identity,microwave --seeds 0,1,2 --dither 0,1 --no-skip

``--dithered-eval`` also scores the test rows through dithered passes (one seeded draw), to
tell a training effect from a train / predict mismatch::

    python benchmarks/dither.py circles microwave --seeds 9 --dither 1 --dithered-eval

An experiment the engine does not offer: ``--step Q`` gives every system the input step ``Q``
(continuous systems too), to show what the same noise does to the lens::

    python benchmarks/dither.py mnist1d identity,lens --seeds 0,1,2,3,4 --dither 0,1 --step 0.3
"""

from __future__ import annotations

import itertools

import numpy as np
from results import accuracy_text, experiment_parser, trained_run

from phyll_core.datasets import load
from phyll_core.engine import network
from phyll_core.engine.config import TrainConfig
from phyll_core.system import PhysicalSystem


def dithered_accuracy(run: object, seed: int) -> float:
    """Goodness test accuracy of a trained run scored through dithered passes."""
    forward = network.PhysicalLayer.forward
    rng = np.random.default_rng(seed)

    def noisy(self: network.PhysicalLayer, h: np.ndarray, calibrate: bool = False,
              noise: np.ndarray | None = None) -> np.ndarray:
        return forward(self, h, calibrate, self.dither_noise(h.shape[0], rng))

    network.PhysicalLayer.forward = noisy  # type: ignore[method-assign]
    try:
        data = run.data  # type: ignore[attr-defined]
        predicted = run.rule.predict(data.x_test, "goodness")  # type: ignore[attr-defined]
    finally:
        network.PhysicalLayer.forward = forward  # type: ignore[method-assign]
    return 100 * float(np.mean(predicted == data.y_test))


def main() -> None:
    ap = experiment_parser(__doc__)
    ap.add_argument("--dither", default="0,1", help="comma-separated values of --dither")
    ap.add_argument("--no-skip", action="store_true", help="train with --no-skip")
    ap.add_argument("--dithered-eval", action="store_true", help="also score dithered")
    ap.add_argument("--step", type=float, help="give every system this input step (experiment)")
    args = ap.parse_args()
    if args.step is not None:
        PhysicalSystem.input_step = property(lambda self: args.step)  # type: ignore[method-assign,assignment]
    data = load(args.dataset)
    values = [float(v) for v in args.dither.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    table: dict[tuple[str, float], list[float]] = {}
    for system, seed, dither in itertools.product(args.systems.split(","), seeds, values):
        config = TrainConfig(
            system=system, dataset=args.dataset, seed=seed, dither=dither, skip=not args.no_skip
        )
        run = trained_run(config, data)
        test = run.summary()["accuracy_by_method"]["goodness"]["test_accuracy"]
        table.setdefault((system, dither), []).append(100 * test)
        extra = f", dithered {dithered_accuracy(run, seed):.1f}" if args.dithered_eval else ""
        print(f"{args.dataset} {system} --dither {dither:g} seed {seed}: {accuracy_text(run)}"
              f"{extra}", flush=True)
    print("\n| system | --dither | goodness test % | per seed |")
    print("| --- | --- | --- | --- |")
    for (system, dither), accs in table.items():
        a = np.array(accs)
        spread = a.std(ddof=1) if a.size > 1 else 0.0
        shown = ", ".join(f"{v:.1f}" for v in a)
        print(f"| {system} | {dither:g} | {a.mean():.1f} ± {spread:.1f} | {shown} |")


if __name__ == "__main__":
    main()
