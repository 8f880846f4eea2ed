"""Engine speed (issue 14): PhyLL against PyTorch, float32 against float64, evaluation cost,
peak memory, block 0's reuse of the scoring pass and BLAS threads. Every ratio is measured in
one process, epochs interleaved (A, B, B, A, ...), like for like, and printed with the load
average of the machine beside it.

    python benchmarks/engine_speed.py                     # every part (about 30-60 min on 2 cores)
    python benchmarks/engine_speed.py --parts torch dtype-speed
    python benchmarks/engine_speed.py --parts accuracy --seeds 5 --mnist1d-seeds 3

Parts (each writes its own section of docs/results.md and benchmarks/out/engine_speed/*.json):

- ``torch``: the published vowel configuration (``--dataset vowels --system identity --blocks 2
  --width 20 --inner-steps 10 --epochs 200``, full batch), training seconds per epoch of phyll
  (float64, float32; with numba installed also ``--kernel numba`` in both) and of the same
  algorithm in PyTorch (``benchmarks/torch_phyll.py``, float32 and float64), one thread each.
  Skipped with a message when PyTorch is absent.
- ``dtype-speed``: digits 2x400, seconds per epoch float32 against float64.
- ``accuracy``: test accuracy float32 against float64 over seeds on digits 2x400, vowels (the
  published configuration) and mnist1d (defaults).
- ``evaluation``: the share of the loop spent evaluating, default cadence, digits 2x400.
- ``memory``: peak RSS of ``phyll train --dataset digits --width 1000`` (a fresh process).
- ``queries``: physical queries per epoch with block 0 reusing the hardest-negative scoring
  pass against re-measuring its rows (the behaviour before commit f8d1b81).
- ``threads``: one against two BLAS threads on digits 2x400 and 2x1000.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_setup import OUT, PUBLISHED, PUBLISHED_CLI, save, vowels
from engine_vs_torch import part_torch
from interleaved import epoch_step, load, speed_ratio
from results import write_section

from phyll_core.engine import Run, TrainConfig


# -- b. float32 against float64 -----------------------------------------------------------------
def part_dtype_speed(args: argparse.Namespace) -> None:
    rows = []
    out = {}
    for width in args.widths:
        runs = {dt: Run(TrainConfig(dataset="digits", width=width, dtype=dt,
                                    epochs=args.epochs, eval_every=10**6))
                for dt in ("float64", "float32")}
        steps = {k: epoch_step(r) for k, r in runs.items()}
        out[width], row = speed_ratio(f"2x{width}", steps, args.epochs - 1)
        rows.append(row)
    save("dtype-speed", out)
    write_section(
        "engine-float32-speed",
        "Engine speed: float32 against float64 (digits)",
        "`phyll train --dataset digits --width W --dtype float64|float32` (defaults otherwise:"
        f" batches of 1,024, hardest negatives), {args.epochs - 1} training epochs each after"
        " the first, interleaved, one BLAS thread, training seconds per epoch (no evaluation)."
        " Goal at 2x400: >= 1.7x.\n\n| network | float64 | float32 | speed-up |"
        " load average before / after |\n| --- | --- | --- | --- | --- |\n" + "\n".join(rows),
    )


ACCURACY_TASKS = [  # (name, label, CLI options, TrainConfig overrides, seeds option)
    ("digits", "digits 2x400", "--dataset digits --width 400", dict(dataset="digits", width=400),
     "seeds"),
    ("vowels", "vowels (published)", f"--dataset vowels {PUBLISHED_CLI}", PUBLISHED, "seeds"),
    ("mnist1d", "mnist1d", "--dataset mnist1d", dict(dataset="mnist1d"), "mnist1d_seeds"),
]


def part_accuracy(args: argparse.Namespace) -> None:
    """Runs are cached one per file line (``accuracy-<task>.json``): an interrupted or parallel
    invocation (``--datasets``) skips finished runs; the section shows every finished task."""
    for name, label, _, overrides, seeds_opt in ACCURACY_TASKS:
        if name not in args.datasets:
            continue
        path = OUT / f"accuracy-{name}.json"
        done = json.loads(path.read_text()) if path.exists() else {}
        if name == "vowels":
            overrides = {**overrides, "dataset": vowels()}
        for seed in range(getattr(args, seeds_opt)):
            for dt in ("float64", "float32") if seed % 2 == 0 else ("float32", "float64"):
                if f"{seed}/{dt}" in done:
                    continue
                run = Run(TrainConfig(seed=seed, dtype=dt, **overrides))
                start = time.perf_counter()
                run.train()  # one BLAS thread (PHYLL_BLAS_THREADS default)
                done[f"{seed}/{dt}"] = {"test": run.summary()["test_accuracy"],
                                        "seconds": time.perf_counter() - start, "load": load(),
                                        "n_test": int(run.data.y_test.size)}
                print(f"{label} seed {seed} {dt}: {done[f'{seed}/{dt}']}", flush=True)
                save(f"accuracy-{name}", done)
    accuracy_section(args)


def accuracy_section(args: argparse.Namespace) -> None:
    rows = []
    for name, label, cli, _, seeds_opt in ACCURACY_TASKS:
        path = OUT / f"accuracy-{name}.json"
        done = json.loads(path.read_text()) if path.exists() else {}
        seeds = [s for s in range(getattr(args, seeds_opt))
                 if f"{s}/float64" in done and f"{s}/float32" in done]
        if not seeds:
            continue
        acc = {dt: [done[f"{s}/{dt}"]["test"] for s in seeds] for dt in ("float64", "float32")}
        diffs = np.subtract(acc["float32"], acc["float64"])
        sd64 = float(np.std(acc["float64"]))
        same = abs(float(diffs.mean())) <= max(sd64, 1.0 / done[f"{seeds[0]}/float64"]["n_test"])
        loads = sorted(float(done[f"{s}/{dt}"]["load"].split("/")[0]) for s in seeds
                       for dt in acc)
        rows.append(
            f"| {label} | `phyll train {cli} --seed S --dtype D` | {len(seeds)} |"
            f" {np.mean(acc['float64']):.4f} ± {sd64:.4f} | {np.mean(acc['float32']):.4f} ±"
            f" {np.std(acc['float32']):.4f} | {diffs.mean():+.4f} (per seed:"
            f" {', '.join(f'{v:+.3f}' for v in diffs)}) | {'yes' if same else '**no**'} |"
            f" {loads[0]:.0f}-{loads[-1]:.0f} |"
        )
    print("\n".join(rows))
    write_section(
        "engine-float32-accuracy",
        "Engine accuracy: float32 against float64",
        "Test accuracy (goodness prediction) over seeds 0..S-1, float64 and float32 runs of the"
        " same seeds, one BLAS thread. Within noise: |mean difference| <= max(std over seeds of"
        " float64, one test sample).\n\n| task | command | seeds | float64 | float32 |"
        " float32 - float64 | within noise | 1-min load average during the runs |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows),
    )


# -- c. evaluation cost and peak memory -----------------------------------------------------------
def part_evaluation(args: argparse.Namespace) -> None:
    rows, out = [], {}
    for dt in ("float64", "float32"):
        run = Run(TrainConfig(dataset="digits", width=400, dtype=dt))
        before = load()
        start = time.perf_counter()
        run.train()
        loop = time.perf_counter() - start
        train_s = sum(m.train_seconds for m in run.history)
        evaluated = sum(m.test_accuracy is not None for m in run.history)
        share = 1.0 - train_s / loop
        out[dt] = {"loop": loop, "train": train_s, "evaluations": evaluated, "share": share}
        print(f"digits 2x400 {dt}: {evaluated} evaluations in {run.epoch} epochs, evaluation"
              f" {share:.1%} of {loop:.1f} s (load {before} -> {load()})")
        rows.append(f"| {dt} | {run.epoch} | {evaluated} | {loop:.1f} s | {train_s:.1f} s |"
                    f" **{share:.1%}** | {before} / {load()} |")
    save("evaluation", out)
    write_section(
        "engine-evaluation",
        "Engine: share of the training loop spent evaluating (digits 2x400)",
        "`phyll train --dataset digits --width 400 --dtype D` (seed 0, 60 epochs), default"
        " cadence (`--eval-every 0`: every `round(epochs / 10)` epochs and the last, which"
        " evaluates every prediction method and is reused by the summary); evaluation share ="
        " 1 - training-step seconds / loop seconds. Goal < 10 %.\n\n| dtype | epochs |"
        " evaluations | loop | training steps | evaluation share | load average before /"
        " after |\n| --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows),
    )


# -- peak memory -----------------------------------------------------------------------------
MEMORY_CODE = """
import resource, sys, tracemalloc
from phyll_core.engine import Run, TrainConfig
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
run = Run(TrainConfig(dataset="digits", width=int(sys.argv[1]), epochs=int(sys.argv[2])))
base = rss()
after_steps = []
plain_step = run.rule.step
def step(*args, **kwargs):
    out = plain_step(*args, **kwargs)
    after_steps.append(rss())
    return out
run.rule.step = step
trace = len(sys.argv) > 3
if trace:
    tracemalloc.start()
run.train(int(sys.argv[2]) - 1)
train_peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0.0
tracemalloc.reset_peak()
run.train()
eval_peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0.0
print(base, rss(), run.summary()["test_accuracy"], train_peak, eval_peak, after_steps[0],
      max(after_steps))
"""


def part_memory(args: argparse.Namespace) -> None:
    from phyll_core.engine import phyll_rules

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, "-c", MEMORY_CODE, "1000", str(args.memory_epochs)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    base, peak, acc = map(float, res.stdout.split()[:3])
    first_step, all_steps = map(float, res.stdout.split()[5:7])
    res = subprocess.run([*cmd, "trace"], capture_output=True, text=True, env=env, check=True)
    train_peak, eval_peak = map(float, res.stdout.split()[3:5])
    print(f"digits 2x1000, {args.memory_epochs} epochs: peak RSS {peak:.0f} MiB (after imports"
          f" and data, before training: {base:.0f} MiB); traced NumPy peaks: training"
          f" {train_peak:.0f} MiB, last epoch with evaluation {eval_peak:.0f} MiB; load {load()}")
    save("memory", {"base_mib": base, "peak_mib": peak, "epochs": args.memory_epochs,
                    "after_first_batch_mib": first_step, "after_training_steps_mib": all_steps,
                    "train_traced_mib": train_peak, "last_epoch_traced_mib": eval_peak})
    write_section(
        "engine-memory",
        "Engine peak memory (digits 2x1000)",
        f"`phyll train --dataset digits --width 1000 --epochs {args.memory_epochs}` in a fresh"
        " process (the last epoch evaluates every method; training's hardest-negative scoring"
        " and evaluation score rows in chunks of at most"
        f" {phyll_rules.SCORE_ROWS:,} physical rows), `ru_maxrss`; a second process traces the"
        " peak of"
        " Python/NumPy allocations (`tracemalloc`) of the training epochs before the last and"
        " of the last epoch (training plus evaluation); the peak RSS is also read after the"
        " first batch (its hardest-negative scoring pass fixes the physical layers' statistics"
        " and so takes all n x C rows at once) and after the last training batch. Digits are"
        " read with NumPy from scikit-learn's bundled file (scikit-learn itself is not"
        f" imported). Load average after: {load()}. Goal <= 300 MiB.\n\n| peak RSS | RSS"
        " after imports and data | peak RSS after the first batch | peak RSS after the last"
        " batch | traced peak, training | traced peak, last epoch with evaluation | test"
        " accuracy |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        f"| {peak:.0f} MiB | {base:.0f} MiB | {first_step:.0f} MiB | {all_steps:.0f} MiB |"
        f" {train_peak:.0f} MiB | {eval_peak:.0f} MiB | {acc:.4f} |",
    )


# -- d. block 0 reusing the scoring pass --------------------------------------------------------
def part_queries(args: argparse.Namespace) -> None:
    rows, out = [], {}
    for label, overrides in (("vowels (published)", dict(dataset=vowels(), **PUBLISHED)),
                             ("digits", dict(dataset="digits"))):
        epochs = 3
        got = {}
        for mode in ("reuse", "re-measure"):
            run = Run(TrainConfig(**{**overrides, "epochs": epochs + 1, "eval_every": 10**6}))
            if mode == "re-measure":  # block 0 measures its rows again, as before f8d1b81
                orig = run.rule._train_blocks
                run.rule._train_blocks = (  # type: ignore[method-assign]
                    lambda hp, hn, z0=None, rng=None, orig=orig: orig(hp, hn, None, rng))
            run.train(epochs)
            got[mode] = (run.physical_queries / epochs, run.history[-1].losses)
        d, b = run.data, run.config.blocks
        n, c = d.y_train.size, d.n_classes
        expected = {"reuse": b * c * n + 2 * (b - 1) * n, "re-measure": b * c * n + 2 * b * n}
        same = all(np.isclose(got["reuse"][1][k], v, rtol=1e-9, atol=0)
                   for k, v in got["re-measure"][1].items())
        out[label] = {"measured": {k: v[0] for k, v in got.items()}, "expected": expected,
                      "losses_equal": same}
        saving = 1 - got["reuse"][0] / got["re-measure"][0]
        print(f"{label}: {got['re-measure'][0]:,.0f} -> {got['reuse'][0]:,.0f} queries per epoch"
              f" ({saving:.1%} fewer; expected {expected['re-measure']:,} ->"
              f" {expected['reuse']:,}); losses equal: {same}")
        rows.append(f"| {label} | {n} x {c} classes, {b} blocks | {got['re-measure'][0]:,.0f}"
                    f" ({expected['re-measure']:,}) | {got['reuse'][0]:,.0f}"
                    f" ({expected['reuse']:,}) | {saving:.1%} | {'yes' if same else 'no'} |")
    save("queries", out)
    write_section(
        "engine-block0-reuse",
        "Physical queries: block 0 reusing the hardest-negative scoring pass",
        "Training queries per epoch (3 epochs, no evaluation) of `phyll train` with the default"
        " hardest negatives, measured with the system counters; \"re-measure\" is the behaviour"
        " of commit e4df591, before f8d1b81 (block 0 sends its positive and negative rows again),"
        " obtained by withholding the scoring pass's rows. Expected counts in brackets: per epoch"
        " `B C N + 2 (B - 1) N` against `B C N + 2 B N` (N training rows, C classes, B blocks)."
        "\n\n| task | shape | re-measure | reuse | saving | same losses (rtol 1e-9) |\n"
        "| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows),
    )


# -- 3. BLAS threads ---------------------------------------------------------------------------
def part_threads(args: argparse.Namespace) -> None:
    rows, out = [], {}
    for width in args.widths + [1000] * (1000 not in args.widths):
        epochs = args.thread_epochs
        runs = {t: Run(TrainConfig(dataset="digits", width=width, epochs=epochs + 2,
                                   eval_every=10**6)) for t in (1, 2)}
        for t, r in runs.items():  # the first epoch calibrates and warms up
            epoch_step(r, t)()
        steps = {f"{t} thread{'s' * (t > 1)}": epoch_step(r, t) for t, r in runs.items()}
        out[width], row = speed_ratio(f"2x{width}", steps, epochs)
        rows.append(row)
    save("threads", out)
    write_section(
        "engine-threads",
        "Engine speed: one against two BLAS threads (digits)",
        f"`phyll train --dataset digits --width W` with `PHYLL_BLAS_THREADS=1` and `=2`,"
        f" {args.thread_epochs} training epochs each after a warm-up epoch, interleaved, float64,"
        " training seconds per epoch. Two threads' speed-up above 1 means two threads are"
        " faster.\n\n| network | 1 thread | 2 threads | speed-up of 2 threads |"
        " load average before / after |\n| --- | --- | --- | --- | --- |\n" + "\n".join(rows),
    )


PARTS = {"torch": part_torch, "dtype-speed": part_dtype_speed, "accuracy": part_accuracy,
         "evaluation": part_evaluation, "memory": part_memory, "queries": part_queries,
         "threads": part_threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=list(PARTS), default=list(PARTS))
    parser.add_argument("--seeds", type=int, default=5, help="seeds on digits and vowels")
    parser.add_argument("--mnist1d-seeds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=["digits", "vowels", "mnist1d"])
    parser.add_argument("--widths", type=int, nargs="+", default=[400])
    parser.add_argument("--epochs", type=int, default=11, help="dtype-speed epochs per run")
    parser.add_argument("--thread-epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the torch part")
    parser.add_argument("--block-epochs", type=int, default=1,
                        help="torch part: epochs of one implementation in a row (1: alternate"
                        " every epoch; a PyTorch epoch slows the next phyll epoch by ~0.25 ms)")
    parser.add_argument("--memory-epochs", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for part in args.parts:
        PARTS[part](args)


if __name__ == "__main__":
    main()
