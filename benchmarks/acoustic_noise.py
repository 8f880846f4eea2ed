"""Cost of the acoustic read-out noise: Box-Muller float32 (the code) against numpy's float32
ziggurat ``standard_normal`` (the previous code), measured as ratios in one run.

Three timings, interleaved round by round on the same inputs (best of ``--rounds``):

* ``phyll probe acoustic`` (default system, ``--samples`` rows) with the Box-Muller noise;
* the same probe with the previous noise (two ``standard_normal`` float32 draws per output,
  swapped in for the run);
* the same probe with ``noise=0`` (the physics alone), which gives each noise's share.

Writes the ``acoustic-noise`` section of docs/results.md.

    OPENBLAS_NUM_THREADS=1 python benchmarks/acoustic_noise.py
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from results import write_section  # noqa: E402


def ziggurat_noise(y: np.ndarray, rms: float, rng: np.random.Generator) -> None:
    """The previous noise: ``N(0, rms^2 / 2)`` per real part from the float32 ziggurat."""
    y += rng.standard_normal(y.shape, dtype=np.float32) * np.float32(rms / math.sqrt(2.0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)

    import phyll_acoustic.system as system_module
    from phyll_acoustic import AcousticCavity

    from phyll_core.probe import probe

    box_muller: Callable[..., None] = system_module.add_complex_noise
    noisy, quiet = AcousticCavity(), AcousticCavity(noise=0.0)
    cases = {"Box-Muller float32 (code)": box_muller, "ziggurat float32 (previous)": None}
    best: dict[str, float] = {name: 0.0 for name in [*cases, "no noise"]}
    for _ in range(args.rounds):
        for name, noise in cases.items():
            system_module.add_complex_noise = noise or ziggurat_noise  # type: ignore[assignment]
            try:
                rate = probe(noisy, samples=args.samples).samples_per_second
            finally:
                system_module.add_complex_noise = box_muller  # type: ignore[assignment]
            best[name] = max(best[name], rate)
        best["no noise"] = max(
            best["no noise"], probe(quiet, samples=args.samples).samples_per_second
        )
    quiet_s = 1.0 / best["no noise"]
    lines = [
        f"`phyll probe acoustic` (default system, {args.samples} samples), best of"
        f" {args.rounds} interleaved rounds, one BLAS thread:",
        "",
        "| read-out noise | samples/s | noise share of a query |",
        "|---|---:|---:|",
    ]
    for name in cases:
        share = 1.0 - quiet_s * best[name]
        lines.append(f"| {name} | {best[name]:,.0f} | {100 * share:.0f} % |")
        print(f"{name}: {best[name]:,.0f} samples/s, noise {100 * share:.0f} % of a query")
    lines.append(f"| none (`noise=0`) | {best['no noise']:,.0f} | - |")
    ratio = best["Box-Muller float32 (code)"] / best["ziggurat float32 (previous)"]
    noise_ratio = (1 / best["ziggurat float32 (previous)"] - quiet_s) / (
        1 / best["Box-Muller float32 (code)"] - quiet_s
    )
    lines += [
        "",
        f"Probe speed-up from the cheaper noise: **{ratio:.2f}x**; the noise itself is"
        f" {noise_ratio:.1f}x cheaper (same run, same inputs).",
    ]
    print(f"probe ratio {ratio:.2f}x, noise cost ratio {noise_ratio:.1f}x")
    write_section("acoustic-noise", "Acoustic read-out noise: cost", "\n".join(lines))


if __name__ == "__main__":
    main()
