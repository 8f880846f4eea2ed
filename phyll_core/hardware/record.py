"""Recording measured (input, output) pairs from any system, resumably (``phyll record``).

The inputs are ``samples`` rows drawn uniformly from the system's domain with ``seed`` (so the
same command always measures the same inputs). They are measured in chunks of ``batch`` rows;
after every chunk the rows are appended to a progress file ``OUT.progress.jsonl`` (a header
record naming the system, parameters, seed and sample count, then one record per row). If the
run is interrupted, running the same command again resumes after the last saved row; a changed
system, seed, sample count or parameter is refused, except the runtime-only options
(:data:`~phyll_core.hardware.options.RUNTIME_ONLY_PARAMS`: ``timeout``, ``retries``, ...);
``restart`` starts over. At the end the pairs are written atomically (see
:mod:`phyll_core.hardware.pairs` for the NPZ and CSV layouts) and the progress file is removed.

What survives which fault:

- nothing is written before the first row is measured, so a failed connect or a refused device
  lock leaves no progress file behind (a progress file holding only a header is ignored);
- Ctrl-C, SIGTERM, ``kill -9``, a crash: every saved chunk is kept; with a measurement log
  (``-p log=PATH``) the rows measured after the last saved chunk are taken from the log on
  resume instead of being measured again, so the log holds every input once;
- an instrument outage (:class:`~phyll_core.hardware.errors.DeviceFailedError`): the rows of
  the failed chunk measured before the outage are saved too, then the error is raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from phyll_core.errors import DatasetError
from phyll_core.hardware.errors import DeviceFailedError, RecordError
from phyll_core.hardware.log import JsonlAppender, read_jsonl
from phyll_core.hardware.options import RUNTIME_ONLY_PARAMS
from phyll_core.hardware.pairs import pair_paths, save_pairs
from phyll_core.system import PhysicalSystem


@attrs.frozen
class RecordResult:
    """Outcome of :func:`record_pairs`: files written, rows, rows restored from a previous
    interrupted run (``recovered`` of them from the measurement log), and the seconds this run
    spent measuring."""

    system: str
    samples: int
    resumed: int
    seconds: float
    files: tuple[str, ...]
    recovered: int = 0

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def progress_path(out: str | Path) -> Path:
    """The progress file of output ``out``: ``OUT.progress.jsonl`` beside it."""
    p = Path(out)
    return p.with_name(p.name + ".progress.jsonl")


def saved_rows(out: str | Path) -> int:
    """How many rows the progress file of output ``out`` holds (0 without one)."""
    path = progress_path(out)
    if not path.is_file():
        return 0
    try:
        return sum(1 for r in read_jsonl(path) if r.get("type") == "row")
    except DatasetError:
        return 0


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


def _measured_params(params: Any) -> dict[str, Any]:
    """The parameters that can change a measured value (all but the runtime-only ones)."""
    if not isinstance(params, Mapping):
        return {}
    return {k: v for k, v in params.items() if k not in RUNTIME_ONLY_PARAMS}


def _restore(
    path: Path, header: dict[str, Any], inputs: np.ndarray, outputs: np.ndarray
) -> int:
    """Fill ``outputs`` from a progress file; return how many leading rows are done. A file
    without rows (a run that never measured anything) is removed."""
    records = read_jsonl(path)
    if len(records) <= 1 and all(r.get("type") == "header" for r in records):
        path.unlink(missing_ok=True)
        return 0
    if records[0].get("type") != "header":
        raise RecordError(f"{path} is not a progress file of phyll record; delete it or --restart")
    saved = records[0]
    for key in ("system", "seed", "samples", "input_dim", "output_dim"):
        if saved.get(key) != header[key]:
            raise RecordError(
                f"{path} belongs to another run ({key}: {saved.get(key)!r} there,"
                f" {header[key]!r} now); use --restart to discard it"
            )
    old, new = _measured_params(saved.get("params")), _measured_params(header["params"])
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            raise RecordError(
                f"{path} belongs to another run (parameter {key}: {old.get(key)!r} there,"
                f" {new.get(key)!r} now; only {', '.join(sorted(RUNTIME_ONLY_PARAMS))} may"
                " change on resume); use --restart to discard it"
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
    saver = _ProgressFile(progress, header)
    started = time.perf_counter()
    try:
        recovered = _recover_from_log(system, header, inputs, outputs, done)
        if recovered:
            saver.save(inputs, outputs, done, done + recovered)
            done += recovered
        resumed = done
        if on_progress is not None:
            on_progress(done, samples)
        while done < samples:
            stop = min(done + batch, samples)
            try:
                y = system.forward(inputs[done:stop])
            except DeviceFailedError as exc:  # keep the rows measured before the failure
                kept = int(exc.completed) if exc.partial_outputs is not None else 0
                if kept > 0:
                    outputs[done : done + kept] = exc.partial_outputs[:kept]
                    saver.save(inputs, outputs, done, done + kept)
                    done += kept
                    if on_progress is not None:
                        on_progress(done, samples)
                raise
            outputs[done:stop] = y
            saver.save(inputs, outputs, done, stop)
            done = stop
            if on_progress is not None:
                on_progress(done, samples)
    finally:
        saver.close()
    seconds = time.perf_counter() - started
    meta = {k: v for k, v in header.items() if k != "type"}
    meta["recorded"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    written = save_pairs(out, inputs, outputs, meta)
    progress.unlink(missing_ok=True)
    return RecordResult(
        name, samples, resumed, seconds, tuple(str(p) for p in written), recovered
    )


class _ProgressFile:
    """The progress file, created with the first saved row (never header-only)."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path, self.header = path, header
        self._log: JsonlAppender | None = None

    def save(self, inputs: np.ndarray, outputs: np.ndarray, start: int, stop: int) -> None:
        """Append rows ``start:stop`` (after the header, for a new file)."""
        if self._log is None:
            self._log = JsonlAppender(self.path).open()
            if self.path.stat().st_size == 0:
                self._log.append(self.header)
        for i in range(start, stop):
            row = {"type": "row", "i": i, "input": inputs[i].tolist()}
            self._log.append({**row, "output": outputs[i].tolist()})

    def close(self) -> None:
        if self._log is not None:
            self._log.close()


def _recover_from_log(
    system: PhysicalSystem,
    header: dict[str, Any],
    inputs: np.ndarray,
    outputs: np.ndarray,
    done: int,
) -> int:
    """Take rows ``done, done + 1, ...`` from the system's measurement log (``log_path``) when
    its last session, with the same measured parameters, measured them before being
    interrupted; fill ``outputs`` and return how many. Rows are matched by their exact input."""
    path = getattr(system, "log_path", None)
    if not path or done >= inputs.shape[0] or not Path(path).is_file():
        return 0
    try:
        records = read_jsonl(path)
    except DatasetError:
        return 0  # a damaged log is the user's to inspect; measure again
    starts = [i for i, r in enumerate(records) if r.get("type") == "session"]
    if not starts:
        return 0
    session = records[starts[-1]]
    if _measured_params(session.get("params")) != _measured_params(header["params"]):
        return 0
    j = done
    for record in records[starts[-1] + 1 :]:
        if j >= inputs.shape[0]:
            break
        if record.get("type") != "measurement":
            continue
        try:
            x = np.asarray(record["input"], dtype=np.float64)
            y = np.asarray(record["output"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            break
        if x.shape == inputs[j].shape and np.array_equal(x, inputs[j]):
            if y.shape != outputs[j].shape or not np.isfinite(y).all():
                break
            outputs[j] = y
            j += 1
        elif j > done:
            break  # the measured run of rows ends here
    return j - done


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
