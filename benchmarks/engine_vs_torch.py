"""Part ``torch`` of benchmarks/engine_speed.py: phyll against the same algorithm in PyTorch
on the published vowel configuration, one thread each, epochs interleaved."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from engine_setup import PUBLISHED, PUBLISHED_CLI, save, vowels
from interleaved import deciles, epoch_step, fmt_ms, interleave, load, short
from results import write_section
from threadpoolctl import threadpool_limits

from phyll_core.engine import Run, TrainConfig


def torch_round(
    torch: Any, dataset: str, block: int = 1
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """One interleaved comparison: fresh phyll runs and PyTorch nets, every epoch of the
    published configuration, ``block`` epochs of one in a row; returns the seconds per epoch
    and the test accuracies."""
    from torch_phyll import TorchPhyLL

    from phyll_core.engine.trainer import label_constant

    runs = {dt: Run(TrainConfig(dataset=dataset, dtype=dt, **PUBLISHED)) for dt in
            ("float64", "float32")}
    if has_numba():  # the compiled inner steps (--kernel numba) beside them
        runs.update({f"numba {dt}": Run(TrainConfig(dataset=dataset, dtype=dt, kernel="numba",
                                                    **PUBLISHED)) for dt in ("float64", "float32")})
    d = runs["float64"].data
    steps: dict[str, Callable[[], float]] = {f"phyll {k}": epoch_step(r) for k, r in runs.items()}
    nets = {}
    for name, tdt in (("float32", torch.float32), ("float64", torch.float64)):
        net = TorchPhyLL(d.x_train.shape[1], d.n_classes, label_constant(d.x_train), dtype=tdt)
        nets[name] = net

        def step(net: TorchPhyLL = net, rng: np.random.Generator = np.random.default_rng(0)
                 ) -> float:
            with threadpool_limits(limits=1, user_api="blas"):
                start = time.perf_counter()
                net.epoch(d.x_train, d.y_train, rng)
                return time.perf_counter() - start

        steps[f"PyTorch {name}"] = step
    times = interleave(steps, PUBLISHED["epochs"], block)
    acc = {f"phyll {k}": r.summary()["test_accuracy"] for k, r in runs.items()}
    acc.update({f"PyTorch {k}": n.accuracy(d.x_test, d.y_test) for k, n in nets.items()})
    return times, acc


def has_numba() -> bool:
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def part_torch(args: argparse.Namespace) -> None:
    try:
        import torch
    except ImportError:
        print("torch: PyTorch is not installed (pip install torch), comparison skipped")
        return
    torch.set_num_threads(1)
    dataset = vowels()
    pairs = [(t, p) for t in ("float32", "float64") for p in ("float64", "float32")]
    if has_numba():
        pairs += [("float32", "numba float32"), ("float64", "numba float64")]
    else:
        print("torch: numba is not installed (pip install 'phyll-core[fast]'): no numba column")
    rounds, lines, ratio_rows = [], [], []
    for r in range(args.repeats):
        before = load()
        times, acc = torch_round(torch, dataset, args.block_epochs)
        after = load()
        med = {k: statistics.median(v) for k, v in times.items()}
        best = {k: min(v) for k, v in times.items()}
        ratios = {f"{t}/{p}": (med[f"PyTorch {t}"] / med[f"phyll {p}"],
                               best[f"PyTorch {t}"] / best[f"phyll {p}"]) for t, p in pairs}
        rounds.append({"times": times, "accuracy": acc, "ratios": ratios, "load": [before, after]})
        print(f"round {r}: " + ", ".join(f"PyTorch {k.replace('/', ' / phyll ')} {a:.2f}x"
                                         f" (best epochs {b:.2f}x)" for k, (a, b) in ratios.items())
              + f"; load {before} -> {after}")
        lines += [f"| {r} | {k} | {fmt_ms(v)} | {deciles(v)} | {acc[k]:.4f} |"
                  for k, v in times.items()]
        ratio_rows.append(f"| {r} | " + " | ".join(f"**{a:.2f}x** ({b:.2f}x)"
                                                  for a, b in ratios.values())
                          + f" | {before} / {after} |")
    block = args.block_epochs
    save("torch" if block == 1 else f"torch-block{block}",
         {"rounds": rounds, "torch": torch.__version__})
    order = ("epochs interleaved in one process" if block == 1 else
             f"interleaved in turns of {block} epochs of one implementation (the order of the"
             " turns reversed every other round) in one process, which keeps a PyTorch epoch"
             " from slowing the next phyll epoch (measured: ~0.25 ms for either phyll kernel"
             " when they alternate every epoch)")
    write_section(
        "engine-vs-torch" if block == 1 else "engine-vs-torch-blocked",
        "Engine speed: phyll against the same algorithm in PyTorch (vowels, published config)"
        + ("" if block == 1 else f", turns of {block} epochs"),
        f"`phyll train --dataset {dataset if dataset == 'vowels' else 'VOWELS.csv'}"
        f" {PUBLISHED_CLI}` (full batch, hardest negatives, block 0 reusing the scoring pass)"
        f" against `benchmarks/torch_phyll.py` (PyTorch {torch.__version__}, `nn.Linear`,"
        " autograd, `torch.optim.Adam`, same shapes, inner steps and negatives), one BLAS/torch"
        f" thread each, {PUBLISHED['epochs']} epochs each per round, {order};"
        " training seconds per epoch (no evaluation). The machine (2 cores) was shared"
        " with other jobs: absolute times are inflated several-fold and vary, the ratios are"
        " what counts. \"phyll numba\": `--kernel numba` (the compiled inner steps,"
        " `phyll_core/engine/fused_numba.py`), the other phyll columns the default NumPy kernel."
        " Goal: PyTorch / phyll >= 6x.\n\n| round | "
        + " | ".join(f"PyTorch {short(t)} / phyll {short(p)}" for t, p in pairs)
        + " | load average before / after |\n|" + " --- |" * (len(pairs) + 2) + "\n"
        + "\n".join(ratio_rows) + "\n\nRatios of the median epochs; in brackets of the"
        " fastest epochs, the closer estimate for an idle machine (under contention the longer"
        " PyTorch epochs are preempted more often, which inflates the median ratio).\n\n"
        "| round | implementation | median per epoch | deciles 1 / 3 / 7 / 9 | test accuracy |\n"
        "| --- | --- | --- | --- | --- |\n" + "\n".join(lines),
    )
