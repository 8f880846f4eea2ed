"""The inner-step kernel and Adam of an earlier revision against the working tree, like for like.

Loads ``phyll_core/engine/fused.py`` and ``phyll_core/engine/optim.py`` as they were at
``--rev`` (``git show``) and runs them in the same process as today's, every other piece of the
engine shared: ``LocalBlock.train`` takes the kernel from the module it is given and each
block's ``Adam`` is replaced by the revision's class (same state). Two parts:

- ``speed``: the published vowel configuration (as ``engine_speed.py --parts torch``), training
  seconds per epoch, epochs of the two interleaved, one BLAS thread; median and fastest epochs.
- ``calls``: one kernel call and one Adam step on the published shapes (412 rows of 41 columns,
  width 20), microseconds per call, the two interleaved (best of 40 rounds of 200 calls);
- ``accuracy``: final test accuracy over seeds, vowels (published configuration, float32 and
  float64) and digits (defaults, float64 and float32), both variants from the same seeds.

With both parts the figures go to the ``engine-kernel`` section of docs/results.md.

    python benchmarks/engine_kernel_ab.py --rev 337e8cb                 # both parts
    python benchmarks/engine_kernel_ab.py --rev 337e8cb --parts speed --epochs 400
    python benchmarks/engine_kernel_ab.py --rev 337e8cb --parts calls
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_setup import PUBLISHED, PUBLISHED_CLI, vowels
from interleaved import load
from results import write_section

import phyll_core.engine.fused as fused_now
import phyll_core.engine.local as local
import phyll_core.engine.optim as optim_now
from phyll_core.engine import Run, TrainConfig
from phyll_core.engine.trainer import blas_limit

ROOT = Path(__file__).resolve().parents[1]


def at_revision(rev: str, path: str, name: str) -> ModuleType:
    """The module at ``path`` as it was at ``rev``, imported under ``name``."""
    source = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f"{rev}:{path}", "exec"), module.__dict__)  # the project's own history
    sys.modules[name] = module
    return module


def variant_run(config: dict[str, Any], fused: ModuleType, optim: ModuleType) -> Run:
    """A run whose blocks use ``optim.Adam`` (state carried over) and, while it trains (see
    :func:`train_epoch`), the kernel of ``fused``."""
    run = Run(TrainConfig(eval_every=10**6, **config))
    for block in run.rule.blocks:
        state = block.opt.state
        block.opt = optim.Adam(lr=block.opt.lr, weight_decay=block.opt.weight_decay)
        block.opt.state = state
    run.fused = fused  # type: ignore[attr-defined]
    return run


def train_epoch(run: Run) -> float:
    local.fused_grad = run.fused.fused_grad  # type: ignore[attr-defined]
    try:
        return run.train_epoch().train_seconds
    finally:
        local.fused_grad = fused_now.fused_grad


def part_speed(variants: dict[str, tuple[ModuleType, ModuleType]], dtype: str,
               epochs: int) -> str:
    """Interleaved epochs of the two variants; prints and returns the table row."""
    before = load()
    config = {"dataset": vowels(), "dtype": dtype, **PUBLISHED, "epochs": epochs + 21}
    runs = {k: variant_run(config, *mods) for k, mods in variants.items()}
    times: dict[str, list[float]] = {k: [] for k in runs}
    names = list(runs)
    with blas_limit():
        for e in range(epochs + 20):
            for k in names if e % 2 else names[::-1]:
                t = train_epoch(runs[k])
                if e >= 20:  # warm-up epochs not counted
                    times[k].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    old, new = names
    print(f"speed {dtype}: " + ", ".join(f"{k} {1e3 * med[k]:.3f} ms (min {1e3 * best[k]:.3f})"
                                         for k in names)
          + f"; {old}/{new} {med[old] / med[new]:.2f}x (fastest {best[old] / best[new]:.2f}x)")
    return (f"| {dtype} | " + " | ".join(f"{1e3 * med[k]:.3f} ms (min {1e3 * best[k]:.3f})"
                                        for k in names)
            + f" | **{med[old] / med[new]:.2f}x** ({best[old] / best[new]:.2f}x) |"
            f" {before} / {load()} |")


def part_calls(variants: dict[str, tuple[ModuleType, ModuleType]], dtype: str) -> None:
    """Microseconds per kernel call and per Adam step of each variant (interleaved)."""
    rng = np.random.default_rng(0)
    rows, cols, width = 412, 41, 20
    z = rng.standard_normal((rows, cols)).astype(dtype)
    w = (rng.standard_normal((width, cols)) / 6).astype(dtype)
    p = np.abs(rng.standard_normal(width))
    p = (p / np.linalg.norm(p)).astype(dtype)
    calls: dict[str, Callable[[], object]] = {}
    for k, (fused, optim) in variants.items():
        kernel, out = fused.CosineSoftplusGrad(p, 4.0, z, rows // 2), np.empty_like(w)
        opt, params = optim.Adam(lr=1e-2), {"W": w.copy()}
        opt.init(params)
        calls[f"{k} kernel"] = partial(kernel, w, out)
        calls[f"{k} Adam"] = partial(opt.update, params, {"W": out})
    best = dict.fromkeys(calls, float("inf"))
    with blas_limit():
        for _ in range(40):
            for k, call in calls.items():
                start = time.perf_counter()
                for _ in range(200):
                    call()
                best[k] = min(best[k], (time.perf_counter() - start) / 200)
    print(f"calls {dtype}: " + ", ".join(f"{k} {1e6 * t:.1f} us" for k, t in best.items()))


def part_accuracy(variants: dict[str, tuple[ModuleType, ModuleType]], seeds: tuple[int, int]
                  ) -> list[str]:
    """Test accuracy of both variants over seeds; prints and returns the table rows."""
    cases = [("vowels", dt, s, {"dataset": vowels(), "dtype": dt, "seed": s, **PUBLISHED})
             for dt in ("float32", "float64") for s in range(seeds[0])]
    cases += [("digits", dt, s, {"dataset": "digits", "dtype": dt, "seed": s})
              for dt in ("float64", "float32") for s in range(seeds[1])]
    acc: dict[tuple[str, str], dict[str, list[float]]] = {}
    with blas_limit():
        for name, dt, _, config in cases:
            for k, mods in variants.items():
                run = variant_run(config, *mods)
                for _ in range(run.config.epochs):
                    train_epoch(run)
                acc.setdefault((name, dt), {}).setdefault(k, []).append(
                    run.summary()["test_accuracy"])
    rows = []
    for (name, dt), by in acc.items():
        cells = [f"{statistics.mean(v):.4f} ({', '.join(f'{a:.4f}' for a in v)})"
                 for v in by.values()]
        pairs = zip(by, cells, strict=True)
        print(f"accuracy {name} {dt}: " + "; ".join(f"{k} {c}" for k, c in pairs))
        rows.append(f"| {name} | {dt} | {len(next(iter(by.values())))} | " + " | ".join(cells)
                    + " |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the earlier revision (git)")
    parser.add_argument("--parts", nargs="+", default=["speed", "accuracy"],
                        choices=("speed", "calls", "accuracy"))
    parser.add_argument("--epochs", type=int, default=300, help="speed: epochs counted")
    parser.add_argument("--vowels-seeds", type=int, default=5)
    parser.add_argument("--digits-seeds", type=int, default=3)
    args = parser.parse_args()
    old = (at_revision(args.rev, "phyll_core/engine/fused.py", "phyll_prev_fused"),
           at_revision(args.rev, "phyll_core/engine/optim.py", "phyll_prev_optim"))
    variants = {args.rev: old, "now": (fused_now, optim_now)}
    start = time.perf_counter()
    speed = [part_speed(variants, dt, args.epochs) for dt in ("float32", "float64")
             if "speed" in args.parts]
    for dt in ("float32", "float64"):
        if "calls" in args.parts:
            part_calls(variants, dt)
    accuracy = (part_accuracy(variants, (args.vowels_seeds, args.digits_seeds))
                if "accuracy" in args.parts else [])
    print(f"({time.perf_counter() - start:.0f} s)")
    if speed and accuracy:
        write_section(
            "engine-kernel",
            f"Engine inner steps: the fused kernel and Adam of {args.rev} against today's",
            f"Only `phyll_core/engine/fused.py` and `optim.py` differ (loaded from `git show"
            f" {args.rev}`), the rest of the engine is shared. Speed: `phyll train --dataset"
            f" vowels {PUBLISHED_CLI}`, training seconds per epoch, {args.epochs} epochs of"
            " each interleaved after 20 of warm-up, one BLAS thread; ratio of the median epochs"
            " (in brackets of the fastest). The machine (2 cores) was shared with other jobs."
            f"\n\n| dtype | {args.rev} | now | {args.rev} / now | load average before / after"
            " |\n| --- | --- | --- | --- | --- |\n" + "\n".join(speed)
            + f"\n\nTest accuracy (mean, then each seed from 0): vowels at the published"
            " configuration, digits at the `phyll train` defaults.\n\n| dataset | dtype |"
            f" seeds | {args.rev} | now |\n| --- | --- | --- | --- | --- |\n"
            + "\n".join(accuracy),
        )


if __name__ == "__main__":
    main()
