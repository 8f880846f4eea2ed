"""Where phyll's time goes in one training epoch of the published vowel configuration.

``--dataset vowels --system identity --blocks 2 --width 20 --inner-steps 10`` (full batch,
hardest negatives, float32 by default): the run is built and warmed up (``--warmup`` epochs),
then ``--epochs`` epochs are trained under ``cProfile``; the script prints the seconds per epoch
without and with the profiler and the functions with the most own time, per epoch. For
line-level figures run the ``--bare`` mode under a sampling profiler, e.g.
``py-spy record --rate 2000 --format raw -o spy.txt -- python benchmarks/engine_profile.py
--bare --epochs 3000`` and read the samples with ``--lines spy.txt`` (share of the samples inside
``PhyLL.step``, by the innermost phyll_core line, in microseconds per epoch).

    python benchmarks/engine_profile.py                  # cProfile table, float32
    python benchmarks/engine_profile.py --dtype float64 --top 30
    python benchmarks/engine_profile.py --kernel numba   # the compiled inner steps
    python benchmarks/engine_profile.py --lines spy.txt --ms-per-epoch 1.45
    python benchmarks/engine_profile.py --ablate off-scale validation   # what pieces cost

``--ablate`` measures what a piece outside the learning rule costs, by removing it (for the
measurement only, results may differ): epochs of runs with and without it interleaved, one BLAS
thread. ``off-scale``: the physical layer's drift test on every calibrating pass
(``PhysicalLayer.off_scale`` reporting nothing); ``validation``: the systems' input and output
checks (``validate_input``/``validate_output`` reduced to the float64 conversion).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_setup import PUBLISHED, vowels

from phyll_core.engine import Run, TrainConfig
from phyll_core.engine.trainer import blas_limit


def build(dtype: str, epochs: int, kernel: str = "numpy") -> Run:
    config = {**PUBLISHED, "epochs": epochs, "eval_every": 10**6}
    return Run(TrainConfig(dataset=vowels(), dtype=dtype, kernel=kernel, **config))


@contextmanager
def ablated(pieces: tuple[str, ...]) -> Iterator[None]:
    """The engine with ``pieces`` (see the module docstring) removed, restored on exit."""
    from phyll_core.engine.network import PhysicalLayer
    from phyll_core.system import PhysicalSystem

    names = ((PhysicalLayer, "off_scale"), (PhysicalSystem, "validate_input"),
             (PhysicalSystem, "validate_output"))
    saved = [getattr(cls, name) for cls, name in names]
    try:
        if "off-scale" in pieces:
            setattr(PhysicalLayer, "off_scale", lambda self, y: (0.0, 0.0))  # noqa: B010
        if "validation" in pieces:
            setattr(PhysicalSystem, "validate_input",  # noqa: B010
                    lambda self, x: np.asarray(x, dtype=np.float64))
            setattr(PhysicalSystem, "validate_output",  # noqa: B010
                    lambda self, y, batch: np.asarray(y, dtype=np.float64))
        yield
    finally:
        for (cls, name), value in zip(names, saved, strict=True):
            setattr(cls, name, value)


def ablate(dtype: str, pieces: list[str], epochs: int, warmup: int) -> None:
    """Interleaved epochs: as is, then without each piece cumulatively (see the docstring)."""
    variants = [tuple(pieces[:i]) for i in range(len(pieces) + 1)]
    runs = {v: build(dtype, warmup + epochs + 1) for v in variants}
    times: dict[tuple[str, ...], list[float]] = {v: [] for v in variants}
    def step(v: tuple[str, ...]) -> float:
        with ablated(v):
            return runs[v].train_epoch().train_seconds

    with blas_limit():
        for e in range(warmup + epochs):
            for v in variants if e % 2 else variants[::-1]:
                t = step(v)
                if e >= warmup:
                    times[v].append(t)
    base = statistics.median(times[()])
    for v in variants:
        med, best = statistics.median(times[v]), min(times[v])
        name = "as is" if not v else "without " + " and ".join(v)
        print(f"{dtype} {name}: {1e3 * med:.3f} ms per epoch (min {1e3 * best:.3f}),"
              f" {100 * (1 - med / base):.0f} % less")


def lines(raw: Path, ms_per_epoch: float, top: int) -> None:
    """Per-line table of a py-spy ``--format raw`` file (see the module docstring)."""
    from collections import Counter

    own: Counter[str] = Counter()
    total = 0
    for row in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = row.rpartition(" ")
        frames = stack.split(";")
        if not any(f.startswith("PhyLL.step ") for f in frames):
            continue
        total += int(count)
        inner = [f for f in frames if "phyll_core" in f]
        own[inner[-1].split(" ", 1)[1].strip("()").replace("phyll_core/", "")] += int(count)
    print(f"{total} samples inside PhyLL.step; {ms_per_epoch:.3f} ms per epoch")
    print(f"{'share':>6} {'us/epoch':>9}  innermost phyll_core line")
    for where, hits in own.most_common(top):
        share = hits / max(1, total)
        print(f"{100 * share:5.1f}% {1e3 * ms_per_epoch * share:9.1f}  {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--kernel", default="numpy", choices=("numpy", "numba"),
                        help="inner steps: --kernel of phyll train")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--bare", action="store_true", help="train only (for an outside profiler)")
    parser.add_argument("--lines", type=Path, help="read a py-spy raw file instead of training")
    parser.add_argument("--ms-per-epoch", type=float, default=1.0, help="with --lines")
    parser.add_argument("--ablate", nargs="+", choices=("off-scale", "validation"),
                        help="measure what these pieces cost (cumulatively, in this order)")
    args = parser.parse_args()
    if args.ablate:
        ablate(args.dtype, args.ablate, args.epochs, args.warmup)
        return
    if args.lines:
        lines(args.lines, args.ms_per_epoch, args.top)
        return
    run = build(args.dtype, args.warmup + 2 * args.epochs + 1, args.kernel)
    with blas_limit():
        for _ in range(args.warmup):
            run.train_epoch()
        start = time.perf_counter()
        for _ in range(args.epochs):
            run.train_epoch()
        plain = (time.perf_counter() - start) / args.epochs
        if args.bare:
            print(f"{args.dtype}: {1e3 * plain:.3f} ms per epoch")
            return
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        for _ in range(args.epochs):
            run.train_epoch()
        profile.disable()
        profiled = (time.perf_counter() - start) / args.epochs
    print(f"{args.dtype}: {1e3 * plain:.3f} ms per epoch ({1e3 * profiled:.3f} ms profiled)")
    stats = pstats.Stats(profile, stream=io.StringIO())
    rows = []
    for (file, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((own, cumulative, calls, f"{Path(file).name}:{line}({name})"))
    rows.sort(reverse=True)
    print(f"{'own us/epoch':>13} {'cum us/epoch':>13} {'calls/epoch':>12}  function")
    for own, cumulative, calls, where in rows[: args.top]:
        e = args.epochs
        print(f"{1e6 * own / e:13.1f} {1e6 * cumulative / e:13.1f} {calls / e:12.1f}  {where}")


if __name__ == "__main__":
    main()
