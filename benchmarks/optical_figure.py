"""Figure of the optical backend: SLM frame, Fourier plane with apertures, camera, outputs.

Writes docs/img/optical_frame.png (two rows: the default system driven by a random 20-vector,
and a handwritten digit with its label slots in the side-by-side layout).

    python benchmarks/optical_figure.py
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from phyll_optical import OpticalSystem

from phyll_core.io import atomic_write_bytes

OUT = Path(__file__).resolve().parent.parent / "docs" / "img" / "optical_frame.png"


def _digit_input() -> tuple[np.ndarray, str]:
    """A digit of scikit-learn's set, scaled to [0, 1], with label slot 3 set: the 74-wide
    first-block input of ``phyll train --dataset digits``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    index = int(np.flatnonzero(digits.target == 3)[0])
    pixels = digits.data[index] / 16.0
    slots = np.zeros(10)
    slots[3] = 1.0
    return np.concatenate([slots, pixels])[None, :], "digit 3, label slot 3 (side-by-side)"


def _row(axes: np.ndarray, system: OpticalSystem, x: np.ndarray, title: str) -> None:
    frame = system.slm_frames(x)[0]
    plane = np.fft.fftshift(system.fourier_plane(x)[0])
    camera = np.abs(system.camera_field(x)[0])
    output = system.forward(x)[0]
    side = math.isqrt(output.size)
    phase = np.where(system.slm.lit, np.angle(frame) % (2 * np.pi), np.nan)
    if system.encoding == "amplitude":
        phase = np.where(system.slm.lit, np.abs(frame), np.nan)
    panels = [
        (phase, "SLM phase (rad)" if system.encoding == "phase" else "SLM amplitude", "viridis"),
        (np.log10(np.abs(plane) + 1e-3), "Fourier plane log10|F|", "magma"),
        (camera, "camera |E|", "gray"),
        (output.reshape(side, side), f"output: 3x3 pooled ({output.size})", "cividis"),
    ]
    for ax, (image, label, cmap) in zip(axes, panels, strict=True):
        shown = ax.imshow(image, cmap=cmap, interpolation="nearest")
        ax.set_title(label, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        plt.colorbar(shown, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=6)
    aperture = system.transmission.input_mask
    axes[1].contour(aperture, levels=[0.5], colors="cyan", linewidths=0.8)
    axes[0].set_ylabel(title, fontsize=8)


def main() -> None:
    default = OpticalSystem()
    vector = np.random.default_rng(0).uniform(size=(1, 20))
    digit, label = _digit_input()
    image = OpticalSystem(inputs=74, layout="side-by-side", frame=32, block=2)
    fig, axes = plt.subplots(2, 4, figsize=(11, 5.4))
    _row(axes[0], default, vector, "default: random 20-vector")
    _row(axes[1], image, digit, label)
    fig.suptitle(
        "optical: SLM -> FFT -> input aperture (cyan) -> T -> output aperture -> IFFT -> camera",
        fontsize=9,
    )
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    atomic_write_bytes(OUT, lambda fh: fh.write(buffer.getvalue()))
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
