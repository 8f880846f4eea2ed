"""The compiled inner steps (``--kernel numba``, ``phyll_core/engine/fused_numba.py``) against
the NumPy kernel: what one ``LocalBlock.train`` call costs, what the compilation and numba's
import cost a process, and the test accuracy over seeds. The ratio against PyTorch is measured
by ``engine_speed.py --parts torch`` (its numba columns).

    python benchmarks/engine_numba.py                       # every part (about 3 min on 2 cores)
    python benchmarks/engine_numba.py --parts calls startup
    python benchmarks/engine_numba.py --parts accuracy --seeds 5 --digits-seeds 3

Parts (together one section of docs/results.md, ``benchmarks/out/engine_numba/*.json``):

- ``calls``: one ``LocalBlock.train`` of the published shapes (412 rows of 41 columns, width 20,
  10 inner steps), NumPy kernel + Adam against ``fused_numba.train_steps``, interleaved, best
  of 40 rounds of 20 calls, one BLAS thread.
- ``products``: the forward and backward product of one inner step through NumPy's
  ``np.dot``, numba's ``np.dot`` (SciPy's BLAS) and, in float32, NumPy's own ``sgemm`` called
  from compiled code (what the kernel uses).
- ``startup``: fresh processes: the first compiled call with an empty numba cache
  (``NUMBA_CACHE_DIR`` a new folder) and with the cache filled, and bare ``phyll train
  --no-save`` (circles, 60 epochs) with ``--kernel numpy`` and ``--kernel numba`` (cold and warm
  cache), wall seconds, best of ``--repeats``.
- ``accuracy``: test accuracy of both kernels, vowels at the published configuration
  (``--seeds``) and digits at the ``phyll train`` defaults (``--digits-seeds``), float32 and
  float64.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_setup import PUBLISHED, PUBLISHED_CLI, vowels
from interleaved import load
from results import write_section

from phyll_core.engine import Run, TrainConfig
from phyll_core.engine.trainer import blas_limit

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "out" / "engine_numba"


def _best_calls(dtype: str) -> dict[str, float]:
    """Seconds per ``LocalBlock.train`` call of each kernel on the published shapes."""
    from phyll_core.engine import fused_numba
    from phyll_core.engine.fused import CosineSoftplusGrad
    from phyll_core.engine.optim import Adam

    rng = np.random.default_rng(0)
    z = rng.standard_normal((412, 41)).astype(dtype)
    w0 = (rng.standard_normal((20, 41)) / 6).astype(dtype)
    p = np.abs(rng.standard_normal(20))
    p = (p / np.linalg.norm(p)).astype(dtype)
    opts = {k: Adam(lr=1e-2) for k in ("numpy", "numba")}
    params = {k: {"W": w0.copy()} for k in opts}
    for k, opt in opts.items():
        opt.init(params[k])

    def numpy_call() -> None:  # LocalBlock.train's NumPy path
        w, out = params["numpy"]["W"], np.empty_like(w0)
        kernel = CosineSoftplusGrad(p, 4.0, z, 206)
        for step in range(10):
            kernel(w, out, with_value=step == 9)
            opts["numpy"].update(params["numpy"], {"W": out})

    def numba_call() -> None:
        fused_numba.train_steps(params["numba"]["W"], z, 206, p, 4.0, opts["numba"], 10)

    calls = {"numpy": numpy_call, "numba": numba_call}
    numba_call()  # compiled (or loaded from the cache) outside the timing
    best = dict.fromkeys(calls, float("inf"))
    with blas_limit():
        for r in range(40):
            for k in calls if r % 2 else list(calls)[::-1]:
                start = time.perf_counter()
                for _ in range(20):
                    calls[k]()
                best[k] = min(best[k], (time.perf_counter() - start) / 20)
    return best


def part_calls(args: argparse.Namespace) -> list[str]:
    from phyll_core.engine import fused_numba

    rows = []
    for dtype in ("float32", "float64"):
        best = _best_calls(dtype)
        ratio = best["numpy"] / best["numba"]
        print(f"calls {dtype}: numpy {1e6 * best['numpy']:.1f} us, numba"
              f" {1e6 * best['numba']:.1f} us per train call ({ratio:.2f}x)")
        rows.append(f"| {dtype} | {1e6 * best['numpy']:.1f} us | {1e6 * best['numba']:.1f} us |"
                    f" **{ratio:.2f}x** | {1e6 * best['numba'] / 10:.1f} us |")
    gemm = "NumPy's own `sgemm` (ctypes)" if fused_numba.numpy_sgemm() else "`np.dot` (SciPy)"
    save("calls", {"rows": rows})
    return [
        "One `LocalBlock.train` of the published shapes (412 rows of 41 columns, width 20, 10"
        " inner steps): NumPy kernel and `Adam.update` per step against one"
        f" `fused_numba.train_steps` call (float32 products through {gemm}, float64 through"
        f" numba's `np.dot`), interleaved, best of 40 rounds of 20 calls, one BLAS thread; load"
        f" {load()}.",
        "",
        "| dtype | NumPy kernel + Adam | numba | speed-up | numba per inner step |",
        "| --- | --- | --- | --- | --- |",
        *rows,
    ]


def part_products(args: argparse.Namespace) -> list[str]:
    """The two matrix products of an inner step on the published shapes, per library."""
    import numba

    from phyll_core.engine import fused_numba

    @numba.njit
    def through_gemm(gemm: Any, x: np.ndarray, y: np.ndarray, out: np.ndarray, n: int) -> None:
        one, zero = x.dtype.type(1.0), x.dtype.type(0.0)
        m, k = x.shape
        for _ in range(n):
            gemm(101, 111, 111, m, y.shape[1], k, one, x.ctypes.data, k, y.ctypes.data,
                 y.shape[1], zero, out.ctypes.data, y.shape[1])

    @numba.njit
    def through_dot(x: np.ndarray, y: np.ndarray, out: np.ndarray, n: int) -> None:
        for _ in range(n):
            np.dot(x, y, out)

    def through_numpy(x: np.ndarray, y: np.ndarray, out: np.ndarray, n: int) -> None:
        for _ in range(n):
            np.dot(x, y, out=out)

    rows = []
    gemm = fused_numba.numpy_sgemm()
    for dtype in ("float32", "float64"):
        rng = np.random.default_rng(0)
        z = rng.standard_normal((412, 41)).astype(dtype)
        zt, w = np.ascontiguousarray(z.T), rng.standard_normal((20, 41)).astype(dtype)
        a, grad = np.empty((20, 412), dtype), np.empty((20, 41), dtype)
        for name, x, y, out in (("forward W z^T", w, zt, a), ("backward (dL/da) z", a, z, grad)):
            ways = {"NumPy np.dot": lambda x=x, y=y, out=out, n=1: through_numpy(x, y, out, n),
                    "numba np.dot (SciPy's BLAS)": lambda x=x, y=y, out=out, n=1:
                    through_dot(x, y, out, n)}
            if gemm is not None and dtype == "float32":
                ways["numba, NumPy's sgemm"] = (lambda x=x, y=y, out=out, n=1:
                                                through_gemm(gemm, x, y, out, n))
            for call in ways.values():
                call(n=1)
            best = dict.fromkeys(ways, float("inf"))
            with blas_limit():
                for _ in range(20):
                    for k, call in ways.items():
                        start = time.perf_counter()
                        call(n=100)
                        best[k] = min(best[k], (time.perf_counter() - start) / 100)
            print(f"products {dtype} {name}: " + ", ".join(f"{k} {1e6 * v:.2f} us"
                                                           for k, v in best.items()))
            rows += [f"| {dtype} | {name} | {k} | {1e6 * v:.2f} us |" for k, v in best.items()]
    versions = {lib.get("filepath", "").split("/")[-2]: lib.get("version")
                for lib in __import__("threadpoolctl").threadpool_info()}
    save("products", {"rows": rows, "blas": versions})
    return [
        "The two matrix products of one inner step on the published shapes (`W` 20 x 41,"
        " `z` 412 x 41), one BLAS thread, best of 20 rounds of 100 (each way called 100"
        " times inside one compiled loop, or from Python for NumPy); BLAS libraries loaded: "
        + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "",
        "| dtype | product | through | per product |",
        "| --- | --- | --- | --- |",
        *rows,
    ]


FIRST_CALL = """
import sys, time
t0 = time.perf_counter()
import numpy as np
from phyll_core.engine import fused_numba
from phyll_core.engine.optim import Adam
t1 = time.perf_counter()
out = []
for dtype in ("float32", "float64"):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((412, 41)).astype(dtype)
    w = rng.standard_normal((20, 41)).astype(dtype)
    opt = Adam()
    opt.init({"W": w})
    t = time.perf_counter()
    fused_numba.train_steps(w, z, 206, np.abs(w[:, 0]), 4.0, opt, 10)
    out.append(time.perf_counter() - t)
print(t1 - t0, *out)
"""


def _wall(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, str]:
    start = time.perf_counter()
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, res.stdout


def part_startup(args: argparse.Namespace) -> list[str]:
    base = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            cold = {**base, "NUMBA_CACHE_DIR": os.path.join(tmp, f"cold{r}")}
            warm = {**base, "NUMBA_CACHE_DIR": os.path.join(tmp, "warm")}
            for label, env in (("cold", cold), ("warm", warm)):
                _, out = _wall([sys.executable, "-c", FIRST_CALL], env, tmp)
                imp, f32, f64 = map(float, out.split())
                figures.setdefault(f"import {label}", []).append(imp)
                figures.setdefault(f"first call float32 {label}", []).append(f32)
                figures.setdefault(f"first call float64 {label}", []).append(f64)
            train = [sys.executable, "-m", "phyll_core", "train", "--no-save", "-q"]
            fresh = {**base, "NUMBA_CACHE_DIR": os.path.join(tmp, f"train-cold{r}")}
            for label, kernel, env in (("numpy", "numpy", base), ("numba, cold cache", "numba",
                                       fresh), ("numba, warm cache", "numba", fresh)):
                wall, _ = _wall([*train, "--kernel", kernel], env, tmp)
                figures.setdefault(f"phyll train --kernel {label}", []).append(wall)
    best = {k: min(v) for k, v in figures.items()}
    for k, v in best.items():
        print(f"startup {k}: {v:.3f} s (best of {args.repeats})")
    save("startup", figures)
    rows = [f"| {k} | {v:.2f} s |" for k, v in best.items()]
    return [
        f"Fresh processes, best of {args.repeats} (wall seconds; load {load()}). \"import\":"
        " `import phyll_core.engine.fused_numba` (numba, llvmlite); \"first call\": the first"
        " `train_steps` of each dtype on the published shapes, with an empty numba cache"
        " (`NUMBA_CACHE_DIR` a new folder: compilation) and with the cache filled (loading);"
        " `phyll train --no-save -q` is the bare command (circles through random-features,"
        " 60 epochs, float64), the cold run first on an empty cache.",
        "",
        "| what | seconds |",
        "| --- | --- |",
        *rows,
    ]


def part_accuracy(args: argparse.Namespace) -> list[str]:
    cases = [("vowels", f"--dataset vowels {PUBLISHED_CLI}", {"dataset": vowels(), **PUBLISHED},
              args.seeds), ("digits", "--dataset digits", {"dataset": "digits"},
                            args.digits_seeds)]
    rows, out = [], {}
    with blas_limit():
        for name, cli, config, seeds in cases:
            for dtype in ("float32", "float64"):
                acc: dict[str, list[float]] = {"numpy": [], "numba": []}
                for seed in range(seeds):
                    for kernel in acc:
                        run = Run(TrainConfig(seed=seed, dtype=dtype, kernel=kernel, **config))
                        run.train()
                        acc[kernel].append(run.summary()["test_accuracy"])
                same = sum(a == b for a, b in zip(acc["numpy"], acc["numba"], strict=True))
                out[f"{name}/{dtype}"] = acc
                cells = [f"{statistics.mean(v):.4f} ({', '.join(f'{a:.4f}' for a in v)})"
                         for v in acc.values()]
                print(f"accuracy {name} {dtype}: numpy {cells[0]}; numba {cells[1]}")
                rows.append(f"| {name} | `phyll train {cli} --dtype {dtype} --seed S` | {seeds} |"
                            f" {cells[0]} | {cells[1]} | {same} of {seeds} |")
    save("accuracy", out)
    return [
        "Test accuracy (goodness prediction, mean then each seed from 0) with `--kernel numpy`"
        " and `--kernel numba`; the trajectories differ only by rounding (float64: the weights"
        " agree to ~1e-9 after a few epochs, tests/engine/test_fused_numba.py), so a different"
        " seed result means a near tie flipped.",
        "",
        "| task | command | seeds | numpy | numba | seeds with equal accuracy |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
    ]


PARTS = {"calls": part_calls, "products": part_products, "startup": part_startup,
         "accuracy": part_accuracy}


def save(part: str, data: dict[str, Any]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{part}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=list(PARTS), default=list(PARTS))
    parser.add_argument("--seeds", type=int, default=5, help="vowels seeds")
    parser.add_argument("--digits-seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="startup: fresh processes each")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    body: list[str] = []
    for part in args.parts:
        body += [f"**{part}**", "", *PARTS[part](args), ""]
    write_section("engine-numba", "Engine inner steps compiled with numba (`--kernel numba`)",
                  "\n".join(body))


if __name__ == "__main__":
    main()
