"""PNG plots of a run (matplotlib is an optional extra: ``pip install phyll-core[plot]``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def _title(text: str) -> str:
    from phyll_core.cli.output import short_title

    return short_title(text)


def plot_curves(history: list[dict[str, Any]], path: Path, title: str = "") -> None:
    """Accuracy (train/test) and per-block loss against epoch, side by side, under one
    figure title (long dataset paths cut to the file name)."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    evaluated = [h for h in history if h.get("test_accuracy") is not None]
    epochs = [h["epoch"] for h in evaluated]
    ax1.plot(epochs, [h["train_accuracy"] for h in evaluated], label="train")
    ax1.plot(epochs, [h["test_accuracy"] for h in evaluated], label="test")
    ax1.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    ax1.legend()
    keys = sorted({k for h in history for k in h.get("losses", {})})
    for k in keys:
        ax2.plot(
            [h["epoch"] for h in history], [h["losses"].get(k, np.nan) for h in history], label=k
        )
    ax2.set(xlabel="epoch", ylabel="local loss", title="loss")
    if keys:
        ax2.legend()
    if title:
        fig.suptitle(_title(title))
    _save(fig, path)
    plt.close(fig)


def plot_confusion(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    names: list[str],
    path: Path,
    method: str | None = None,
) -> None:
    """Confusion matrix of test predictions (rows: true class, columns: predicted class, the
    count in each cell), titled with the prediction ``method`` and the test accuracy; drawn
    with matplotlib alone (no scikit-learn import)."""
    k = len(names)
    truth = np.asarray(y_true, dtype=np.int64)
    guess = np.asarray(y_pred, dtype=np.int64)
    counts = np.bincount(truth * k + guess, minlength=k * k).reshape(k, k)
    accuracy = float(np.mean(truth == guess)) if truth.size else float("nan")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.4), layout="constrained")
    ax.imshow(counts, cmap="viridis", interpolation="nearest")
    threshold = counts.max() / 2 if counts.size else 0
    for i in range(k):
        for j in range(k):
            colour = "black" if counts[i, j] > threshold else "white"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=colour)
    ax.set_xticks(range(k), names, rotation=45 if k > 4 else 0)
    ax.set_yticks(range(k), names)
    how = f"{method} prediction, " if method else ""
    ax.set(
        xlabel="Predicted label",
        ylabel="True label",
        title=f"test confusion matrix\n{how}accuracy {100 * accuracy:.1f} % ({truth.size} rows)",
    )
    _save(fig, path)
    plt.close(fig)


Curve = Sequence[tuple[int, float]]


def plot_comparison(
    curves: Mapping[str, Sequence[Curve] | Curve],
    path: Path,
    title: str,
    drift_at: int | None = None,
    before_drift: Mapping[str, Sequence[float]] | None = None,
    after_drift: Mapping[str, Sequence[float]] | None = None,
) -> None:
    """Test accuracy against epoch, one line per rule (``phyll compare --out``).

    ``curves[label]`` is one curve per seed (or a single curve): the line is their mean over
    the epochs every seed evaluated, the band their standard deviation. With ``drift_at``, a
    dashed line marks the drift step, and the accuracies measured right before and right after
    it (``before_drift``, ``after_drift``: one per seed) are drawn at that epoch, joined into
    the line: the points of the curve itself come from the evaluated epochs only, whose first
    after the step already follows some epochs of retraining."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.8, 4.0), layout="constrained")
    for label, given in curves.items():
        seeds = _per_seed(given)
        if not seeds:
            continue
        common = sorted(set.intersection(*(set(e for e, _ in c) for c in seeds)))
        values = np.array([[dict(c)[e] for e in common] for c in seeds])
        xs, mean = list(common), values.mean(axis=0)
        std = values.std(axis=0, ddof=1) if len(seeds) > 1 else np.zeros_like(mean)
        if drift_at is not None and before_drift and after_drift and after_drift.get(label):
            pre, post = np.asarray(before_drift[label]), np.asarray(after_drift[label])
            head = [i for i, e in enumerate(xs) if e < drift_at]
            tail = [i for i, e in enumerate(xs) if e > drift_at]
            xs = [*(xs[i] for i in head), drift_at, drift_at, *(xs[i] for i in tail)]
            mean = np.array([*mean[head], pre.mean(), post.mean(), *mean[tail]])
            std = np.array([*std[head], _std(pre), _std(post), *std[tail]])
        (line,) = ax.plot(xs, mean, label=label)
        if len(seeds) > 1:
            ax.fill_between(xs, mean - std, mean + std, color=line.get_color(), alpha=0.2,
                            linewidth=0)
        if drift_at is not None and after_drift and after_drift.get(label):
            ax.plot([drift_at], [np.mean(after_drift[label])], "v", color=line.get_color())
    if drift_at is not None:
        ax.axvline(drift_at, color="grey", linestyle="--", linewidth=1)
        ax.annotate("drift", (drift_at, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -12), textcoords="offset points", color="grey")
    seeds_used = max((len(_per_seed(c)) for c in curves.values()), default=0)
    band = f" (mean ± std over {seeds_used} seeds)" if seeds_used > 1 else ""
    ax.set(xlabel="epoch", ylabel="test accuracy", title=_title(title) + band)
    ax.legend()
    _save(fig, path)
    plt.close(fig)


def _std(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if values.size > 1 else 0.0


def _per_seed(given: Sequence[Curve] | Curve) -> list[Curve]:
    """A list of per-seed curves from either that or a single curve."""
    items = list(given)
    if items and isinstance(items[0], tuple) and not isinstance(items[0][0], tuple):
        return [items]  # type: ignore[list-item]
    return [c for c in items if c]  # type: ignore[misc]
