"""Write measured figures into docs/results.md, one marked section per benchmark.

Each benchmark owns the text between ``<!-- BEGIN key -->`` and ``<!-- END key -->``; running it
again replaces only its own section (the file is rewritten atomically). The section records the
command that produced it and the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
from datetime import date
from pathlib import Path
from typing import Any

from phyll_core.io import atomic_write_text

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results.md"
HEADER = (
    "# Measured results\n\nEvery figure on this page was measured by a script in `benchmarks/`;"
    " each section names the\ncommand that produced it and the machine. Re-run the command to"
    " reproduce it.\n"
)


def machine() -> str:
    """One line describing the machine."""
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()},"
        f" {platform.system()} ({date.today().isoformat()})"
    )


def command_line() -> str:
    """The command that is running, as a user would type it."""
    script = os.path.relpath(sys.argv[0], RESULTS.parent.parent)
    return " ".join(["python", shlex.quote(script), *map(shlex.quote, sys.argv[1:])])


def write_section(key: str, title: str, body: str) -> None:
    """Replace (or append) section ``key`` of docs/results.md with ``body`` under ``title``."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    block = (
        f"<!-- BEGIN {key} -->\n## {title}\n\n"
        f"Command: `{command_line()}`  \nMachine: {machine()}\n\n{body.strip()}\n<!-- END {key} -->"
    )
    begin, end = f"<!-- BEGIN {key} -->", f"<!-- END {key} -->"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    atomic_write_text(RESULTS, text)


def mean_std(values: list[float]) -> str:
    """``mean ± std`` of accuracies (fractions) in %, the population standard deviation as
    ``phyll compare`` and ``phyll sweep`` report it (0 for one value)."""
    import statistics

    std = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.fmean(values):.1f} ± {100 * std:.1f}"


def accuracy_over_seeds(
    system: str,
    dataset: str,
    seeds: int,
    blocks: int = 2,
    params: dict[str, Any] | None = None,
    skip: bool = True,
) -> dict[str, Any]:
    """Train ``--system SYSTEM --dataset DATASET --blocks BLOCKS --seed S`` for S in
    0..seeds-1 (plus ``--param NAME=VALUE`` for each of ``params``, and ``--no-skip`` unless
    ``skip``) with every other option at the default of ``phyll train``; return the test
    accuracy statistics plus mean train accuracy, seconds and physical queries per run."""
    import statistics

    from phyll_core.engine import TrainConfig, train

    runs = []
    for seed in range(seeds):
        config = TrainConfig(
            system=system,
            dataset=dataset,
            blocks=blocks,
            seed=seed,
            params=dict(params or {}),
            skip=skip,
        )
        summary = train(config)
        runs.append(summary)
        print(f"{dataset} seed {seed}: test {summary['test_accuracy']:.4f}", flush=True)
    tests = [r["test_accuracy"] for r in runs]
    return {
        "dataset": dataset,
        "seeds": seeds,
        "test_mean": statistics.fmean(tests),
        "test_std": statistics.pstdev(tests),
        "test_min": min(tests),
        "test_all": tests,
        "train_mean": statistics.fmean(r["train_accuracy"] for r in runs),
        "seconds_mean": statistics.fmean(r["seconds"] for r in runs),
        "queries_mean": statistics.fmean(r["physical_queries"] for r in runs),
    }


def probe_variants(
    system: str, variants: dict[str, list[str]], samples: int, repeats: int
) -> list[dict[str, Any]]:
    """Best-of-``repeats`` ``phyll probe SYSTEM --param ...`` of every labelled variant."""
    from phyll_core.factory import build_system
    from phyll_core.probe import probe

    rows = []
    for label, params in variants.items():
        built = build_system(system, params)
        runs = [probe(built, samples=samples, seed=0) for _ in range(repeats)]
        best = max(runs, key=lambda r: r.samples_per_second)
        rows.append(
            {
                "variant": label,
                "params": params,
                "outputs": built.output_dim,
                "samples_per_second": best.samples_per_second,
                "all_runs": [r.samples_per_second for r in runs],
                "nonlinearity": best.nonlinearity,
            }
        )
        print(f"{label}: {best.samples_per_second:,.0f} samples/s, nl {best.nonlinearity:.3f}")
    return rows


def trained_run(config: Any, data: Any) -> Any:
    """A :class:`~phyll_core.engine.trainer.Run` of ``config`` on the split of ``data`` for its
    seed, trained."""
    from phyll_core.datasets import split
    from phyll_core.engine.trainer import Run

    run = Run(config, split(data, config.seed, config.test_fraction))
    run.train()
    return run


def accuracy_text(run: Any) -> str:
    """``goodness TRAIN / TEST, readout TEST`` of a trained run, in %."""
    acc = run.summary()["accuracy_by_method"]
    good, read = acc["goodness"], acc["readout"]
    return (
        f"goodness {100 * good['train_accuracy']:.1f} / {100 * good['test_accuracy']:.1f},"
        f" readout {100 * read['test_accuracy']:.1f}"
    )


def experiment_parser(doc: str | None, systems: bool = True) -> argparse.ArgumentParser:
    """The arguments the training experiments share: a dataset, (``systems``) the systems
    comma-separated, and ``--seeds`` comma-separated (default 0); the description is the
    first line of ``doc``."""
    ap = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    ap.add_argument("dataset")
    if systems:
        ap.add_argument("systems", help="comma-separated")
    ap.add_argument("--seeds", default="0", help="comma-separated")
    return ap
