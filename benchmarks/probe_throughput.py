"""Samples per second of ``phyll probe SYSTEM`` (default size, one BLAS thread), best of 3
runs per system, each a fresh process; writes the section ``probe-throughput`` of
docs/results.md with the machine's load average.

    python benchmarks/probe_throughput.py [--systems microwave,optical,acoustic,lens]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

GOALS = {"microwave": 50_000, "optical": 150_000, "acoustic": 1_500_000}  # issue: speed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--systems", default="microwave,optical,acoustic,lens")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    before = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    rows = ["| system | samples/s, best of runs | runs | goal |", "|---|---|---|---|"]
    for system in a.systems.split(","):
        runs = []
        for _ in range(a.repeats):
            out = subprocess.run(["phyll", "probe", system, "--json"], capture_output=True,
                                 text=True, env=env, check=True).stdout
            runs.append(float(json.loads(out)["samples_per_second"]))
        goal = f">= {GOALS[system]:,}" if system in GOALS else ""
        shown = ", ".join(f"{v:,.0f}" for v in runs)
        rows.append(f"| {system} | **{max(runs):,.0f}** | {shown} | {goal} |")
        print(rows[-1], flush=True)
    after = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    body = (f"`phyll probe SYSTEM --json` (4,096 samples, default parameters), one BLAS thread,"
            f" {a.repeats} fresh processes per system; load average before {before}, after"
            f" {after}.\n\n" + "\n".join(rows))
    write_section("probe-throughput", "Probe throughput of every simulator", body)


if __name__ == "__main__":
    main()
