"""Benchmark of the microwave backend: solver speed, nonlinearity and PhyLL accuracy figures.

1. ``phyll probe microwave`` (the probe of ``phyll_core.probe``) with each solver: the default
   ``woodbury``, ``schur`` and the ``dense`` reference (fewer samples: it is slow), best of
   ``--repeats`` runs since the machine may be shared. BLAS runs with ``--blas-threads``
   threads (default 1: on an oversubscribed machine multi-threaded OpenBLAS is erratic).
2. Training with the default hyper-parameters of ``phyll train`` and only the options the
   figures name: Hillenbrand vowels with ``--blocks 3 --system microwave`` (``--vowel-seeds``
   seeds, skipped when ../shared/data is absent) and ``circles`` with ``--system microwave``
   (``--circle-seeds`` seeds).

Writes the ``microwave`` section of docs/results.md.

    python benchmarks/microwave_bench.py                  # everything (about an hour)
    python benchmarks/microwave_bench.py --skip-accuracy  # speed and nonlinearity only (keeps
                                                          # the accuracy figures already there)
    python benchmarks/microwave_bench.py --references-only  # Woodbury references, interleaved
    python benchmarks/microwave_bench.py --kernels-only --baseline 0162e56  # Woodbury kernels
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from microwave_solver_speed import (  # noqa: E402
    kernel_speed,
    kernel_table,
    reference_speed,
    reference_table,
)
from results import write_section  # noqa: E402

VOWELS = ROOT / ".." / "shared" / "data" / "vowels" / "hillenbrand_women_7vowels.csv"
VOWELS_ARG = "csv:../shared/data/vowels/hillenbrand_women_7vowels.csv"


def probe_solver(solver: str, samples: int, repeats: int) -> dict[str, Any]:
    """Best-of-``repeats`` probe of the default system with ``solver``."""
    from phyll_core.factory import build_system
    from phyll_core.probe import probe

    system = build_system("microwave", [f"solver={solver}"])
    runs = [probe(system, samples=samples, seed=0) for _ in range(repeats)]
    best = max(runs, key=lambda r: r.samples_per_second)
    print(
        f"solver={solver}: {best.samples_per_second:,.1f} samples/s"
        f" (runs {[round(r.samples_per_second, 1) for r in runs]}),"
        f" nonlinearity {best.nonlinearity:.3f}",
        flush=True,
    )
    return {
        "solver": solver,
        "samples": samples,
        "samples_per_second": best.samples_per_second,
        "runs": [r.samples_per_second for r in runs],
        "nonlinearity": best.nonlinearity,
    }


def accuracy(dataset: str, blocks: int | None, seeds: int) -> dict[str, Any]:
    """Train ``--system microwave`` (and ``--blocks`` when given) for seeds 0..seeds-1."""
    from phyll_core.engine import TrainConfig, train

    runs = []
    for seed in range(seeds):
        options: dict[str, Any] = {"system": "microwave", "dataset": dataset, "seed": seed}
        if blocks is not None:
            options["blocks"] = blocks
        summary = train(TrainConfig(**options))
        runs.append(summary)
        print(
            f"{dataset} seed {seed}: test {summary['test_accuracy']:.4f}"
            f" train {summary['train_accuracy']:.4f} ({summary['seconds']:.0f} s)",
            flush=True,
        )
    tests = [r["test_accuracy"] for r in runs]
    return {
        "seeds": seeds,
        "test_mean": statistics.fmean(tests),
        "test_std": statistics.pstdev(tests),
        "test_min": min(tests),
        "test_all": tests,
        "train_mean": statistics.fmean(r["train_accuracy"] for r in runs),
        "seconds_mean": statistics.fmean(r["seconds"] for r in runs),
        "queries_mean": statistics.fmean(r["physical_queries"] for r in runs),
    }


def speed_table(rows: list[dict[str, Any]], threads: int) -> str:
    base = next(r for r in rows if r["solver"] == "dense")["samples_per_second"]
    lines = [
        "| solver | probe samples | samples / s (best) | speed-up vs dense | nonlinearity |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['solver']}` | {r['samples']} | {r['samples_per_second']:,.1f} |"
            f" {r['samples_per_second'] / base:,.0f}x | {r['nonlinearity']:.3f} |"
        )
    runs = "; ".join(f"`{r['solver']}`: " + ", ".join(f"{v:,.1f}" for v in r["runs"]) for r in rows)
    return (
        "Probe of the default system (40 meta-atoms, 167 static dipoles, 20 frequency points),"
        f" BLAS limited to {threads} thread(s); each solver probed several times, best run"
        f" shown (all runs, samples/s: {runs}). The `dense` probe uses fewer samples because it"
        " is slow; its nonlinearity score is then less reliable (fewer held-out samples).\n\n"
        + "\n".join(lines)
        + "\n\nEquivalent CLI: `phyll probe microwave` and"
        " `phyll probe microwave --samples 96 --param solver=dense`. The machine was shared"
        " with other jobs (load average after the run: "
        + ", ".join(f"{v:.1f}" for v in os.getloadavg())
        + " on 2 cores), so absolute throughputs are pessimistic; the ratio is what matters."
    )


def accuracy_table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| figure | command (seed S) | seeds | test accuracy mean ± std (min)"
        " | train mean | s / run | physical queries / run |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for label, (command, r) in results.items():
        lines.append(
            f"| {label} | `{command}` | {r['seeds']} | {100 * r['test_mean']:.1f} ±"
            f" {100 * r['test_std']:.1f} % ({100 * r['test_min']:.1f} %) |"
            f" {100 * r['train_mean']:.1f} % | {r['seconds_mean']:.0f} |"
            f" {r['queries_mean']:,.0f} |"
        )
    per_seed = "\n".join(
        f"- {label}: " + ", ".join(f"{100 * v:.1f}" for v in r["test_all"]) + " %"
        for label, (_, r) in results.items()
    )
    return (
        "PhyLL with the default hyper-parameters of `phyll train` (only the options shown),"
        " mean over seeds 0..S-1.\n\n"
        + "\n".join(lines)
        + "\n\nTest accuracy per seed:\n\n"
        + per_seed
    )


def kept_accuracy() -> str:
    """The accuracy figures of the ``microwave`` section now in docs/results.md (a run with
    ``--skip-accuracy`` keeps them), or a note that they were not measured."""
    from results import RESULTS

    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    begin, end = "<!-- BEGIN microwave -->", "<!-- END microwave -->"
    if begin in text and end in text:
        section = text.split(begin, 1)[1].split(end, 1)[0]
        if "### Accuracy\n\n" in section:
            kept = section.split("### Accuracy\n\n", 1)[1].strip()
            if not kept.startswith("Not measured"):
                return kept + "\n\n(Accuracy kept from an earlier run: `--skip-accuracy`.)"
    return "Not measured in this run (`--skip-accuracy`)."


def code_version() -> str:
    """``git describe``-like commit of the repository (``+dirty`` when phyll_core or the
    plugin has uncommitted changes), or ``unknown``."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "phyll_core", "plugins/microwave")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4096, help="probe samples (fast solvers)")
    parser.add_argument("--dense-samples", type=int, default=96, help="probe samples (dense)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--vowel-seeds", type=int, default=10)
    parser.add_argument("--circle-seeds", type=int, default=5)
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument(
        "--references-only",
        action="store_true",
        help="only compare the Woodbury references (section microwave-references)",
    )
    parser.add_argument(
        "--kernels-only",
        action="store_true",
        help="only compare the Woodbury kernels (section microwave-kernels)",
    )
    parser.add_argument(
        "--baseline", default=None, help="with --kernels-only: also time the solver of this commit"
    )
    args = parser.parse_args()

    import numpy  # noqa: F401  (load OpenBLAS first: threadpoolctl limits loaded libraries)
    from threadpoolctl import threadpool_limits

    if args.kernels_only:
        with threadpool_limits(limits=1, user_api="blas"):
            result = kernel_speed(args.samples, args.repeats, args.baseline)
        body = kernel_table(result, args.samples, args.repeats)
        write_section("microwave-kernels", "Microwave fast path: batched elimination", body)
        return
    if args.references_only:
        with threadpool_limits(limits=1, user_api="blas"):
            rows = reference_speed(args.samples, args.repeats)
        body = reference_table(rows, args.samples, args.repeats)
        write_section("microwave-references", "Microwave fast path: Woodbury references", body)
        return
    version = code_version()

    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        rows = [
            probe_solver("woodbury", args.samples, args.repeats),
            probe_solver("schur", args.samples, args.repeats),
            probe_solver("dense", args.dense_samples, max(1, args.repeats - 1)),
        ]
        body = "### Solver speed and nonlinearity\n\n" + speed_table(rows, args.blas_threads)
        if args.skip_accuracy:
            body += "\n\n### Accuracy\n\n" + kept_accuracy()
        else:
            results: dict[str, tuple[str, dict[str, Any]]] = {}
            if VOWELS.exists():
                results["vowels (7 classes)"] = (
                    f"phyll train --system microwave --dataset {VOWELS_ARG} --blocks 3 --seed S",
                    accuracy(f"csv:{VOWELS.resolve()}", 3, args.vowel_seeds),
                )
            else:
                print("vowels skipped: ../shared/data is absent", flush=True)
            results["circles"] = (
                "phyll train --system microwave --dataset circles --seed S",
                accuracy("circles", None, args.circle_seeds),
            )
            body += "\n\n### Accuracy\n\n" + accuracy_table(results)
            body += f"\n\nCode: repository at commit {version} when the runs started."
    write_section("microwave", "Microwave metasurface (`microwave`)", body)
    print("wrote the microwave section of docs/results.md")


if __name__ == "__main__":
    main()
