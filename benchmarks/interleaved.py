"""The timing protocol of the engine benchmarks: steps interleaved in one process (A, B, B,
A, ...), one BLAS thread unless a step sets its own, medians and deciles in ms, and the load
average of the machine printed beside every ratio."""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from typing import Any

from threadpoolctl import threadpool_limits

from phyll_core.engine import Run


def load() -> str:
    """The 1, 5 and 15 minute load averages, ``0.9/1.2/1.4``."""
    return "/".join(f"{v:.1f}" for v in os.getloadavg())



def interleave(
    steps: dict[str, Callable[[], float]], rounds: int, block: int = 1
) -> dict[str, list[float]]:
    """Call every step ``block`` times in a row per turn, the order of the turns reversed
    every other round, until each ran ``rounds`` times; each returns its own seconds. One BLAS
    thread unless a step sets its own limit."""
    times: dict[str, list[float]] = {k: [] for k in steps}
    names = list(steps)
    for r in range(-(-rounds // block)):
        for k in names if r % 2 == 0 else names[::-1]:
            for _ in range(min(block, rounds - r * block)):
                times[k].append(steps[k]())
    return times


def epoch_step(run: Run, threads: int = 1) -> Callable[[], float]:
    def step() -> float:
        with threadpool_limits(limits=threads, user_api="blas"):
            return run.train_epoch().train_seconds

    return step


def short(name: str) -> str:
    """``float32`` -> ``f32``, ``numba float64`` -> ``numba f64`` (table headers)."""
    return name.replace("float", "f")


def deciles(ts: list[float]) -> str:
    """The 1st, 3rd, 7th and 9th deciles in ms (``1.10 / 1.12 / 1.20 / 1.31``): a gap between
    the 3rd and the 7th shows two populations of epochs."""
    d = statistics.quantiles(ts, n=10)
    return " / ".join(f"{1e3 * d[i]:.2f}" for i in (0, 2, 6, 8))


def fmt_ms(ts: list[float]) -> str:
    return f"{1e3 * statistics.median(ts):.2f} ms (min {1e3 * min(ts):.2f})"


def speed_ratio(
    network: str, steps: dict[str, Callable[[], float]], rounds: int
) -> tuple[dict[str, Any], str]:
    """Interleave the two ``steps`` on the digits ``network`` (``2x400``) for ``rounds`` rounds;
    print the medians and the second's speed-up (median ratio) with the load average before and
    after; return the figures (for the JSON) and the row ``| network | first | second |
    speed-up | load before / after |``."""
    (a, b), before = list(steps), load()
    times = interleave(steps, rounds)
    after = load()
    ratio = statistics.median(times[a]) / statistics.median(times[b])
    print(f"digits {network}: {a} {fmt_ms(times[a])}, {b} {fmt_ms(times[b])}: {b} {ratio:.2f}x"
          f" (load {before} -> {after})")
    row = (f"| {network} | {fmt_ms(times[a])} | {fmt_ms(times[b])} | **{ratio:.2f}x** |"
           f" {before} / {after} |")
    return {"times": times, "ratio": ratio, "load": [before, after]}, row
