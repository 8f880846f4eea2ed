"""The Woodbury solver's speed parts of benchmarks/microwave_bench.py: its references against
the earlier choices, and its ``elimination`` kernel against ``lapack`` (and a commit's solver),
each interleaved in one run, like for like."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


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
