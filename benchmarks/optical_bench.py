"""Benchmark of the optical backend: throughput, nonlinearity, and PhyLL accuracy figures.

Measures ``phyll probe optical`` (best of ``--repeats`` runs: the machine may be shared) for
the default system and a few variants, then trains with the default hyper-parameters of
``phyll train`` (only ``--system optical --blocks 2 --dataset D --seed S``) on circles, digits
and the Hillenbrand vowels (when ../shared/data is present), and writes the ``optical``
section of docs/results.md.

    python benchmarks/optical_bench.py                  # everything (tens of minutes)
    python benchmarks/optical_bench.py --skip-accuracy  # throughput only
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from results import accuracy_over_seeds, probe_variants, write_section  # noqa: E402

VOWELS = ROOT / ".." / "shared" / "data" / "vowels" / "hillenbrand_women_7vowels.csv"
VARIANTS: dict[str, list[str]] = {
    "defaults (amplitude encoding, Gaussian T, amplitude detection)": [],
    "detection=intensity": ["detection=intensity"],
    "encoding=phase": ["encoding=phase"],
    "matrix=unitary": ["matrix=unitary"],
    "saturation=1 (absorber)": ["saturation=1"],
    "frame=64": ["frame=64"],
}


def throughput(samples: int, repeats: int) -> list[dict[str, Any]]:
    """Best-of-``repeats`` probe of every variant."""
    return probe_variants("optical", VARIANTS, samples, repeats)


def _body(speed: list[dict[str, Any]], tasks: list[dict[str, Any]], samples: int) -> str:
    lines = [
        f"`phyll probe optical --samples {samples}` (best of {len(speed[0]['all_runs'])} runs;"
        " the machine was shared with other jobs, so these are lower bounds):",
        "",
        "| system parameters | outputs | samples/s | nonlinearity (1 - R^2 affine) |",
        "|---|---:|---:|---:|",
    ]
    for row in speed:
        lines.append(
            f"| {row['variant']} | {row['outputs']} | {row['samples_per_second']:,.0f} |"
            f" {row['nonlinearity']:.3f} |"
        )
    if tasks:
        lines += [
            "",
            "PhyLL with the defaults of `phyll train` (`--system optical --blocks 2`, nothing"
            " else set), mean over seeds 0..N-1:",
            "",
            "| dataset | seeds | test accuracy (mean ± std) | min | train accuracy |"
            " seconds per run | physical queries per run |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for t in tasks:
            name = "vowels (Hillenbrand, 7 classes)" if "vowels" in t["dataset"] else t["dataset"]
            lines.append(
                f"| {name} | {t['seeds']} | {100 * t['test_mean']:.1f} % ±"
                f" {100 * t['test_std']:.1f} | {100 * t['test_min']:.1f} % |"
                f" {100 * t['train_mean']:.1f} % | {t['seconds_mean']:.0f} |"
                f" {t['queries_mean']:,.0f} |"
            )
        lines += [
            "",
            "Digits rows are 74 wide (10 label slots + 64 pixels): the engine projects them to the"
            " system's 20 inputs with a fixed random matrix in the first block (the skip"
            " connection keeps all 74). Per-seed test accuracies: "
            + "; ".join(
                f"{'vowels' if 'vowels' in t['dataset'] else t['dataset']}: "
                + ", ".join(f"{100 * a:.1f}" for a in t["test_all"])
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
    parser.add_argument("--digits-seeds", type=int, default=5)
    parser.add_argument("--vowels-seeds", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the raw numbers to this file")
    args = parser.parse_args(argv)

    speed = throughput(args.samples, args.repeats)
    tasks = []
    if not args.skip_accuracy:
        tasks.append(accuracy_over_seeds("optical", "circles", args.circles_seeds))
        tasks.append(accuracy_over_seeds("optical", "digits", args.digits_seeds))
        if VOWELS.is_file():
            vowels = f"csv:{VOWELS.resolve()}"
            tasks.append(accuracy_over_seeds("optical", vowels, args.vowels_seeds))
        else:
            print(f"vowels skipped: {VOWELS} not found")
    write_section("optical", "Optical backend (phyll-optical)", _body(speed, tasks, args.samples))
    if args.json:
        from phyll_core.io import atomic_write_text

        atomic_write_text(args.json, json.dumps({"throughput": speed, "accuracy": tasks}, indent=1))


if __name__ == "__main__":
    main()
