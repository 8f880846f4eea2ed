"""Plots of accuracy per group (a sweep's groups, or the systems of ``phyll compare
--systems``): per prediction method the mean with a bar of ± one std over seeds and each seed's
value as a dot (matplotlib: the ``plot`` extra)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from phyll_core.plots import _pyplot, _save
from phyll_core.sweep.summary import _flat


def group_label(group: dict[str, Any], group_by: Sequence[str]) -> str:
    return ", ".join(f"{group[c]}" for c in group_by) or "all runs"


def plot_groups(
    labels: Sequence[str],
    values: Sequence[dict[str, list[float]]],
    methods: Sequence[str],
    path: Path,
    title: str = "",
    xlabel: str = "test accuracy (mean ± std over seeds; dots: seeds)",
) -> None:
    """One row per label; ``values[i][method]`` are the per-seed accuracies of group ``i``."""
    plt = _pyplot()
    height = max(2.4, 0.42 * len(labels) * max(1, len(methods)) + 1.2)
    fig, ax = plt.subplots(figsize=(7.2, height))
    offsets = np.linspace(-0.2, 0.2, len(methods)) if len(methods) > 1 else np.zeros(1)
    for m, method in enumerate(methods):
        for i, group in enumerate(values):
            seeds = group.get(method) or []
            if not seeds:
                continue
            y = i + offsets[m]
            ax.errorbar(
                float(np.mean(seeds)), y, xerr=float(np.std(seeds)), fmt="o", color=f"C{m}",
                capsize=3, label=method if i == 0 else None,
            )
            ax.scatter(seeds, [y] * len(seeds), s=9, color=f"C{m}", alpha=0.45)
    ax.set_yticks(range(len(labels)), list(labels))
    ax.invert_yaxis()
    ax.set(xlabel=xlabel, title=title)
    ax.grid(axis="x", alpha=0.3)
    if methods:
        ax.legend(loc="best", fontsize="small")
    _save(fig, path)
    plt.close(fig)


def plot_summary(
    records: Sequence[dict[str, Any]],
    groups: Sequence[dict[str, Any]],
    group_by: Sequence[str],
    methods: Sequence[str],
    path: Path,
    title: str = "",
) -> None:
    """The groups of :func:`~phyll_core.sweep.summary.summarise` with their seeds."""
    values = []
    for group in groups:
        members = [
            r for r in records
            if r.get("status") == "ok" and all(_flat(r).get(c) == group[c] for c in group_by)
        ]
        values.append(
            {
                m: [
                    r["accuracy_by_method"][m]["test_accuracy"]
                    for r in members
                    if m in (r.get("accuracy_by_method") or {})
                ]
                for m in methods
            }
        )
    plot_groups([group_label(g, group_by) for g in groups], values, methods, path, title)
