"""Benchmark of the acoustic backend: throughput, nonlinearity, and PhyLL accuracy figures.

Measures ``phyll probe acoustic`` (best of ``--repeats`` runs: the machine may be shared) for
the default system and a few variants, the pooled nonlinearity score of the measured cavity
(../shared/data/acoustic_cavity, when present) beside the simulator's on the same inputs, then
trains with the defaults of ``phyll train`` (only ``--system acoustic --blocks 2 --dataset D
--seed S``) on circles (5 seeds) and the Hillenbrand vowels (10 seeds, when ../shared/data is
present), and writes the ``acoustic`` section of docs/results.md.

    python benchmarks/acoustic_bench.py                  # everything (about half an hour)
    python benchmarks/acoustic_bench.py --skip-accuracy  # throughput and scores only
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from results import accuracy_over_seeds, probe_variants, write_section  # noqa: E402

DATA = ROOT / ".." / "shared" / "data"
VOWELS = DATA / "vowels" / "hillenbrand_women_7vowels.csv"
MEASURED = DATA / "acoustic_cavity"
VARIANTS: dict[str, list[str]] = {
    "defaults (room, tanh, 4 speakers x 5 tones)": [],
    "cavity=chaotic": ["cavity=chaotic"],
    "nonlinearity=poly": ["nonlinearity=poly"],
    "nonlinearity=none": ["nonlinearity=none"],
    "speakers=1 (20 tones)": ["speakers=1"],
}


def throughput(samples: int, repeats: int) -> list[dict[str, Any]]:
    """Best-of-``repeats`` probe of every variant."""
    return probe_variants("acoustic", VARIANTS, samples, repeats)


def measured_scores() -> dict[str, float] | None:
    """Pooled nonlinearity score of the measured pairs and of the default simulator driven by
    the same inputs (``None`` without ../shared/data)."""
    from phyll_acoustic import AcousticCavity

    from phyll_core.probe import nonlinearity_score

    if not (MEASURED / "inputs.csv").is_file():
        print(f"measured cavity skipped: {MEASURED} not found")
        return None
    x = np.loadtxt(MEASURED / "inputs.csv", delimiter=",")
    y = np.loadtxt(MEASURED / "outputs.csv", delimiter=",")
    sim = AcousticCavity().forward(x)
    out = {"measured": nonlinearity_score(x, y), "simulated": nonlinearity_score(x, sim)}
    print(f"nonlinearity score: measured {out['measured']:.4f}, simulated {out['simulated']:.4f}")
    return out


def accuracy(dataset: str, seeds: int) -> dict[str, Any]:
    """Train ``--system acoustic --blocks 2`` with every other option at its default."""
    return accuracy_over_seeds("acoustic", dataset, seeds)


def _name(dataset: str) -> str:
    return "vowels (Hillenbrand, 7 classes)" if "vowels" in dataset else dataset


def _body(
    speed: list[dict[str, Any]],
    scores: dict[str, float] | None,
    tasks: list[dict[str, Any]],
    samples: int,
) -> str:
    lines = [
        f"`phyll probe acoustic --samples {samples}` (best of {len(speed[0]['all_runs'])} runs;"
        " the machine was shared with other jobs, so these are lower bounds):",
        "",
        "| system parameters | samples/s | nonlinearity (1 - R^2 affine) |",
        "|---|---:|---:|",
    ]
    for row in speed:
        lines.append(
            f"| {row['variant']} | {row['samples_per_second']:,.0f} | {row['nonlinearity']:.3f} |"
        )
    if scores:
        lines += [
            "",
            "Pooled nonlinearity score on the 8,000 measured input rows of"
            " `../shared/data/acoustic_cavity`: measured outputs"
            f" **{scores['measured']:.3f}**, default simulator on the same inputs"
            f" **{scores['simulated']:.3f}** (required range 0.02-0.2).",
        ]
    if tasks:
        lines += [
            "",
            "PhyLL with the defaults of `phyll train` (`--system acoustic --blocks 2`, nothing"
            " else set), mean over seeds 0..N-1:",
            "",
            "| dataset | seeds | test accuracy (mean ± std) | min | train accuracy |"
            " seconds per run | physical queries per run |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for t in tasks:
            lines.append(
                f"| {_name(t['dataset'])} | {t['seeds']} | {100 * t['test_mean']:.1f} % ±"
                f" {100 * t['test_std']:.1f} | {100 * t['test_min']:.1f} % |"
                f" {100 * t['train_mean']:.1f} % | {t['seconds_mean']:.0f} |"
                f" {t['queries_mean']:,.0f} |"
            )
        lines += [
            "",
            "Per-seed test accuracies: "
            + "; ".join(
                f"{_name(t['dataset'])}: " + ", ".join(f"{100 * a:.1f}" for a in t["test_all"])
                for t in tasks
            ),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--circles-seeds", type=int, default=5)
    parser.add_argument("--vowels-seeds", type=int, default=10)
    args = parser.parse_args(argv)

    speed = throughput(args.samples, args.repeats)
    scores = measured_scores()
    tasks = []
    if not args.skip_accuracy:
        tasks.append(accuracy("circles", args.circles_seeds))
        if VOWELS.is_file():
            tasks.append(accuracy(f"csv:{VOWELS.resolve()}", args.vowels_seeds))
        else:
            print(f"vowels skipped: {VOWELS} not found")
    body = _body(speed, scores, tasks, args.samples)
    write_section("acoustic", "Acoustic backend (phyll-acoustic)", body)


if __name__ == "__main__":
    main()
