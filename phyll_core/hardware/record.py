"""Recording measured (input, output) pairs from any system, resumably (``phyll record``).

The inputs are ``samples`` rows drawn uniformly from the system's domain with ``seed`` (so the
same command always measures the same inputs). They are measured in chunks of ``batch`` rows;
after every chunk the rows are appended to a progress file ``OUT.progress.jsonl`` (a header
record naming the system, parameters, seed and sample count, then one record per row). If the
run is interrupted, running the same command again resumes after the last saved chunk (a changed
system, parameter, seed or sample count is refused; ``restart`` starts over). At the end the
pairs are written atomically (see :mod:`phyll_core.hardware.pairs` for the NPZ and CSV layouts)
and the progress file is removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from phyll_core.hardware.errors import RecordError
from phyll_core.hardware.log import JsonlAppender, read_jsonl
from phyll_core.hardware.pairs import pair_paths, save_pairs
from phyll_core.system import PhysicalSystem


@attrs.frozen
class RecordResult:
    """Outcome of :func:`record_pairs`: files written, rows, rows restored from a previous
    interrupted run, and the seconds this run spent measuring."""

    system: str
    samples: int
    resumed: int
    seconds: float
    files: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def progress_path(out: str | Path) -> Path:
    """The progress file of output ``out``: ``OUT.progress.jsonl`` beside it."""
    p = Path(out)
    return p.with_name(p.name + ".progress.jsonl")


def _jsonable_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if isinstance(v, str | int | float | bool | None)}


def _header(name: str, system: PhysicalSystem, seed: int, samples: int) -> dict[str, Any]:
    return {
        "type": "header",
        "system": name,
        "params": _jsonable_params(system.params),
        "seed": seed,
        "samples": samples,
        "input_dim": system.input_dim,
        "output_dim": system.output_dim,
    }


def _restore(
    path: Path, header: dict[str, Any], inputs: np.ndarray, outputs: np.ndarray
) -> int:
    """Fill ``outputs`` from a progress file; return how many leading rows are done."""
    records = read_jsonl(path)
    if not records or records[0].get("type") != "header":
        raise RecordError(f"{path} is not a progress file of phyll record; delete it or --restart")
    saved = records[0]
    for key in ("system", "params", "seed", "samples", "input_dim", "output_dim"):
        if saved.get(key) != header[key]:
            raise RecordError(
                f"{path} belongs to another run ({key}: {saved.get(key)!r} there,"
                f" {header[key]!r} now); use --restart to discard it"
            )
    done = 0
    for record in records[1:]:
        i = record.get("i")
        if record.get("type") != "row" or i != done:
            raise RecordError(f"{path}: unexpected record after row {done}; use --restart")
        if not np.array_equal(np.asarray(record["input"], dtype=np.float64), inputs[i]):
            raise RecordError(f"{path}: row {i} was measured for a different input; use --restart")
        outputs[i] = record["output"]
        done += 1
    return done


def record_pairs(
    system: PhysicalSystem,
    name: str,
    samples: int,
    out: str | Path,
    seed: int = 0,
    batch: int = 64,
    restart: bool = False,
    force: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> RecordResult:
    """Measure ``samples`` random inputs of ``system`` (registered as ``name``) and write the
    pairs to ``out`` (``.npz`` or ``.csv``), resumably (see the module docstring).
    ``on_progress(done, total)`` is called after every saved chunk. Raises RecordError when
    the output exists (without ``force``) or the progress file belongs to another run."""
    if samples < 1 or batch < 1:
        raise RecordError(f"samples and batch must be >= 1, got {samples} and {batch}")
    files = pair_paths(out)
    progress = progress_path(out)
    if restart:
        progress.unlink(missing_ok=True)
    if not progress.exists() and not force:
        existing = [str(p) for p in files if p.exists()]
        if existing:
            raise RecordError(f"{', '.join(existing)} already exists; use --force to overwrite")
    inputs = system.domain.sample(np.random.default_rng(seed), (samples, system.input_dim))
    outputs = np.zeros((samples, system.output_dim))
    header = _header(name, system, seed, samples)
    done = _restore(progress, header, inputs, outputs) if progress.exists() else 0
    resumed = done
    if on_progress is not None:
        on_progress(done, samples)
    started = time.perf_counter()
    log = JsonlAppender(progress).open()
    try:
        if log.path.stat().st_size == 0:
            log.append(header)
        while done < samples:
            stop = min(done + batch, samples)
            y = system.forward(inputs[done:stop])
            outputs[done:stop] = y
            for i in range(done, stop):
                row = {"type": "row", "i": i, "input": inputs[i].tolist()}
                log.append({**row, "output": y[i - done].tolist()})
            done = stop
            if on_progress is not None:
                on_progress(done, samples)
    finally:
        log.close()
    seconds = time.perf_counter() - started
    meta = {k: v for k, v in header.items() if k != "type"}
    meta["recorded"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    written = save_pairs(out, inputs, outputs, meta)
    progress.unlink(missing_ok=True)
    return RecordResult(name, samples, resumed, seconds, tuple(str(p) for p in written))


def record(
    name: str,
    params: Mapping[str, Any] | Iterable[str] | None,
    samples: int,
    out: str | Path,
    **options: Any,
) -> RecordResult:
    """Build the registered system ``name`` with ``params`` and run :func:`record_pairs`,
    closing an instrument afterwards."""
    from phyll_core.factory import build_system
    from phyll_core.hardware.instrument import InstrumentSystem

    system = build_system(name, params)
    try:
        return record_pairs(system, name, samples, out, **options)
    finally:
        if isinstance(system, InstrumentSystem):
            system.close()
