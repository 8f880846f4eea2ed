"""Physics gain: does a physical system beat ``identity`` (no physics) on the same PhyLL network?

Runs, through ``phyll sweep`` (Dask, resumable: rerunning the same command skips finished
runs), ``phyll train`` defaults except the options named:

- ``gain``: datasets mnist1d, digits, vowels x systems identity, random-features, acoustic,
  microwave, optical, lens x skip on and off, PhyLL; plus ``--rule backprop`` (an equal
  digital MLP, no physics) per dataset;
- ``labels``: mnist1d, skip on, ``--labels digital`` (label slots around the physics) through
  ``--label-systems``;
- ``depth``: blocks 1, 2, 4, 10 on mnist1d through ``--depth-system`` (and identity), with
  ``--labels digital``;
- ``circles``: circles through every system, and ``regression``: digits through identity and
  optical (the no-regression checks).

and writes the section ``physics-gain`` of docs/results.md: accuracy mean ± std over seeds for
goodness and readout, and the gain over identity in points. Every figure is printed with the
command that made it. Usage::

    python benchmarks/physics_gain.py                       # everything, 5 seeds (hours)
    python benchmarks/physics_gain.py --parts gain --datasets mnist1d --seeds 3
    python benchmarks/physics_gain.py --report-only         # rewrite the section from results

Results are kept under ``benchmarks/out/physics_gain/`` (not in git).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "physics_gain"
SYSTEMS = ("identity", "random-features", "acoustic", "microwave", "optical", "lens")
DATASETS = ("mnist1d", "digits", "vowels")


def sweep(name: str, args: list[str], workers: int) -> list[str]:
    """Run ``phyll sweep`` into ``OUT/name`` (resuming); return the command line."""
    out = (OUT / name).relative_to(ROOT)  # the command as run from the repository root
    cmd = ["phyll", "sweep", *args, "--out", str(out), "--workers", str(workers), "-q"]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=False, cwd=ROOT)
    return cmd


def rows(name: str) -> list[dict[str, Any]]:
    """One flat row per finished run of ``OUT/name`` (read from the sweep's per-run JSON files,
    which exist as soon as a run ends)."""
    out = []
    runs = [json.loads(p.read_text()) for p in (OUT / name / "runs").glob("*.json")]
    for run in sorted(runs, key=lambda r: str(r.get("finished")), reverse=True):  # newest first
        if run.get("status") != "ok":
            continue
        s = run["settings"]
        keys = ("dataset", "rule", "skip", "blocks", "labels", "seed")
        row: dict[str, Any] = {k: str(s.get(k, "")) for k in keys}
        system = s.get("system", "")
        row["system"] = "/".join(system) if isinstance(system, list) else str(system)
        for method, acc in (run.get("accuracy_by_method") or {}).items():
            row[method] = float(acc["test_accuracy"])
        out.append(row)
    return out


def table(results: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[tuple[str, ...], dict]:
    """Mean and population std over seeds of goodness/readout/direct test accuracy per group."""
    import numpy as np

    groups: dict[tuple[str, ...], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    seen = set()
    for r in results:
        key = tuple(str(r.get(k, "")) for k in keys)
        if (key, r.get("seed")) in seen:  # stored twice (an older version's key): keep the newest
            continue
        seen.add((key, r.get("seed")))
        for method in ("goodness", "readout", "direct"):
            if method in r:
                groups[key][method].append(r[method])
    out = {}
    for key, methods in groups.items():
        out[key] = {m: (float(np.mean(v)) * 100, float(np.std(v)) * 100, len(v))
                    for m, v in methods.items()}
    return out


def _fmt(stat: tuple[float, float, int] | None) -> str:
    return f"{stat[0]:.1f} ± {stat[1]:.1f} ({stat[2]})" if stat else "-"


def report(commands: dict[str, list[str]]) -> str:
    lines = ["PhyLL through each system against `identity` (no physics), `phyll train` defaults"
             " except the options named; test accuracy in %, mean ± std over seeds (number of"
             " seeds); gain = goodness minus identity's goodness, in points. Made by"
             " `python benchmarks/physics_gain.py` (commands below).", ""]
    gain = table(rows("gain"), ("dataset", "system", "skip", "rule"))
    for ds in DATASETS:
        for skip in ("True", "False"):
            base = gain.get((ds, "identity", skip, "phyll"), {}).get("goodness")
            present = [s for s in SYSTEMS if (ds, s, skip, "phyll") in gain]
            if not present:
                continue
            lines += [f"### {ds}, skip {'on' if skip == 'True' else 'off'}", "",
                      "| system | goodness | readout | gain (points) |", "|---|---|---|---|"]
            for s in present:
                g = gain[(ds, s, skip, "phyll")]
                d = f"{g['goodness'][0] - base[0]:+.1f}" if base and "goodness" in g else "-"
                good, read = _fmt(g.get("goodness")), _fmt(g.get("readout"))
                lines.append(f"| {s} | {good} | {read} | {d} |")
            bp = [v for k, v in gain.items() if k[0] == ds and k[3] == "backprop"]
            if bp and skip == "True":
                lines.append(f"| backprop (digital MLP) | {_fmt(bp[0].get('direct'))} | | |")
            lines.append("")
    labels = table(rows("labels"), ("system",))
    if labels:
        base = labels.get(("identity",), {}).get("goodness")
        lines += ["### mnist1d, skip on, `--labels digital`", "",
                  "| system | goodness | readout | gain (points) |", "|---|---|---|---|"]
        for s in [s for s in SYSTEMS if (s,) in labels]:
            g = labels[(s,)]
            d = f"{g['goodness'][0] - base[0]:+.1f}" if base and "goodness" in g else "-"
            lines.append(f"| {s} | {_fmt(g.get('goodness'))} | {_fmt(g.get('readout'))} | {d} |")
        lines.append("")
    depth = table(rows("depth"), ("system", "blocks", "labels"))
    if depth:
        lines += ["### mnist1d: accuracy against depth", "",
                  "| system | labels | blocks | goodness | readout |", "|---|---|---|---|---|"]
        for (s, b, lab), g in sorted(
            depth.items(), key=lambda kv: (kv[0][2], kv[0][0], int(kv[0][1] or 0))
        ):
            lines.append(f"| {s} | {lab or 'physical'} | {b} | {_fmt(g.get('goodness'))} |"
                         f" {_fmt(g.get('readout'))} |")
        lines.append("")
    for part in ("circles", "regression"):
        found = table(rows(part), ("dataset", "system", "skip"))
        if not found:
            continue
        lines += [f"### {part} (no regression)", "",
                  "| dataset | system | skip | goodness | readout |", "|---|---|---|---|---|"]
        for (ds, s, skip), g in sorted(found.items()):
            lines.append(f"| {ds} | {s} | {skip} | {_fmt(g.get('goodness'))} |"
                         f" {_fmt(g.get('readout'))} |")
        lines.append("")
    lines += ["Commands:", "", "```text"]
    lines += [" ".join(c).replace(f"{ROOT}/", "") for c in commands.values()]
    lines += ["```", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="gain,labels,depth,circles")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--seeds", default="5")
    ap.add_argument("--skip", default="true,false")
    ap.add_argument("--depth-system", default="lens")
    ap.add_argument("--label-systems", default="identity,random-features,acoustic,optical,lens")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--report-only", action="store_true")
    a = ap.parse_args()
    commands: dict[str, list[str]] = {}
    log = OUT / "commands.json"
    if log.is_file():
        commands = json.loads(log.read_text())
    parts = a.parts.split(",")
    if not a.report_only:
        OUT.mkdir(parents=True, exist_ok=True)
        if "gain" in parts:
            commands["gain"] = sweep("gain", [
                "--systems", a.systems, "--datasets", a.datasets, "--seeds", a.seeds,
                "--grid", f"skip={a.skip}"], a.workers)
            commands["gain-backprop"] = sweep("gain", [
                "--systems", "identity", "--rules", "backprop", "--datasets", a.datasets,
                "--seeds", a.seeds], a.workers)
        if "labels" in parts:
            commands["labels"] = sweep("labels", [
                "--systems", a.label_systems, "--datasets", "mnist1d", "--seeds", a.seeds,
                "--grid", "labels=digital"], a.workers)
        if "depth" in parts:
            commands["depth"] = sweep("depth", [
                "--systems", f"identity,{a.depth_system}", "--datasets", "mnist1d",
                "--seeds", a.seeds, "--grid", "blocks=1,2,4,10", "--grid", "labels=digital"],
                a.workers)
        if "circles" in parts:
            commands["circles"] = sweep("circles", [
                "--systems", ",".join(SYSTEMS), "--datasets", "circles", "--seeds", a.seeds],
                a.workers)
            commands["regression"] = sweep("regression", [
                "--systems", "identity,optical", "--datasets", "digits", "--seeds", a.seeds],
                a.workers)
        log.write_text(json.dumps(commands, indent=1))
    text = report(commands)
    print(text)
    write_section("physics-gain", "Physics gain: each system against identity", text)


if __name__ == "__main__":
    sys.exit(main())
