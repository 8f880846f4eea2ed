"""The one-pass readout's regularisation: test accuracy of one trained network against ``C``.

Trains ``phyll train`` defaults (one system, one dataset, one seed), then fits the readout's
logistic regression on the same standardised block features with each ``C`` of a grid and
prints the test accuracy of each, beside the goodness. The table in docs/training.md
("Prediction") was made with it::

    python benchmarks/readout_c.py mnist1d identity 0
"""

from __future__ import annotations

import argparse

import numpy as np

from phyll_core.engine.config import TrainConfig
from phyll_core.engine.logistic import fit_logistic
from phyll_core.engine.trainer import Run

GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("system")
    ap.add_argument("seed", type=int)
    args = ap.parse_args()
    run = Run(TrainConfig(system=args.system, dataset=args.dataset, seed=args.seed))
    run.train()
    rule, data = run.rule, run.data
    goodness = np.mean(rule.predict(data.x_test, "goodness") == data.y_test)
    train, test = rule._features(data.x_train), rule._features(data.x_test)
    mean, scale = train.mean(axis=0), train.std(axis=0)
    scale[scale < 1e-12] = 1.0
    cells = []
    for c in GRID:
        model = fit_logistic((train - mean) / scale, data.y_train, c=c)
        acc = np.mean(model.predict((test - mean) / scale) == data.y_test)
        cells.append(f"C={c:g} {100 * acc:.1f}")
    print(f"{args.dataset} {args.system} seed {args.seed}: goodness {100 * goodness:.1f} |",
          " ".join(cells))


if __name__ == "__main__":
    main()
