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


def reference_speed(samples: int, repeats: int) -> list[dict[str, Any]]:
    """The Woodbury solver with its default references against 32 random ones (the default
    before) and two uniform references only (the first solver), interleaved in one run, like
    for like: each repeat builds the solvers afresh on the default system's model and times the
    build,
    the *first* call on ``samples`` random configurations of the probe and a warm call, in CPU
    time of this process (robust to other jobs; BLAS runs on one thread); best of
    ``repeats``. Also ``phyll probe microwave`` (wall clock, best of ``repeats``)."""
    import time

    import numpy as np
    from phyll_microwave import WoodburySolver
    from phyll_microwave.solvers import REFERENCES

    from phyll_core.factory import build_system
    from phyll_core.probe import probe

    system = build_system("microwave", [])
    x = system.domain.sample(np.random.default_rng(0), (samples, system.input_dim))
    on = system.configuration(x)
    model = system._model  # the default system's dipole model (geometry, W)
    variants = {
        f"{REFERENCES} random references + 2 uniform (default)": REFERENCES,
        "32 random references + 2 uniform": 32,
        "2 uniform references": 0,
    }
    best: dict[str, dict[str, float]] = {}
    for _ in range(repeats):
        for label, refs in variants.items():
            start = time.process_time()
            solver = WoodburySolver(model, references=refs)
            built = time.process_time() - start
            start = time.process_time()
            solver(on)
            first = time.process_time() - start
            start = time.process_time()
            solver(on)
            warm = time.process_time() - start
            b = best.setdefault(label, {"build": 1e9, "first": 1e9, "warm": 1e9})
            b["build"], b["first"] = min(b["build"], built), min(b["first"], first)
            b["warm"] = min(b["warm"], warm)
            differs = on != solver._refs[solver.nearest_reference(on)]
            b["k"] = float(differs.sum(axis=1).mean())
    probes = [probe(system, samples=samples, seed=0).samples_per_second for _ in range(repeats)]
    rows = [
        {
            "variant": label,
            "build_ms": 1e3 * b["build"],
            "first": samples / b["first"],
            "warm": samples / b["warm"],
            "mean_k": b["k"],
        }
        for label, b in best.items()
    ]
    rows[0]["probe"] = max(probes)
    rows[0]["probe_runs"] = probes
    for row in rows:
        print(row, flush=True)
    return rows


def reference_table(rows: list[dict[str, Any]], samples: int, repeats: int) -> str:
    new, old = rows[0], rows[-1]
    lines = [
        f"Woodbury solver on {samples} random configurations of the probe (default system: 40"
        " meta-atoms, 20 frequency points), best of"
        f" {repeats} interleaved repeats, 1 BLAS thread, CPU time of the process (the machine"
        " is shared). *First*: the first call of a freshly built solver.",
        "",
        "| solver | mean update rank k | build ms | first call samples/s | warm samples/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['mean_k']:.1f} | {r['build_ms']:.0f} | {r['first']:,.0f} |"
            f" {r['warm']:,.0f} |"
        )
    lines += [
        "",
        f"Ratio default / two uniform references: first call {new['first'] / old['first']:.2f}x,"
        f" warm {new['warm'] / old['warm']:.2f}x. `phyll probe microwave` (wall clock, one"
        f" thread): best {new['probe']:,.0f} samples/s (runs: "
        + ", ".join(f"{v:,.0f}" for v in new["probe_runs"])
        + ").",
    ]
    return "\n".join(lines)


def _solvers_at(commit: str) -> Any:
    """The module ``phyll_microwave.solvers`` as of git ``commit`` (loaded under another
    name; the rest of the plugin is today's)."""
    import subprocess
    import types

    path = "plugins/microwave/phyll_microwave/solvers.py"
    source = subprocess.run(
        ["git", "show", f"{commit}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType(f"solvers_{commit}")
    sys.modules[module.__name__] = module
    exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)
    return module


def kernel_speed(samples: int, repeats: int, baseline: str | None) -> dict[str, Any]:
    """The Woodbury solver's ``elimination`` kernel against its ``lapack`` kernel (and, with
    ``baseline``, the solver of that commit), interleaved in one run, like for like: the same
    model and configurations of the probe, one warm call each per round, CPU time of this
    process (BLAS on one thread), best of ``repeats``; the results are compared with each
    other. Then ``phyll probe microwave`` (wall clock, best of ``repeats``)."""
    import time

    import numpy as np
    from phyll_microwave import WoodburySolver

    from phyll_core.factory import build_system
    from phyll_core.probe import probe

    system = build_system("microwave", [])
    x = system.domain.sample(np.random.default_rng(0), (samples, system.input_dim))
    on = system.configuration(x)
    model = system._model
    solvers: dict[str, Any] = {
        "elimination (default)": WoodburySolver(model),
        "lapack": WoodburySolver(model, kernel="lapack"),
    }
    if baseline:
        solvers[f"solver of commit {baseline}"] = _solvers_at(baseline).WoodburySolver(model)
    outputs = {label: solve(on) for label, solve in solvers.items()}  # warm-up
    first = next(iter(outputs.values()))
    deviation = max(float(np.max(np.abs(h - first) / np.abs(first))) for h in outputs.values())
    best = dict.fromkeys(solvers, np.inf)
    for _ in range(repeats):
        for label, solve in solvers.items():
            start = time.process_time()
            solve(on)
            best[label] = min(best[label], time.process_time() - start)
    forward = np.inf  # the probe's own call (encoding, solver, |H|) in CPU time
    for _ in range(repeats):
        start = time.process_time()
        system.forward(x)
        forward = min(forward, time.process_time() - start)
    probes = [probe(system, samples=samples, seed=0).samples_per_second for _ in range(repeats)]
    result = {
        "forward_cpu": samples / forward,
        "rates": {label: samples / t for label, t in best.items()},
        "deviation": deviation,
        "probes": probes,
    }
    print(result, flush=True)
    return result


def kernel_table(result: dict[str, Any], samples: int, repeats: int) -> str:
    from phyll_microwave.solvers import REFERENCES

    rates = result["rates"]
    new = rates["elimination (default)"]
    lines = [
        f"Woodbury solver of the default system (40 meta-atoms, 20 frequency points, {REFERENCES}"
        f" random references + 2 uniform) on the {samples} random configurations of the probe, each"
        f" variant called once per round, rounds interleaved, best of {repeats}, 1 BLAS thread,"
        " CPU time of the process. The variants agree to"
        f" {result['deviation']:.1e} (largest relative difference of the channels).",
        "",
        "| solver | samples/s | default / this |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {rate:,.0f} | {new / rate:.2f}x |" for label, rate in rates.items()]
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    lines += [
        "",
        f"The probe's call (`system.forward` on the same {samples} inputs: encoding, solver,"
        f" |H|) in CPU time, best of {repeats}: {result['forward_cpu']:,.0f} samples/s."
        f" `phyll probe microwave` (the default system, wall clock, one thread): best"
        f" {max(result['probes']):,.0f} samples/s (runs: "
        + ", ".join(f"{v:,.0f}" for v in result["probes"])
        + f"). Goal >= 50,000 samples/s on an idle machine. Load average after the run: {load}"
        " (2 cores; above 2 the wall clock counts the other jobs' share of the CPU too).",
    ]
    return "\n".join(lines)


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
