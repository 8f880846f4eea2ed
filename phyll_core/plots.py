"""PNG plots of a run (matplotlib is an optional extra: ``pip install phyll-core[plot]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    from phyll_core.io import atomic_open

    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110, bbox_inches="tight")


def plot_curves(history: list[dict[str, Any]], path: Path, title: str = "") -> None:
    """Accuracy (train/test) and per-block loss against epoch, side by side."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    evaluated = [h for h in history if h.get("test_accuracy") is not None]
    epochs = [h["epoch"] for h in evaluated]
    ax1.plot(epochs, [h["train_accuracy"] for h in evaluated], label="train")
    ax1.plot(epochs, [h["test_accuracy"] for h in evaluated], label="test")
    ax1.set(xlabel="epoch", ylabel="accuracy", title=title or "accuracy")
    ax1.legend()
    keys = sorted({k for h in history for k in h.get("losses", {})})
    for k in keys:
        ax2.plot(
            [h["epoch"] for h in history], [h["losses"].get(k, np.nan) for h in history], label=k
        )
    ax2.set(xlabel="epoch", ylabel="local loss", title="loss")
    if keys:
        ax2.legend()
    _save(fig, path)
    plt.close(fig)


def plot_confusion(y_true: np.ndarray, y_pred: np.ndarray, names: list[str], path: Path) -> None:
    """Confusion matrix of test predictions (rows: true class, columns: predicted class, the
    count in each cell), drawn with matplotlib alone (no scikit-learn import)."""
    k = len(names)
    counts = np.bincount(
        np.asarray(y_true, dtype=np.int64) * k + np.asarray(y_pred, dtype=np.int64),
        minlength=k * k,
    ).reshape(k, k)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(counts, cmap="viridis", interpolation="nearest")
    threshold = counts.max() / 2 if counts.size else 0
    for i in range(k):
        for j in range(k):
            colour = "black" if counts[i, j] > threshold else "white"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=colour)
    ax.set_xticks(range(k), names, rotation=45 if k > 4 else 0)
    ax.set_yticks(range(k), names)
    ax.set(xlabel="Predicted label", ylabel="True label", title="test confusion matrix")
    _save(fig, path)
    plt.close(fig)


def plot_comparison(curves: dict[str, list[tuple[int, float]]], path: Path, title: str) -> None:
    """Test accuracy against epoch, one line per rule (``phyll compare --out``)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for label, points in curves.items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, label=label)
    ax.set(xlabel="epoch", ylabel="test accuracy", title=title)
    ax.legend()
    _save(fig, path)
    plt.close(fig)
