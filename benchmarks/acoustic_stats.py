"""Response statistics of the measured acoustic cavity beside the simulator's.

Measures, with :mod:`phyll_acoustic.stats` (input/output pairs only), the statistics of the
measured cavity (``../shared/data/acoustic_cavity``: 8,000 drive vectors and what the real
cavity returned) and of the simulator driven by the same inputs: with ``preset=measured``, with
the defaults, and with the previous default (one microphone). Without ``../shared`` the
simulator columns are measured on 8,000 uniform random inputs and the measured column is left
out. Prints a markdown table, writes the ``acoustic-stats`` section of docs/results.md and draws
``docs/img/acoustic_stats.png``.

    OPENBLAS_NUM_THREADS=1 python benchmarks/acoustic_stats.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from results import write_section  # noqa: E402

MEASURED = ROOT / ".." / "shared" / "data" / "acoustic_cavity"
#: simulator variants: label -> --param values
VARIANTS: dict[str, list[str]] = {
    "simulator, `preset=measured`": ["preset=measured"],
    "simulator, defaults (4 microphones)": [],
    "simulator, 1 microphone (previous default)": ["microphones=1"],
}


def load(samples: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The measured inputs and outputs, or ``samples`` uniform inputs and ``None``."""
    if (MEASURED / "inputs.csv").is_file():
        x = np.loadtxt(MEASURED / "inputs.csv", delimiter=",")
        return x, np.loadtxt(MEASURED / "outputs.csv", delimiter=",")
    print(f"{MEASURED} not found: simulator columns only, on uniform random inputs")
    return np.random.default_rng(0).uniform(size=(samples, 20)), None


def measure(x: np.ndarray, y_measured: np.ndarray | None) -> dict[str, dict[str, Any]]:
    """Statistics (and the raw outputs, key ``y``) of every column."""
    from phyll_acoustic.stats import summary

    from phyll_core.factory import build_system

    columns: dict[str, dict[str, Any]] = {}
    if y_measured is not None:
        columns["measured cavity"] = {**summary(x, y_measured), "y": y_measured}
    for label, params in VARIANTS.items():
        system = build_system("acoustic", params)
        y = system.forward(x)
        zero = system.forward(np.zeros((64, x.shape[1])))
        columns[label] = {**summary(x, y, zero_output=zero), "y": y}
    for label, stats in columns.items():
        print(label, {k: v for k, v in stats.items() if k != "y"})
    return columns


ROWS: list[tuple[str, Any]] = [
    ("active inputs (of 20)", lambda s: f"{s['active_inputs']}"),
    (
        "channels (period of the input index)",
        lambda s: f"{s['channels']} (period {s['period']})" if s["period"] else "none found",
    ),
    ("near-zero outputs (of 20)", lambda s: f"{s['near_zero_outputs']}"),
    ("zero drive: mean output / mean output", lambda s: f"{s['zero_drive']:.3f}"),
    (
        "R^2 of each active output as \\|complex mix of its channel's inputs\\|",
        lambda s: (
            f"{s['mix_r2_min']:.3f}-{s['mix_r2_max']:.3f}" if np.isfinite(s["mix_r2_min"]) else "-"
        ),
    ),
    (
        "output pairs with \\|corr\\| > 0.99 (largest \\|corr\\|)",
        lambda s: f"{s['correlated_pairs']} ({s['max_correlation']:.3f})",
    ),
    ("effective dimension (participation ratio)", lambda s: f"{s['participation_ratio']:.1f}"),
    (
        "principal components for 90 % / 99 % of the variance",
        lambda s: f"{s['pcs_90']} / {s['pcs_99']}",
    ),
    ("pooled nonlinearity score (`phyll probe`)", lambda s: f"{s['nonlinearity']:.3f}"),
]


def table(columns: dict[str, dict[str, Any]]) -> str:
    """Markdown table: one row per statistic, one column per cavity."""
    lines = ["| statistic | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name, cell in ROWS:
        lines.append(f"| {name} | " + " | ".join(cell(s) for s in columns.values()) + " |")
    return "\n".join(lines)


def figure(x: np.ndarray, columns: dict[str, dict[str, Any]], path: Path) -> None:
    """Input weights, output RMS, cumulative explained variance and |corr| of output pairs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from phyll_acoustic.stats import input_weights

    from phyll_core.io import atomic_open

    fig, axes = plt.subplots(1, 4, figsize=(15.0, 3.3))
    markers = ["o", "s", "^", "v"]
    for (label, stats), marker in zip(columns.items(), markers, strict=False):
        y = stats["y"]
        short = label.replace("simulator, ", "").replace("`", "")
        axes[0].plot(input_weights(x, y), marker, ms=4, ls="-", lw=0.6, label=short)
        rms = np.sqrt(np.mean(y**2, axis=0))
        axes[1].semilogy(rms, marker, ms=4, ls="-", lw=0.6, label=short)
        lam = np.clip(np.linalg.eigvalsh(np.cov(y, rowvar=False))[::-1], 0.0, None)
        axes[2].plot(
            np.arange(1, lam.size + 1),
            np.cumsum(lam) / lam.sum(),
            marker,
            ms=4,
            ls="-",
            lw=0.8,
            label=short,
        )
        keep = y.std(axis=0) > 0
        c = np.abs(np.corrcoef(y[:, keep], rowvar=False))[np.triu_indices(int(keep.sum()), 1)]
        axes[3].hist(c, bins=np.linspace(0, 1, 41), histtype="step", lw=1.2, label=short)
    axes[0].set_xlabel("input index")
    axes[0].set_ylabel("input weight (affine, / max)")
    axes[1].set_xlabel("output index")
    axes[1].set_ylabel("output RMS")
    axes[2].set_xlabel("principal components")
    axes[2].set_ylabel("fraction of output variance")
    axes[2].axhline(0.99, color="0.5", lw=0.6, ls=":")
    axes[2].axhline(0.90, color="0.5", lw=0.6, ls=":")
    axes[3].set_xlabel("|corr| of an output pair")
    axes[3].set_ylabel("pairs")
    axes[3].set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8000, help="inputs without ../shared")
    args = parser.parse_args(argv)
    x, y = load(args.samples)
    columns = measure(x, y)
    text = table(columns)
    print(text)
    figure(x, columns, ROOT / "docs" / "img" / "acoustic_stats.png")
    source = (
        "the 8,000 measured drive vectors of `../shared/data/acoustic_cavity` (the simulator"
        " columns driven by the same inputs)"
        if y is not None
        else f"{args.samples} uniform random inputs"
    )
    body = (
        f"Statistics of `phyll_acoustic.stats` on {source}; definitions in"
        " docs/backends/acoustic.md (*Measured versus simulated*).\n\n" + text
    )
    write_section("acoustic-stats", "Acoustic cavity: measured versus simulated statistics", body)


if __name__ == "__main__":
    main()
