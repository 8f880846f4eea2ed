"""Benchmark of the acoustic backend: throughput, nonlinearity, and PhyLL accuracy figures.

Measures ``phyll probe acoustic`` (best of ``--repeats`` runs: the machine may be shared) for
the default system and a few variants, the pooled nonlinearity score of the measured cavity
(../shared/data/acoustic_cavity, when present) beside the simulator's on the same inputs, then
trains with the defaults of ``phyll train`` (only ``--system acoustic --blocks 2 --dataset D
--seed S``) on circles (5 seeds) and the Hillenbrand vowels (10 seeds, when ../shared/data is
present), and writes the ``acoustic`` section of docs/results.md.

It also measures the change of default from one microphone to four (``microphones=1``, the
previous default, against the defaults): accuracy on the vowels and on digits with the skip
connection on and off, beside the effective dimension of the outputs.

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
    "defaults (room, tanh, 4 speakers x 5 tones, 4 microphones)": [],
    "microphones=1 (the previous default)": ["microphones=1"],
    "preset=measured": ["preset=measured"],
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
    preset = AcousticCavity(preset="measured").forward(x)
    out = {
        "measured": nonlinearity_score(x, y),
        "simulated": nonlinearity_score(x, sim),
        "preset": nonlinearity_score(x, preset),
    }
    print(f"nonlinearity score: {out}")
    return out


def accuracy(dataset: str, seeds: int) -> dict[str, Any]:
    """Train ``--system acoustic --blocks 2`` with every other option at its default."""
    return accuracy_over_seeds("acoustic", dataset, seeds)


def microphone_comparison(vowels_seeds: int, digits_seeds: int) -> list[dict[str, Any]]:
    """Accuracy with one microphone (the previous default) and with the defaults, skip
    connection on and off, with the effective dimension of the outputs of each cavity."""
    from phyll_acoustic import AcousticCavity
    from phyll_acoustic.stats import correlated_pairs, effective_dimension

    x = np.random.default_rng(0).uniform(size=(4096, 20))
    rows = []
    tasks = [("digits", digits_seeds)]
    if VOWELS.is_file():
        tasks.insert(0, (f"csv:{VOWELS.resolve()}", vowels_seeds))
    for label, params in (("1 microphone (before)", {"microphones": 1}), ("4 (defaults)", {})):
        y = AcousticCavity(**params).forward(x)
        dim = effective_dimension(y)
        pairs = correlated_pairs(y)[0]
        for dataset, seeds in tasks:
            for skip in (True, False):
                acc = accuracy_over_seeds("acoustic", dataset, seeds, params=params, skip=skip)
                rows.append({"label": label, "skip": skip, "pairs": pairs, **dim, **acc})
    return rows


def _comparison_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "Default changed from one microphone to four (`microphones=1` is the previous default;"
        " `phyll train --system acoustic --dataset D --seed S`, plus `--no-skip` where said,"
        " nothing else set; effective dimension of 4,096 uniform random inputs'"
        " outputs):",
        "",
        "| microphones | output pairs \\|corr\\| > 0.99 | participation ratio | PCs for 90 / 99 %"
        " | dataset | skip | seeds | test accuracy (mean ± std) | min |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['pairs']} | {r['participation_ratio']:.1f} |"
            f" {r['pcs_90']} / {r['pcs_99']} | {_name(r['dataset'])} |"
            f" {'on' if r['skip'] else '`--no-skip`'} | {r['seeds']} |"
            f" {100 * r['test_mean']:.1f} % ± {100 * r['test_std']:.1f} |"
            f" {100 * r['test_min']:.1f} % |"
        )
    return lines


def _name(dataset: str) -> str:
    return "vowels (Hillenbrand, 7 classes)" if "vowels" in dataset else dataset


def _body(
    speed: list[dict[str, Any]],
    scores: dict[str, float] | None,
    tasks: list[dict[str, Any]],
    samples: int,
    comparison: list[dict[str, Any]],
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
            f" **{scores['measured']:.3f}**; on the same inputs the simulator with"
            f" `preset=measured` **{scores['preset']:.3f}** (required 0.03-0.06), with the"
            f" defaults **{scores['simulated']:.3f}** (required 0.02-0.2).",
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
    if comparison:
        lines += _comparison_lines(comparison)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--circles-seeds", type=int, default=5)
    parser.add_argument("--vowels-seeds", type=int, default=10)
    parser.add_argument("--digits-seeds", type=int, default=3)
    args = parser.parse_args(argv)

    speed = throughput(args.samples, args.repeats)
    scores = measured_scores()
    tasks = []
    comparison: list[dict[str, Any]] = []
    if not args.skip_accuracy:
        tasks.append(accuracy("circles", args.circles_seeds))
        if VOWELS.is_file():
            tasks.append(accuracy(f"csv:{VOWELS.resolve()}", args.vowels_seeds))
        else:
            print(f"vowels skipped: {VOWELS} not found")
        comparison = microphone_comparison(args.vowels_seeds, args.digits_seeds)
    body = _body(speed, scores, tasks, args.samples, comparison)
    write_section("acoustic", "Acoustic backend (phyll-acoustic)", body)


if __name__ == "__main__":
    main()
