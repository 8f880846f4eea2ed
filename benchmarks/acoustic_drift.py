"""Drift benchmark of the acoustic backend: a temperature step, then recovery by PhyLL.

For each seed: train on the Hillenbrand vowels through ``acoustic`` with the defaults of
``phyll train`` (2 blocks), record the test accuracy (``before``), change the cavity's air
temperature by ``--step`` kelvin (``perturb(step, rng)``, random sign; every mode frequency
scales by c(T)/c(T0)), record the accuracy of the frozen network (``after``), then keep
training with PhyLL for ``--recover`` epochs on the drifted cavity (``recovered``). Prints the
three numbers per seed and their means, draws the mean test-accuracy curve
(docs/img/acoustic_drift.png) and writes the ``acoustic-drift`` section of docs/results.md.

    python benchmarks/acoustic_drift.py                       # 5 seeds, 5 K step, 30 epochs
    python benchmarks/acoustic_drift.py --seeds 0 1 --step 3
    python benchmarks/acoustic_drift.py --param microphones=1 --no-write   # another cavity
    python benchmarks/acoustic_drift.py --compare microphones=1   # and the means of another
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from phyll_core.engine import Run, TrainConfig
from phyll_core.io import atomic_open

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from results import write_section  # noqa: E402

VOWELS = "csv:../shared/data/vowels/hillenbrand_women_7vowels.csv"  # as a user types it
VOWELS_FILE = ROOT / ".." / "shared" / "data" / "vowels" / "hillenbrand_women_7vowels.csv"


@dataclass
class SeedResult:
    """Test accuracies of one seed and its test-accuracy curve (one value per epoch)."""

    seed: int
    temperature: float
    before: float
    after: float
    recovered: float
    trained_epochs: int
    curve: list[float]


def one_seed(
    seed: int, step: float, recover: int, params: dict[str, str] | None = None
) -> SeedResult:
    """Train (system parameters ``params``), perturb, retrain."""
    config = TrainConfig(
        system="acoustic",
        params=dict(params or {}),
        dataset=f"csv:{VOWELS_FILE.resolve()}",
        blocks=2,
        seed=seed,
    )
    run = Run(config)
    run.train()
    trained = run.epoch
    before = run.accuracy(run.method)[1]
    system = run.systems[0]
    system.perturb(step, np.random.default_rng([seed, 99]))
    after = run.accuracy(run.method)[1]
    run.train(trained + recover)
    recovered = run.accuracy(run.method)[1]
    return SeedResult(
        seed=seed,
        temperature=float(system.status()["temperature (C)"]),
        before=before,
        after=after,
        recovered=recovered,
        trained_epochs=trained,
        curve=[float(m.test_accuracy or 0.0) for m in run.history],
    )


def figure(rows: list[SeedResult], step: float, path: Path) -> None:
    """Test accuracy per epoch: training, the drop at the step (vertical), recovery."""
    trained = rows[0].trained_epochs
    curves = 100 * np.array([r.curve for r in rows])
    afters = 100 * np.array([r.after for r in rows])
    epochs = np.arange(1, curves.shape[1] + 1)
    # after the step: the frozen network's accuracy at epoch `trained`, then the retraining
    post_x = np.concatenate([[trained], epochs[trained:]])
    post = np.column_stack([afters, curves[:, trained:]])
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    for pre_c, post_c in zip(curves, post, strict=True):
        ax.plot(epochs[:trained], pre_c[:trained], color="0.8", lw=0.7)
        ax.plot(post_x, post_c, color="0.8", lw=0.7)
    ax.plot(
        epochs[:trained],
        curves[:, :trained].mean(axis=0),
        color="tab:blue",
        lw=1.6,
        label=f"mean of {len(rows)} seeds",
    )
    ax.plot(post_x, post.mean(axis=0), color="tab:blue", lw=1.6)
    ax.plot(
        [trained],
        [afters.mean()],
        "o",
        color="crimson",
        label=f"frozen network right after a {step:g} K step",
    )
    ax.axvline(trained, color="crimson", ls="--", lw=0.8)
    ax.set_xlabel("epoch (PhyLL training continues on the drifted cavity after the step)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(max(0.0, float(min(afters.min(), curves.min())) - 5), 101)
    ax.legend(fontsize=8, loc="lower left")
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--step", type=float, default=5.0, help="temperature step (K)")
    parser.add_argument("--recover", type=int, default=30, help="epochs of retraining")
    parser.add_argument(
        "--param", action="append", default=[], help="NAME=VALUE system parameter (repeatable)"
    )
    parser.add_argument(
        "--compare", action="append", default=[], help="also the means with NAME=VALUE set"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    params = dict(item.split("=", 1) for item in args.param)
    if not VOWELS_FILE.exists():
        raise SystemExit(f"{VOWELS_FILE} not found: the drift benchmark needs ../shared/data")

    start = time.perf_counter()
    rows = []
    for seed in args.seeds:
        r = one_seed(seed, args.step, args.recover, params)
        rows.append(r)
        print(
            f"seed {seed}: T -> {r.temperature:.1f} C  before {r.before:.3f}"
            f"  after {r.after:.3f}  recovered {r.recovered:.3f}",
            flush=True,
        )
    before = 100 * statistics.mean(r.before for r in rows)
    after = 100 * statistics.mean(r.after for r in rows)
    recovered = 100 * statistics.mean(r.recovered for r in rows)
    print(
        f"mean over {len(rows)} seeds: before {before:.1f} %  right after {after:.1f} %"
        f"  recovered {recovered:.1f} %  ({time.perf_counter() - start:.0f} s)"
    )
    compared = ""
    if args.compare:
        other = dict(item.split("=", 1) for item in args.compare)
        rows_c = [
            one_seed(seed, args.step, args.recover, {**params, **other}) for seed in args.seeds
        ]
        means = [
            100 * statistics.mean(getattr(r, k) for r in rows_c)
            for k in ("before", "after", "recovered")
        ]
        flags = " ".join(f"`--param {k}={v}`" for k, v in other.items())
        compared = (
            f"\nThe same seeds with {flags}: before **{means[0]:.1f} %**, right after"
            f" **{means[1]:.1f} %**, recovered **{means[2]:.1f} %** (means).\n"
        )
        print(
            f"with {other}: before {means[0]:.1f} %  after {means[1]:.1f} %"
            f"  recovered {means[2]:.1f} %"
        )
    if args.no_write:
        return
    figure(rows, args.step, ROOT / "docs" / "img" / "acoustic_drift.png")
    table = "\n".join(
        f"| {r.seed} | {r.temperature:.0f} | {100 * r.before:.1f} | {100 * r.after:.1f} |"
        f" {100 * r.recovered:.1f} |"
        for r in rows
    )
    given = "".join(f" --param {k}={v}" for k, v in params.items())
    body = f"""
Train on the vowels (`phyll train --dataset {VOWELS} --system acoustic --blocks 2{given}`, all
other options at their defaults: {rows[0].trained_epochs} epochs), then change the cavity's air
temperature by {args.step:g} K (`perturb({args.step:g}, rng)` with a random sign: every mode
frequency scales by c(T)/c(T0)) and keep training with PhyLL for {args.recover} epochs on the
drifted cavity. Test accuracy:

| seed | T after the step (C) | before (%) | right after (%) | recovered (%) |
|---|---|---|---|---|
{table}
| **mean** | | **{before:.1f}** | **{after:.1f}** | **{recovered:.1f}** |
{compared}
![test accuracy before and after the temperature step](img/acoustic_drift.png)
"""
    write_section("acoustic-drift", "Acoustic cavity: temperature drift and recovery", body)
    print("wrote docs/results.md section acoustic-drift and docs/img/acoustic_drift.png")


if __name__ == "__main__":
    main()
