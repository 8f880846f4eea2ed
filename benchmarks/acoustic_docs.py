"""Figures of the acoustic backend's docs page (docs/backends/acoustic.md).

1. ``docs/img/acoustic_transfer.png``: |H_s(f)| of the default room for its four loudspeakers,
   the chaotic variant (two loudspeakers each), the tones and the output bins, and a zoom
   showing the room's response before and after a +2 K temperature step.
2. ``docs/img/acoustic_measured.png``: output histograms of the measured cavity
   (../shared/data/acoustic_cavity) and of the simulator (``preset=measured`` and the
   defaults) driven by the same inputs, with the pooled nonlinearity scores of ``phyll probe``.
   Without ../shared the measured panel is skipped and only the simulated histograms are drawn.

    python benchmarks/acoustic_docs.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from phyll_acoustic import AcousticCavity

from phyll_core.io import atomic_open
from phyll_core.probe import nonlinearity_score

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
MEASURED = ROOT / ".." / "shared" / "data" / "acoustic_cavity"


def save(fig: plt.Figure, name: str) -> Path:
    """Write ``fig`` to docs/img/``name`` atomically (PNG, compact)."""
    path = IMG / name
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KB)")
    return path


def transfer_figure() -> None:
    room = AcousticCavity()
    chaos = AcousticCavity(cavity="chaotic")
    warm = AcousticCavity()
    warm.set_temperature(room.temperature + 2.0)
    f = np.linspace(room.bin_frequencies[0] - 250, room.bin_frequencies[-1] + 250, 12_000)
    fig, axes = plt.subplots(3, 1, figsize=(8.5, 7.6))
    for ax, sys, title in ((axes[0], room, "rectangular room"), (axes[1], chaos, "chaotic")):
        h = np.abs(sys.transfer_function(f))
        for s in range(2):
            ax.semilogy(f, h[s], lw=0.6, label=f"speaker {s + 1}")
        for ft in sys.tone_frequencies:
            ax.axvline(ft, color="0.4", lw=0.7, ls=":")
        ax.plot(
            sys.bin_frequencies,
            np.full(sys.outputs, 0.02),
            "|",
            color="crimson",
            ms=8,
            label="output bins",
        )
        ax.set_ylabel("|H(f)| (normalised)")
        ax.set_title(
            f"{title}: {sys.room_length} x {sys.room_width} x {sys.room_height} m,"
            f" absorption {sys.absorption}, {sys.modes.count:,} modes summed",
            fontsize=9,
        )
        ax.set_ylim(0.01, 20)
        ax.legend(fontsize=7, ncol=3, loc="upper right")
    axes[1].set_xlabel("frequency (Hz); dotted: tone frequencies")
    zoom = np.linspace(2420.0, 2580.0, 4000)
    ratio = warm.speed_of_sound / room.speed_of_sound
    axes[2].semilogy(
        zoom,
        np.abs(room.transfer_function(zoom))[0],
        lw=1.0,
        label=f"speaker 1, {room.temperature:g} C",
    )
    axes[2].semilogy(
        zoom,
        np.abs(warm.transfer_function(zoom))[0],
        "k--",
        lw=0.9,
        label=f"after a +2 K step: modes x c(T)/c(T0) = {ratio:.5f}",
    )
    axes[2].axvline(2500.0, color="0.4", lw=0.7, ls=":")
    axes[2].set_xlabel("frequency (Hz), zoom on the 2.5 kHz tone (rectangular room)")
    axes[2].set_ylabel("|H(f)|")
    axes[2].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    save(fig, "acoustic_transfer.png")


def measured_figure() -> None:
    sim = AcousticCavity()
    preset = AcousticCavity(preset="measured")
    if (MEASURED / "inputs.csv").exists():
        x = np.loadtxt(MEASURED / "inputs.csv", delimiter=",")
        y_meas: np.ndarray | None = np.loadtxt(MEASURED / "outputs.csv", delimiter=",")
    else:
        print(f"{MEASURED} not found: drawing the simulated histogram only")
        x = np.random.default_rng(0).uniform(size=(8000, sim.input_dim))
        y_meas = None
    y_sim = sim.forward(x)
    y_preset = preset.forward(x)
    panels = [
        ("simulated, preset=measured", y_preset, nonlinearity_score(x, y_preset)),
        ("simulated, defaults", y_sim, nonlinearity_score(x, y_sim)),
    ]
    if y_meas is not None:
        panels.insert(0, ("measured cavity", y_meas, nonlinearity_score(x, y_meas)))
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.2))
    bins = np.linspace(0.0, max(2.0, float(y_sim.max())), 60)
    colors = ("tab:blue", "tab:orange", "tab:green")
    for (label, y, score), color in zip(panels, colors[3 - len(panels) :], strict=True):
        axes[0].hist(
            y.ravel(),
            bins=bins,
            histtype="step",
            density=True,
            lw=1.3,
            color=color,
            label=f"{label}: score {score:.3f}",
        )
        order = np.argsort(-y.std(axis=0))
        axes[1].plot(y.std(axis=0)[order], "o-", ms=3, color=color, label=label)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("output magnitude (all 20 outputs pooled)")
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=7)
    axes[1].set_xlabel("output, sorted by standard deviation")
    axes[1].set_ylabel("std over inputs")
    axes[1].legend(fontsize=7)
    save(fig, "acoustic_measured.png")
    for label, y, score in panels:
        print(
            f"{label}: nonlinearity score {score:.4f}, mean {y.mean():.3f}, std {y.std():.3f},"
            f" max {y.max():.3f}"
        )


if __name__ == "__main__":
    transfer_figure()
    measured_figure()
