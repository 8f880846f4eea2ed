"""One run of a sweep, as a worker executes it: a pure function of the run's settings and its
data split, returning a JSON-ready record. It never raises for a run's own failure (bad
parameter, non-finite loss, an exception in a system): the record then has ``status``
``"failed"`` and the error, and the sweep goes on."""

from __future__ import annotations

import math
import os
import socket
import time
from typing import Any

from phyll_core.datasets import Split

#: record format version (bump when the keys change)
FORMAT = 1
#: glibc's trim threshold while a worker trains (see :func:`relax_malloc_trim`)
TRIM_THRESHOLD = 256 * 1024 * 1024
_trim_relaxed = False


def relax_malloc_trim() -> None:
    """Undo Dask's ``MALLOC_TRIM_THRESHOLD_=65536`` in this process (once).

    Dask's nanny starts workers with that setting, so glibc returns memory to the system after
    almost every freed temporary array and the next allocation faults the pages in again:
    measured here, the same 8-epoch digits run took 4.8-7.3 s on such a worker against 1.1-2.7 s
    after ``mallopt(M_TRIM_THRESHOLD, 256 MiB)`` (and the same as in one process). Only done
    where the variable is set, i.e. on Dask workers, and only with glibc."""
    global _trim_relaxed
    if _trim_relaxed or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    _trim_relaxed = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, TRIM_THRESHOLD)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to undo
        pass


def execute_run(spec_json: dict[str, Any], data: Split) -> dict[str, Any]:
    """Train the run described by ``spec_json`` (:meth:`RunSpec.to_json`) on ``data`` with one
    BLAS thread and return its record (see :func:`record_of`)."""
    from threadpoolctl import threadpool_limits

    from phyll_core.sweep.grid import RunSpec

    relax_malloc_trim()
    spec = RunSpec.from_json(spec_json)
    started = time.time()
    try:
        if spec.error is not None:
            raise ValueError(spec.error)
        with threadpool_limits(limits=1, user_api="blas"):
            result = _train(spec, data)
    except Exception as exc:
        return failed_record(spec_json, f"{type(exc).__name__}: {exc}", started)
    return {**base_record(spec_json, started), "status": "ok", "error": None, **result}


def _train(spec: Any, data: Split) -> dict[str, Any]:
    import numpy as np

    from phyll_core.engine.trainer import Run

    config = spec.config()
    run = Run(config, data=data)
    extra: dict[str, Any] = {}
    if spec.drift:
        at = spec.drift_at if spec.drift_at is not None else config.epochs // 2
        run.train(at)
        extra["accuracy_before_drift"] = run.accuracy(run.method)[1]
        rng = np.random.default_rng([config.seed, 3])
        for system in run.unique_systems():
            system.perturb(spec.drift, rng)
        extra["accuracy_after_drift"] = run.accuracy(run.method)[1]
    run.train()
    if run.interrupted:
        raise KeyboardInterrupt
    last = run.history[-1].losses if run.history else {}
    bad = [k for k, v in last.items() if not math.isfinite(v)]
    if bad:
        raise FloatingPointError(f"non-finite training loss ({', '.join(bad)}) at the last epoch")
    summary = run.summary()
    accuracy = summary["accuracy_by_method"]
    for method, values in accuracy.items():
        if not all(math.isfinite(v) for v in values.values()):
            raise FloatingPointError(f"non-finite {method} accuracy")
    return {
        "predict": summary["predict"],
        "accuracy_by_method": accuracy,
        "epochs_done": summary["epochs"],
        "physical_queries": int(summary["physical_queries"]),
        "control_queries": int(summary.get("control_queries", 0)),
        "digital_flops": float(summary["digital_flops"]),
        "seconds": float(summary["seconds"]),
        "curve": [[m.epoch, m.test_accuracy] for m in run.history if m.test_accuracy is not None],
        **extra,
    }


def base_record(spec_json: dict[str, Any], started: float) -> dict[str, Any]:
    """The keys every record has: key, settings, versions, where and when it ran."""
    from phyll_core.sweep.grid import RunSpec

    spec = RunSpec.from_json(spec_json)
    return {
        "format": FORMAT,
        "key": spec_json.get("key", spec.key),
        **spec_json,
        "versions": versions(spec.settings),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": started,
        "finished": time.time(),
    }


def failed_record(
    spec_json: dict[str, Any], error: str, started: float | None = None
) -> dict[str, Any]:
    """The record of a run that failed with ``error`` (one line)."""
    now = time.time()
    line = " ".join(error.split()) or "unknown error"
    return {**base_record(spec_json, started or now), "status": "failed", "error": line}


def versions(settings: dict[str, Any]) -> dict[str, str]:
    """Versions of phyll-core and of the plugins that provide the run's systems and rule."""
    from phyll_core.plugins import CORE, core_version, get_host

    out = {CORE: core_version()}
    host = get_host()
    entries: list[Any] = []
    for name in settings.get("system", []):
        if name in host.systems:
            entries.append(host.systems.get(name))
    if settings.get("rule") in host.rules:
        entries.append(host.rules.get(settings["rule"]))
    for entry in entries:
        out.setdefault(entry.plugin, entry.version)
    return out
