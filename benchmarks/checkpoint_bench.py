"""Cost of periodic checkpoints: the time of one atomic checkpoint save against the time of one
training epoch, interleaved in one process, for the default configuration of ``phyll train``
on a few datasets. Prints the median of each and the overhead of the default cadence
(``--checkpoint-every 25,60s``: one save every 25 epochs for runs with epochs under 2.4 s).

    OPENBLAS_NUM_THREADS=1 python benchmarks/checkpoint_bench.py [--epochs 10] [--datasets a,b]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from phyll_core.engine.checkpoint import save_checkpoint
from phyll_core.engine.config import TrainConfig
from phyll_core.engine.trainer import Run, blas_limit


def measure(dataset: str, epochs: int) -> tuple[float, float]:
    """Median seconds of one epoch and of one save, alternating epoch and save."""
    run = Run(TrainConfig(dataset=dataset, epochs=epochs))
    folder = Path(tempfile.mkdtemp()) / "run"
    epoch_s, save_s = [], []
    with blas_limit():
        for _ in range(epochs):
            start = time.perf_counter()
            run.train_epoch()
            epoch_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            save_checkpoint(run, folder)
            save_s.append(time.perf_counter() - start)
    return statistics.median(epoch_s), statistics.median(save_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--datasets", default="circles,digits")
    args = parser.parse_args()
    print(f"{'dataset':10} {'epoch ms':>9} {'save ms':>8} {'overhead at every 25':>21}")
    for dataset in args.datasets.split(","):
        epoch, save = measure(dataset, args.epochs)
        overhead = save / (25 * epoch)
        print(f"{dataset:10} {epoch * 1e3:9.1f} {save * 1e3:8.1f} {overhead:20.1%}")


if __name__ == "__main__":
    main()
