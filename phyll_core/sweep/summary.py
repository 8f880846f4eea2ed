"""Summary of a sweep: test accuracy mean ± std over seeds (population std, as ``phyll
compare``), grouped by every other configuration value that varies, or by ``group_by``."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from phyll_core.errors import PhyllError
from phyll_core.sweep.columns import flatten

SEED = "seed"


def config_columns(records: Sequence[dict[str, Any]]) -> list[str]:
    """Configuration columns whose value differs between records (drift included)."""
    flats = [_flat(r) for r in records]
    names = list(dict.fromkeys(k for f in flats for k in f))
    return [n for n in names if len({json.dumps(f.get(n), default=str) for f in flats}) > 1]


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    flat = flatten(record["settings"])
    if record.get("drift"):
        flat.update(drift=record["drift"], drift_at=record.get("drift_at"))
    return flat


def methods_of(records: Sequence[dict[str, Any]]) -> list[str]:
    """Prediction methods seen in the records (``goodness``, ``readout``, ...), in order."""
    return list(dict.fromkeys(m for r in records for m in (r.get("accuracy_by_method") or {})))


def summarise(
    records: Sequence[dict[str, Any]], group_by: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """One dict per group: the group's values, ``runs``, ``failed``, the seeds, per method
    ``{"mean", "std", "n"}`` of the test accuracy over the finished runs, and mean costs."""
    if not records:
        return []
    known = list(dict.fromkeys(k for r in records for k in _flat(r)))
    if group_by is None:
        group_by = [c for c in config_columns(records) if c != SEED]
    unknown = [g for g in group_by if g not in known]
    if unknown:
        raise PhyllError(f"--group-by: unknown column(s) {unknown} (known: {', '.join(known)})")
    methods = methods_of(records)
    groups: dict[str, list[dict[str, Any]]] = {}
    values: dict[str, dict[str, Any]] = {}
    for record in records:
        flat = _flat(record)
        key = json.dumps([flat.get(g) for g in group_by], default=str)
        groups.setdefault(key, []).append(record)
        values.setdefault(key, {g: flat.get(g) for g in group_by})
    out = []
    for key, members in groups.items():
        ok = [r for r in members if r.get("status") == "ok"]
        row: dict[str, Any] = dict(values[key])
        row.update(
            runs=len(members),
            failed=len(members) - len(ok),
            seeds=sorted({r["settings"]["seed"] for r in ok}),
        )
        for method in methods:
            accs = [
                float(r["accuracy_by_method"][method]["test_accuracy"])
                for r in ok
                if method in (r.get("accuracy_by_method") or {})
            ]
            row[method] = stats(accs)
        for cost in ("physical_queries", "digital_flops", "seconds"):
            row[cost] = float(np.mean([r[cost] for r in ok])) if ok else None
        out.append(row)
    return out


def stats(values: Sequence[float]) -> dict[str, float] | None:
    """``{"mean", "std", "n"}`` (population std), or None without values."""
    if not values:
        return None
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "n": len(values)}


def fmt(stat: dict[str, float] | None) -> str:
    """``0.9650 ± 0.0120`` or ``-``."""
    if stat is None or not math.isfinite(stat["mean"]):
        return "-"
    return f"{stat['mean']:.4f} ± {stat['std']:.4f}"


def table(
    groups: Sequence[dict[str, Any]], group_by: Sequence[str], methods: Sequence[str]
) -> tuple[list[str], list[list[str]]]:
    """Columns and rows of the printed summary."""
    columns = [*group_by, "runs", "failed", *(f"{m} test acc." for m in methods), "seconds"]
    rows = []
    for g in groups:
        seconds = g["seconds"]
        rows.append(
            [
                *(str(g[c]) for c in group_by),
                str(g["runs"]),
                str(g["failed"]),
                *(fmt(g.get(m)) for m in methods),
                "-" if seconds is None else f"{seconds:.2f}",
            ]
        )
    return columns, rows
