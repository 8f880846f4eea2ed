"""Accuracy and speed of the PhyLL engine with the default hyper-parameters of `phyll train`.

    python benchmarks/engine_bench.py            # everything (about 20-40 minutes on 2 cores)
    python benchmarks/engine_bench.py --only speed

Writes the sections `engine-accuracy` and `engine-speed` of docs/results.md. Vowel rows need
../shared/data (the measured data folder beside the repository) and are skipped without it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

from phyll_core.engine import Run, TrainConfig

ROOT = Path(__file__).resolve().parent.parent
VOWELS = ROOT.parent / "shared" / "data" / "vowels" / "hillenbrand_women_7vowels.csv"
VOWELS_ARG = "csv:../shared/data/vowels/hillenbrand_women_7vowels.csv"

# (label, CLI options shown in the table, TrainConfig overrides, seeds, target)
ACCURACY = [
    ("vowels", "--dataset VOWELS --blocks 2 --system random-features",
     dict(dataset="VOWELS", blocks=2, system="random-features"), 10, 0.97),
    ("digits", "--dataset digits", dict(dataset="digits"), 5, 0.95),
    ("digits (backprop)", "--dataset digits --rule backprop",
     dict(dataset="digits", rule="backprop"), 5, None),
    ("circles", "--dataset circles --system random-features",
     dict(dataset="circles", system="random-features"), 5, 0.98),
    ("circles (identity)", "--dataset circles --system identity",
     dict(dataset="circles", system="identity"), 5, None),
]


def accuracy_rows() -> list[str]:
    rows = []
    for label, options, overrides, seeds, target in ACCURACY:
        if overrides.get("dataset") == "VOWELS":
            if not VOWELS.is_file():
                print(f"skip {label}: {VOWELS} is absent", file=sys.stderr)
                continue
            overrides = {**overrides, "dataset": f"csv:{VOWELS}"}
            options = options.replace("VOWELS", VOWELS_ARG)
        tests, readouts, queries = [], [], []
        for seed in range(seeds):
            # evaluating only after the last epoch changes no weight, only saves time
            run = Run(TrainConfig(seed=seed, eval_every=10**6, **overrides))
            run.train()
            s = run.summary()
            tests.append(s["test_accuracy"])
            readouts.append(s["accuracy_by_method"].get("readout", {}).get("test_accuracy", np.nan))
            queries.append(s["physical_queries"])
            print(f"{label} seed {seed}: {s['test_accuracy']:.4f}", file=sys.stderr, flush=True)
        mean = float(np.mean(tests))
        verdict = "" if target is None else (" ✓" if mean >= target else " ✗ (below target)")
        readout = "-" if np.isnan(readouts).all() else f"{np.nanmean(readouts):.4f}"
        rows.append(
            f"| {label} | `phyll train {options}` | {seeds} | {mean:.4f} ± {np.std(tests):.4f}"
            f"{verdict} | {'-' if target is None else f'{target:.2f}'} | {readout} |"
            f" {np.mean(queries):,.0f} |"
        )
    return rows


def speed_row(repeats: int = 3) -> str:
    """Seconds per training epoch of the published vowel configuration (best of repeats)."""
    dataset = f"csv:{VOWELS}" if VOWELS.is_file() else "iris"
    per_epoch = []
    for _ in range(repeats):
        run = Run(TrainConfig(system="identity", dataset=dataset, blocks=2, width=20,
                              inner_steps=10, epochs=200, eval_every=200))
        run.train()
        per_epoch.append(run.summary()["train_seconds_per_epoch"])
    name = "vowels" if VOWELS.is_file() else "iris (vowels absent)"
    return (
        f"| {name} | `phyll train --dataset {VOWELS_ARG if VOWELS.is_file() else 'iris'}"
        " --system identity --blocks 2 --width 20 --inner-steps 10 --epochs 200` |"
        f" {1000 * min(per_epoch):.2f} ms (best of {repeats}; runs: "
        + ", ".join(f"{1000 * v:.2f}" for v in per_epoch) + ") | <= 5 ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("accuracy", "speed"))
    args = parser.parse_args()
    if args.only in (None, "speed"):
        row = speed_row()
        print(row)
        write_section(
            "engine-speed",
            "Engine speed: published vowel configuration",
            "Training time per epoch (`train_seconds_per_epoch`: the training steps only,"
            " no evaluation), full batch.\n\n| data | command | seconds per epoch | target |\n"
            "| --- | --- | --- | --- |\n" + row,
        )
    if args.only in (None, "accuracy"):
        rows = accuracy_rows()
        print("\n".join(rows))
        write_section(
            "engine-accuracy",
            "Engine accuracy with the defaults of `phyll train`",
            "Mean ± std of the test accuracy over seeds 0..N-1 (80/20 stratified split per"
            " seed); `readout` is the one-pass readout prediction of the same networks;"
            " physical queries include the final evaluation (the script evaluates once, after"
            " the last epoch).\n\n"
            "| task | command (plus `--seed S`) | seeds | test accuracy | target | readout |"
            " physical queries |\n| --- | --- | --- | --- | --- | --- | --- |\n"
            + "\n".join(rows),
        )


if __name__ == "__main__":
    main()
