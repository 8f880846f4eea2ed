"""Figure of the microwave backend: the default enclosure and |H(f)| of a few configurations.

Writes docs/img/microwave_channels.png: left, the dipoles of the default geometry (seed 0) and
the stirrers after a drift of strength 0.05; right, |H(f)| over the band for a few metasurface
configurations (fine frequency grid as lines, the 20 default frequency points as markers), and
for one configuration before and after that drift.

    python benchmarks/microwave_figures.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img" / "microwave_channels.png"
DRIFT = 0.05
"""Drift strength shown: every stirrer dipole moves by about 0.05 wavelengths."""


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from phyll_microwave import MicrowaveCavity

    from phyll_core.io import atomic_write_bytes

    fine = MicrowaveCavity(frequencies=201, encoding="binary")
    coarse = MicrowaveCavity(encoding="binary")
    rng = np.random.default_rng(1)
    configs = {
        "all bits 0": np.zeros(40, dtype=bool),
        "all bits 1": np.ones(40, dtype=bool),
        "random A": rng.integers(0, 2, 40).astype(bool),
        "random B": rng.integers(0, 2, 40).astype(bool),
    }
    on = np.stack(list(configs.values()))
    h_fine = np.abs(fine.channel(on))
    h_coarse = np.abs(coarse.channel(on))
    geom_before = fine.geometry
    fine.perturb(DRIFT, 0)
    h_drift = np.abs(fine.channel(on[2:3]))[0]

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2), width_ratios=[1, 1.35])
    g = geom_before
    ax0.plot(*g.walls.T, ".", color="0.3", ms=3, label="walls")
    st = g.stirrer_points()
    ax0.plot(*st.T, "s", color="tab:brown", ms=3, label="stirrers")
    ax0.plot(
        *fine.geometry.stirrer_points().T,
        "s",
        mfc="none",
        color="tab:brown",
        ms=3,
        alpha=0.6,
        label=f"stirrers after drift {DRIFT}",
    )
    bits = configs["random A"]
    ax0.plot(*g.atoms[bits].T, "o", color="tab:green", ms=4, label="meta-atom, bit 1")
    ax0.plot(*g.atoms[~bits].T, "o", mfc="none", color="tab:green", ms=4, label="meta-atom, bit 0")
    ax0.plot(*g.tx, "^", color="tab:blue", ms=9, label="TX")
    ax0.plot(*g.rx, "v", color="tab:red", ms=9, label="RX")
    ax0.set_aspect("equal")
    ax0.set_xlabel("x (wavelengths at f = 1)")
    ax0.set_ylabel("y")
    ax0.set_title("default enclosure (seed 0), configuration 'random A'", fontsize=10)
    ax0.legend(fontsize=7, loc="upper center", ncol=2, bbox_to_anchor=(0.5, -0.17))

    f_fine, f_coarse = fine.frequency_points, coarse.frequency_points
    for (label, _), hf, hc in zip(configs.items(), h_fine, h_coarse, strict=True):
        (line,) = ax1.plot(f_fine, hf, lw=1.2, label=label)
        ax1.plot(f_coarse, hc, "o", ms=3.5, color=line.get_color())
    ax1.plot(f_fine, h_drift, "--", color="tab:green", lw=1, label=f"random A after drift {DRIFT}")
    ax1.set_xlabel("frequency f (wave speed 1)")
    ax1.set_ylabel("|H(f)|")
    ax1.set_title("channel |H(f)|: lines 201 points, markers the 20 outputs", fontsize=10)
    ax1.legend(fontsize=8)
    fig.tight_layout()
    atomic_write_bytes(OUT, lambda fh: fig.savefig(fh, format="png", dpi=90, bbox_inches="tight"))
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
