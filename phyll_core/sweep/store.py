"""The result store of a sweep: ``OUT/runs/KEY.json`` per finished run (written atomically),
``OUT/results.csv`` (and ``results.parquet`` when pyarrow is installed) with one row per run.

A record whose ``status`` is ``"ok"`` is finished: a rerun skips it. A failed record is kept
(with its error) until a rerun of the same run replaces it.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from phyll_core.errors import PhyllError
from phyll_core.io import atomic_open, atomic_write_text
from phyll_core.sweep.columns import flatten

#: leading columns of the table (configuration columns follow, then the per-method accuracies)
STATUS_COLUMNS = ("key", "status", "error")
COST_COLUMNS = ("physical_queries", "digital_flops", "seconds")


class ResultStore:
    """The files of one sweep folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.runs = self.folder / "runs"

    def path(self, key: str) -> Path:
        return self.runs / f"{key}.json"

    def save(self, record: dict[str, Any]) -> None:
        """Write one run's record atomically (``runs/KEY.json``)."""
        text = json.dumps(record, indent=1, default=_default) + "\n"
        atomic_write_text(self.path(record["key"]), text)

    def load(self) -> dict[str, dict[str, Any]]:
        """Every readable record, by key (unreadable files, e.g. from another tool, are skipped)."""
        out: dict[str, dict[str, Any]] = {}
        if not self.runs.is_dir():
            return out
        for path in sorted(self.runs.glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and record.get("key") == path.stem:
                out[path.stem] = record
        return out

    def finished(self) -> set[str]:
        """Keys of the runs that finished successfully."""
        return {k for k, r in self.load().items() if r.get("status") == "ok"}

    def write_table(self, records: Sequence[dict[str, Any]]) -> list[Path]:
        """``results.csv`` (and ``results.parquet`` with pyarrow): one row per record."""
        rows = table_rows(records)
        columns = list(dict.fromkeys(k for r in rows for k in r))
        csv_path = self.folder / "results.csv"
        with atomic_open(csv_path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        written = [csv_path]
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            return written
        table = pa.Table.from_pylist([{c: _cell(r.get(c)) for c in columns} for r in rows])
        parquet = self.folder / "results.parquet"
        with atomic_open(parquet, "wb") as fh:
            pq.write_table(table, fh)
        written.append(parquet)
        return written


def _cell(value: Any) -> Any:
    """Parquet columns must have one type: configuration values of mixed types become text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def _default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def table_rows(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table: status, every configuration value, accuracies per prediction method
    (``goodness_test_accuracy``, ...), physical queries, digital FLOPs, seconds, versions."""
    rows = []
    for record in records:
        row: dict[str, Any] = {c: record.get(c) for c in STATUS_COLUMNS}
        row.update(flatten(record["settings"]))
        if record.get("drift"):
            row.update(drift=record["drift"], drift_at=record.get("drift_at"))
        for method, values in (record.get("accuracy_by_method") or {}).items():
            for name, value in values.items():
                row[f"{method}_{name}"] = value
        for name in ("accuracy_before_drift", "accuracy_after_drift"):
            if name in record:
                row[name] = record[name]
        row.update({c: record.get(c) for c in COST_COLUMNS})
        row["versions"] = " ".join(f"{k}=={v}" for k, v in (record.get("versions") or {}).items())
        rows.append(row)
    return rows


def test_accuracy(record: dict[str, Any], method: str) -> float:
    """The record's test accuracy with ``method`` (NaN when it has none)."""
    values = (record.get("accuracy_by_method") or {}).get(method)
    return float(values["test_accuracy"]) if values else math.nan


def require_folder(out: Path | None) -> Path:
    if out is None:
        raise PhyllError("give --out DIR (or `out = \"DIR\"` in the sweep file)")
    return out
