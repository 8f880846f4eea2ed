"""Execute the runs of a sweep, in this process or on Dask distributed, resuming from a store.

The driver loads each dataset once, makes each split once and (on Dask) scatters the splits to
every worker, so workers never read the user's files. Each finished run is saved at once
(atomically), so a killed driver loses only the runs in flight; the next invocation skips every
run already finished. Dask reschedules the runs of a worker that dies; a run that Dask gives
up on (``KilledWorker``: its workers died as often as ``distributed.scheduler.allowed-failures``
allows) may only have shared a worker with the culprit, so it is tried again alone after the
others, and recorded as failed only if it kills its worker again. On Dask the default is
an embedded ``LocalCluster`` with one single-threaded worker process per core, BLAS pinned to
one thread; ``scheduler`` connects to an existing cluster instead.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from phyll_core.datasets import Split, load, split
from phyll_core.errors import PhyllError
from phyll_core.sweep.grid import RunSpec
from phyll_core.sweep.run import execute_run, failed_record
from phyll_core.sweep.store import ResultStore

#: environment of LocalCluster workers: one BLAS / OpenMP thread each
WORKER_ENV = {
    name: "1"
    for name in (
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "BLIS_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "PHYLL_BLAS_THREADS",
    )
}
#: how often a run whose task failed for a reason other than the run itself (lost data, a
#: cancelled task) is resubmitted before it is recorded as failed
RESUBMITS = 2
INSTALL_HINT = (
    "running on Dask needs the sweep extra: pip install 'phyll-core[sweep]'"
    " (or run in this process with --workers 0)"
)

OnRecord = Callable[[dict[str, Any]], None]


@attrs.define
class Outcome:
    """What a call to :func:`run_specs` did. ``records`` holds the record of every spec (those
    finished before included), in the order of the specs."""

    records: list[dict[str, Any]]
    ran: int
    skipped: int
    startup_seconds: float = 0.0
    wall_seconds: float = 0.0
    dashboard: str | None = None

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") != "ok"]


def run_specs(
    specs: Sequence[RunSpec],
    store: ResultStore | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    on_start: Callable[[int, int, str | None], None] | None = None,
    on_record: OnRecord | None = None,
) -> Outcome:
    """Run every spec not yet finished in ``store``. ``workers`` 0 (without ``scheduler``)
    runs them one by one in this process; otherwise on Dask: ``scheduler`` (``tcp://HOST:PORT``)
    or a LocalCluster of ``workers`` processes (default: one per core). ``on_start(pending,
    skipped, dashboard)`` is called once the workers are ready, ``on_record`` after each run."""
    start = time.perf_counter()
    done = store.load() if store is not None else {}
    finished = {s.key: done[s.key] for s in specs if done.get(s.key, {}).get("status") == "ok"}
    pending = [s for s in specs if s.key not in finished]
    results: dict[str, dict[str, Any]] = dict(finished)

    def record(rec: dict[str, Any]) -> None:
        results[rec["key"]] = rec
        if store is not None:
            store.save(rec)
        if on_record:
            on_record(rec)

    splits, broken = _load_splits(pending)
    runnable = []
    for spec in pending:
        reason = spec.error or broken.get(spec.data_key)
        if reason is None:
            runnable.append(spec)
    outcome = Outcome([], ran=len(pending), skipped=len(finished))
    if scheduler is None and workers == 0:
        if on_start:
            on_start(len(pending), len(finished), None)
        outcome.startup_seconds = time.perf_counter() - start
        _fail_unrunnable(pending, broken, record)
        for spec in runnable:
            record(execute_run(spec.to_json(), splits[spec.data_key]))
    else:
        if runnable:
            _run_on_dask(runnable, splits, workers, scheduler, outcome, start, on_start, record)
        elif on_start:
            on_start(len(pending), len(finished), None)
        _fail_unrunnable(pending, broken, record)
    outcome.records = [results[s.key] for s in specs]
    outcome.wall_seconds = time.perf_counter() - start
    return outcome


def _fail_unrunnable(specs: Sequence[RunSpec], broken: dict[str, str], record: OnRecord) -> None:
    for spec in specs:
        reason = spec.error or broken.get(spec.data_key)
        if reason is not None:
            record(failed_record(spec.to_json(), reason))


def _load_splits(specs: Sequence[RunSpec]) -> tuple[dict[str, Split], dict[str, str]]:
    """Each dataset loaded once and each split made once; errors by data key."""
    splits: dict[str, Split] = {}
    broken: dict[str, str] = {}
    datasets: dict[str, Any] = {}
    for spec in specs:
        if spec.error is not None or spec.data_key in splits or spec.data_key in broken:
            continue
        s = spec.settings
        source = json.dumps([s["dataset"], s.get("dataset_options", {})], sort_keys=True)
        try:
            if source not in datasets:
                datasets[source] = load(s["dataset"], **s.get("dataset_options", {}))
            splits[spec.data_key] = split(datasets[source], s["seed"], s["test_fraction"])
        except (PhyllError, OSError, ValueError) as exc:
            broken[spec.data_key] = f"{type(exc).__name__}: {exc}"
    return splits, broken


def _run_on_dask(
    specs: Sequence[RunSpec],
    splits: dict[str, Split],
    workers: int | None,
    scheduler: str | None,
    outcome: Outcome,
    start: float,
    on_start: Callable[[int, int, str | None], None] | None,
    record: OnRecord,
) -> None:
    try:
        from distributed import Client, KilledWorker, as_completed
    except ImportError:
        raise PhyllError(INSTALL_HINT) from None
    cluster, client = _connect(Client, workers, scheduler)
    try:
        outcome.dashboard = _dashboard(client) if scheduler or _have_bokeh() else None
        client.run(warm_up)
        needed = {s.data_key for s in specs}
        data = {k: client.scatter(splits[k], broadcast=True, hash=False) for k in sorted(needed)}
        outcome.startup_seconds = time.perf_counter() - start
        if on_start:
            on_start(outcome.ran, outcome.skipped, outcome.dashboard)
        attempts: dict[str, int] = {}
        by_future: dict[Any, RunSpec] = {}

        def submit(spec: RunSpec) -> Any:
            attempts[spec.key] = attempts.get(spec.key, 0) + 1
            future = client.submit(
                execute_run,
                spec.to_json(),
                data[spec.data_key],
                key=f"phyll-run-{spec.key}-{attempts[spec.key]}",
                pure=False,
            )
            by_future[future] = spec
            return future

        def settle(future: Any, isolated: bool) -> RunSpec | None:
            """Record the future's run, resubmit it, or return it as a suspect to try alone."""
            spec = by_future.pop(future)
            exc: BaseException | None = None
            if future.status == "finished":
                try:  # the result lives on a worker until gathered; it can die before that
                    result = future.result()
                except Exception as lost:
                    exc = lost
                else:
                    record(result)
                    return None
            elif future.status == "error":
                exc = future.exception()
            if isinstance(exc, KilledWorker) and not isolated:
                return spec  # maybe only a bystander of a run that killed the worker
            if not isinstance(exc, KilledWorker) and attempts[spec.key] <= RESUBMITS:
                if data[spec.data_key].status != "finished":  # the scattered split was lost
                    data[spec.data_key] = client.scatter(
                        splits[spec.data_key], broadcast=True, hash=False
                    )
                queue.add(submit(spec))
                return None
            reason = f"{type(exc).__name__}: {exc}" if exc else f"task {future.status}"
            record(failed_record(spec.to_json(), reason))
            return None

        queue = as_completed([submit(s) for s in specs])
        suspects = [spec for future in queue if (spec := settle(future, False)) is not None]
        # a run whose worker died while it ran (as often as Dask allows) is tried again alone,
        # so that only a run that kills its worker by itself is recorded as failed
        for spec in suspects:
            if data[spec.data_key].status != "finished":
                data[spec.data_key] = client.scatter(
                    splits[spec.data_key], broadcast=True, hash=False
                )
            queue = as_completed([submit(spec)])
            for future in queue:
                settle(future, True)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(client_class: Any, workers: int | None, scheduler: str | None) -> tuple[Any, Any]:
    if scheduler is not None:
        try:
            return None, client_class(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise PhyllError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    import dask
    from distributed import LocalCluster

    count = workers or cores()
    # no MALLOC_TRIM_THRESHOLD_ for our workers (see phyll_core.sweep.run.relax_malloc_trim)
    unset = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    with dask.config.set(unset):
        cluster = _local_cluster(LocalCluster, count)
    return cluster, client_class(cluster)


def cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _local_cluster(cluster_class: Any, count: int) -> Any:
    return cluster_class(
        n_workers=count,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # a free port on 127.0.0.1 (the scheduler serves HTTP routes even without bokeh)
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": _have_bokeh()},
        env=dict(WORKER_ENV),
        silence_logs=logging.CRITICAL,  # the sweep reports lost workers and failed runs itself
    )


def _have_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def _dashboard(client: Any) -> str | None:
    """The dashboard's address when the scheduler serves one (it needs bokeh)."""
    try:
        if "dashboard" not in client.scheduler_info().get("services", {}):
            return None
        link = client.dashboard_link
    except Exception:  # an older scheduler without the services entry
        return None
    return str(link) if link else None


def warm_up() -> None:
    """A one-epoch run on a tiny synthetic split, on a worker before the first real run, so
    the lazy imports of the engine (scikit-learn, SciPy) do not skew the first runs' timings
    and the ETA."""
    import numpy as np

    from phyll_core.datasets import Dataset
    from phyll_core.sweep.grid import make_spec

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 4))
    data = split(Dataset("warm-up", x, (x[:, 0] > 0).astype(np.int64), ("a", "b")), 0, 0.25)
    execute_run(make_spec({"system": ["identity"], "epochs": 1, "width": 8}).to_json(), data)
