"""Benchmark of the optical backend: throughput, nonlinearity, and PhyLL accuracy figures.

Measures ``phyll probe optical`` (best of ``--repeats`` runs: the machine may be shared) for
the default system and a few variants, then trains with the default hyper-parameters of
``phyll train`` (only ``--system optical --blocks 2 --dataset D --seed S``) on circles, digits
and the Hillenbrand vowels (when ../shared/data is present), and writes the ``optical``
section of docs/results.md.

    python benchmarks/optical_bench.py                  # everything (tens of minutes)
    python benchmarks/optical_bench.py --skip-accuracy  # throughput only
    python benchmarks/optical_bench.py --fold-only      # folded matrix vs step by step
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


FOLD_VARIANTS: dict[str, list[str]] = {
    "defaults": [],
    "encoding=phase": ["encoding=phase"],
    "detection=intensity": ["detection=intensity"],
    "frame=64": ["frame=64"],
}


def fold_speed(samples: int, repeats: int) -> list[dict[str, Any]]:
    """Folded matrix against step by step (``fold=false``, the simulation before the fold),
    interleaved in one run, like for like: each repeat builds both systems afresh and times
    the build, the *first* forward call of ``samples`` rows and then a warm one, in CPU time
    of this process (robust to other jobs on a shared machine; BLAS runs on one thread); the
    best of ``repeats`` is kept for each. Also ``phyll probe`` (wall clock, best of
    ``repeats``)."""
    import time

    import numpy as np

    from phyll_core.factory import build_system
    from phyll_core.probe import probe

    rows = []
    for label, params in FOLD_VARIANTS.items():
        best: dict[str, dict[str, float]] = {}
        for _ in range(repeats):
            for path, extra in (("folded", []), ("step by step", ["fold=false"])):
                start = time.process_time()
                system = build_system("optical", [*params, *extra])
                built = time.process_time() - start
                x = system.domain.sample(np.random.default_rng(0), (samples, system.input_dim))
                start = time.process_time()
                system.forward(x)
                first = time.process_time() - start
                start = time.process_time()
                system.forward(x)
                warm = time.process_time() - start
                probed = probe(system, samples=samples, seed=0).samples_per_second
                old = best.setdefault(path, {"build": 1e9, "first": 1e9, "warm": 1e9, "probe": 0})
                old["build"] = min(old["build"], built)
                old["first"] = min(old["first"], first)
                old["warm"] = min(old["warm"], warm)
                old["probe"] = max(old["probe"], probed)
        new, ref = best["folded"], best["step by step"]
        row = {
            "variant": label,
            "build_ms": (1e3 * new["build"], 1e3 * ref["build"]),
            "first": (samples / new["first"], samples / ref["first"]),
            "warm": (samples / new["warm"], samples / ref["warm"]),
            "probe": (new["probe"], ref["probe"]),
        }
        rows.append(row)
        print(label, {k: v for k, v in row.items() if k != "variant"}, flush=True)
    return rows


def _fold_body(rows: list[dict[str, Any]], samples: int, repeats: int, threads: int) -> str:
    lines = [
        f"Folded matrix (default) against the step-by-step simulation (`fold=false`), {samples}"
        f" samples, best of {repeats} interleaved repeats, {threads} BLAS thread(s). *First*:"
        " the first forward call of a freshly built system; *warm*: the call after it;"
        " *probe*: `phyll probe optical` on the same system (one 8-row warm-up, then one"
        " batch, wall clock). First and warm calls in CPU seconds of the process (the machine"
        " is shared). Samples per second; ratio = folded / step by step.",
        "",
        "| variant | first call | warm call | probe | ratio first / warm / probe |"
        " build ms (folded / step) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        (f_new, f_old), (w_new, w_old), (p_new, p_old) = r["first"], r["warm"], r["probe"]
        lines.append(
            f"| {r['variant']} | {f_new:,.0f} | {w_new:,.0f} | {p_new:,.0f} |"
            f" {f_new / f_old:.1f}x / {w_new / w_old:.1f}x / {p_new / p_old:.1f}x |"
            f" {r['build_ms'][0]:.0f} / {r['build_ms'][1]:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument(
        "--fold-only",
        action="store_true",
        help="only measure the folded matrix against step by step (section optical-fold)",
    )
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--circles-seeds", type=int, default=5)
    parser.add_argument("--digits-seeds", type=int, default=5)
    parser.add_argument("--vowels-seeds", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the raw numbers to this file")
    args = parser.parse_args(argv)

    if args.fold_only:
        import numpy  # noqa: F401  (load OpenBLAS first: threadpoolctl limits loaded libraries)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=args.blas_threads, user_api="blas"):
            rows = fold_speed(args.samples, args.repeats)
        body = _fold_body(rows, args.samples, args.repeats, args.blas_threads)
        write_section("optical-fold", "Optical fast path: the linear chain as one matrix", body)
        return
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
