"""Physics gain: does a physical system beat ``identity`` (no physics) on the same PhyLL network?

Runs, through ``phyll sweep`` (Dask, resumable: rerunning the same command skips finished
runs), ``phyll train`` defaults except the options named:

- ``gain``: datasets mnist1d, digits, vowels x systems identity, random-features, acoustic,
  microwave, optical, lens x skip on and off, PhyLL; plus ``--rule backprop`` (an equal
  digital MLP, no physics) per dataset (the runs kept from the previous round used
  ``--labels physical``, then the default, and are reported as such);
- ``labels``: mnist1d, skip on, at the defaults (``--labels digital``) through
  ``--label-systems``; ``noskip``: digits and mnist1d with ``--no-skip`` at the defaults;
- ``depth``: blocks 1, 2, 4, 10 on mnist1d through ``--depth-system`` (and identity);
  ``weighted``: blocks 2 and 10 again, with the ``weighted`` prediction recorded;
- ``circles``: circles through every system, and ``regression``: digits through identity and
  optical, vowels through acoustic over 10 seeds (the no-regression checks).

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

from phyll_core.io import atomic_write_text

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
    """Mean and population std over seeds of the test accuracy of each prediction method
    (goodness, readout, weighted, direct) per group."""
    import numpy as np

    groups: dict[tuple[str, ...], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    seen = set()
    for r in results:
        key = tuple(str(r.get(k, "")) for k in keys)
        if (key, r.get("seed")) in seen:  # stored twice (an older version's key): keep the newest
            continue
        seen.add((key, r.get("seed")))
        for method in ("goodness", "readout", "weighted", "direct"):
            if method in r:
                groups[key][method].append(r[method])
    out = {}
    for key, methods in groups.items():
        out[key] = {m: (float(np.mean(v)) * 100, float(np.std(v)) * 100, len(v))
                    for m, v in methods.items()}
    return out


def _fmt(stat: tuple[float, float, int] | None) -> str:
    return f"{stat[0]:.1f} ± {stat[1]:.1f} ({stat[2]})" if stat else "-"


def _gain_table(title: str, found: dict[tuple[str, ...], dict], backprop: dict | None) -> list[str]:
    """One table: each system's goodness, readout and gain over identity (keys: (system,))."""
    base = found.get(("identity",), {}).get("goodness")
    lines = [f"### {title}", "", "| system | goodness | readout | gain (points) |",
             "|---|---|---|---|"]
    for s in [s for s in SYSTEMS if (s,) in found]:
        g = found[(s,)]
        d = f"{g['goodness'][0] - base[0]:+.1f}" if base and "goodness" in g else "-"
        lines.append(f"| {s} | {_fmt(g.get('goodness'))} | {_fmt(g.get('readout'))} | {d} |")
    if backprop:
        lines.append(f"| backprop (digital MLP) | {_fmt(backprop.get('direct'))} | | |")
    return [*lines, ""]


def _select(found: dict[tuple[str, ...], dict], **fixed: str) -> dict[tuple[str, ...], dict]:
    """The groups of ``found`` (keyed dataset, system, skip, rule, labels) matching ``fixed``,
    keyed by system."""
    names = ("dataset", "system", "skip", "rule", "labels")
    out = {}
    for key, value in found.items():
        named = dict(zip(names, key, strict=True))
        if all(named[k] == v for k, v in fixed.items()):
            out[(named["system"],)] = value
    return out


def report(commands: dict[str, list[str]]) -> str:
    lines = ["PhyLL through each system against `identity` (no physics), `phyll train` defaults"
             " except the options named; test accuracy in %, mean ± std over seeds (number of"
             " seeds); gain = goodness minus identity's goodness, in points. Made by"
             " `python benchmarks/physics_gain.py` (commands below). The default is"
             " `--labels digital` (label slots around block 0's physics); the tables marked"
             " `--labels physical` are the published form, the default until this round."
             " The table `mnist1d, skip on, defaults` was measured again with `--reduce`"
             " (the default since round 6, which changes only `optical` and `lens`); the"
             " other tables' rows through `optical` and `lens` with the skip connection"
             " predate it (see [round 6](#physics-gain-round-6-reduced-outputs)).", ""]
    keys = ("dataset", "system", "skip", "rule", "labels")
    found = table(rows("gain") + rows("labels") + rows("noskip"), keys)
    backprop = {k[0]: v for k, v in found.items() if k[3] == "backprop"}
    for labels in ("digital", "physical"):
        for ds in DATASETS:
            for skip in ("True", "False"):
                part = _select(found, dataset=ds, skip=skip, rule="phyll", labels=labels)
                if not part:
                    continue
                title = f"{ds}, skip {'on' if skip == 'True' else 'off'}"
                title += ", defaults" if labels == "digital" else ", `--labels physical`"
                bp = backprop.get(ds) if skip == "True" and labels == "digital" else None
                lines += _gain_table(title, part, bp)
    depth = table(rows("weighted") + rows("depth"), ("system", "blocks", "labels"))
    if depth:
        lines += ["### mnist1d: accuracy against depth", "",
                  "| system | labels | blocks | goodness | readout | weighted |",
                  "|---|---|---|---|---|---|"]
        for (s, b, lab), g in sorted(
            depth.items(), key=lambda kv: (kv[0][2], kv[0][0], int(kv[0][1] or 0))
        ):
            lines.append(f"| {s} | {lab} | {b} | {_fmt(g.get('goodness'))} |"
                         f" {_fmt(g.get('readout'))} | {_fmt(g.get('weighted'))} |")
        lines.append("")
    checks = table(rows("circles") + rows("regression"), ("dataset", "system", "labels"))
    if checks:
        lines += ["### No regression: circles, digits and vowels (skip on)", "",
                  "| dataset | system | labels | goodness | readout |", "|---|---|---|---|---|"]
        for (ds, s, lab), g in sorted(checks.items()):
            lines.append(f"| {ds} | {s} | {lab} | {_fmt(g.get('goodness'))} |"
                         f" {_fmt(g.get('readout'))} |")
        lines.append("")
    lines += ["Commands:", "", "```text"]
    lines += [" ".join(c).replace(f"{ROOT}/", "") for c in commands.values()]
    lines += ["```", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="gain,labels,noskip,depth,weighted,circles")
    ap.add_argument("--noskip-seeds", default="3")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--seeds", default="5")
    ap.add_argument("--skip", default="true,false")
    ap.add_argument("--depth-system", default="lens")
    ap.add_argument(
        "--label-systems", default="identity,random-features,acoustic,microwave,optical,lens"
    )
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
                "--systems", a.label_systems, "--datasets", "mnist1d", "--seeds", a.seeds],
                a.workers)
        if "depth" in parts:
            commands["depth"] = sweep("depth", [
                "--systems", f"identity,{a.depth_system}", "--datasets", "mnist1d",
                "--seeds", a.seeds, "--grid", "blocks=1,2,4,10"], a.workers)
        if "noskip" in parts:
            commands["noskip-digits"] = sweep("noskip", [
                "--systems", "identity,optical,lens,microwave", "--datasets", "digits",
                "--seeds", a.noskip_seeds, "--grid", "skip=false"], a.workers)
            commands["noskip-mnist1d"] = sweep("noskip", [
                "--systems", a.label_systems, "--datasets", "mnist1d",
                "--seeds", a.noskip_seeds, "--grid", "skip=false"], a.workers)
        if "weighted" in parts:  # the `weighted` prediction at depth (runs recording it)
            commands["weighted"] = sweep("weighted", [
                "--systems", f"{a.depth_system},identity", "--datasets", "mnist1d",
                "--seeds", a.noskip_seeds, "--grid", "blocks=2,10"], a.workers)
        if "circles" in parts:
            commands["circles"] = sweep("circles", [
                "--systems", ",".join(SYSTEMS), "--datasets", "circles", "--seeds", a.seeds],
                a.workers)
            commands["regression"] = sweep("regression", [
                "--systems", "identity,optical", "--datasets", "digits", "--seeds", a.seeds],
                a.workers)
            commands["regression-vowels"] = sweep("regression", [
                "--systems", "acoustic", "--datasets", "vowels", "--seeds", "10"], a.workers)
        atomic_write_text(log, json.dumps(commands, indent=1))
    text = report(commands)
    print(text)
    write_section("physics-gain", "Physics gain: each system against identity", text)


if __name__ == "__main__":
    sys.exit(main())
