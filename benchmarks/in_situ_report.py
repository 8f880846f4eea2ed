"""Tables of ``benchmarks/in_situ.py``: the markdown of docs/results.md (section ``in-situ``)
from the runs' records (accuracy, queries, digital FLOPs, drift curves)."""

from __future__ import annotations

import argparse
import statistics
from typing import Any

import numpy as np
from results import mean_std


def accuracy_table(results: dict[str, Any]) -> str:
    lines = [
        "| system | controls | test accuracy (%) | gain (points) | physical queries"
        " (training) | of which control updates | queries ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for system, by in results.items():
        frozen, trained = by["frozen"], by["trained"]
        if not frozen or not trained:  # one variant only (e.g. tuning runs): no comparison
            frozen = frozen or trained
        fq = statistics.fmean(r["queries"] for r in frozen)
        for label, runs in (("frozen", by["frozen"]), ("trained", by["trained"])):
            if not runs:
                continue
            acc = [r["accuracy"] for r in runs]
            gain = 100 * (statistics.fmean(acc) - statistics.fmean(r["accuracy"] for r in frozen))
            q = statistics.fmean(r["queries"] for r in runs)
            cq = statistics.fmean(r["control_queries"] for r in runs)
            lines.append(
                f"| {system} | {label} | {mean_std(acc)} | {gain:+.1f} | {q:,.0f} | {cq:,.0f} |"
                f" {q / fq:.2f}x |"
            )
    return "\n".join(lines)


def width_table(widths: dict[str, Any], accuracy: dict[str, Any]) -> str:
    lines = [
        "| system | controls @ width | test accuracy (%) | digital FLOPs (training) |"
        " frozen@64 FLOPs / these |",
        "|---|---|---|---|---|",
    ]
    for system, by in widths.items():
        ref = accuracy.get(system, {}).get("frozen")
        rows = dict(by)
        if ref:
            rows = {"frozen@64": ref, **({"trained@64": accuracy[system]["trained"]}), **rows}
        ref_flops = statistics.fmean(r["flops"] for r in ref) if ref else None
        for label, runs in rows.items():
            flops = statistics.fmean(r["flops"] for r in runs)
            ratio = f"{ref_flops / flops:.2f}" if ref_flops else ""
            acc = mean_std([r["accuracy"] for r in runs])
            lines.append(f"| {system} | {label} | {acc} | {flops:.3g} | {ratio} |")
    return "\n".join(lines)


def drift_table(drift: dict[str, Any], drift_at: int) -> str:
    lines = [
        "| controls | before drift (%) | right after (%) | epochs after drift (mean %) |"
        " epochs to within 2 points (per seed) |",
        "|---|---|---|---|---|",
    ]
    for label, runs in drift.get("microwave", {}).items():
        curves = np.array([r["curve"] for r in runs])  # (seeds, 2 + epochs after)
        before, after, rest = curves[:, 0], curves[:, 1], curves[:, 2:]
        back = []
        for c in curves:
            hits = [i for i, a in enumerate(c[1:]) if a >= c[0] - 0.02]
            back.append(str(hits[0]) if hits else "not within the run")
        lines.append(
            f"| {label} | {mean_std(list(before))} | {mean_std(list(after))} |"
            f" {', '.join(f'{100 * v:.1f}' for v in rest.mean(axis=0))} | {', '.join(back)} |"
        )
    return "\n".join(lines)


def report(
    out: dict[str, Any],
    args: argparse.Namespace,
    systems: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> str:
    """The section's markdown; ``systems``: each system's parameters and trained rule
    parameters."""
    def setting(part: str) -> str:
        s = out["settings"].get(part) or vars(args)
        first = s.get("seed_offset", 0)  # JSON of older runs: seeds from 0
        return f"`{s['dataset']}`, {s['epochs']} epochs, seeds {first}-{first + s['seeds'] - 1}"

    negatives = next(iter(out["settings"].values()), {}).get("negatives", args.negatives)
    parts = [
        f"PhyLL (`--rule phyll --rule-param negatives={negatives}`, other options at the"
        " `phyll train` defaults; lens with `--labels digital`); trained controls: " + "; ".join(
            f"{s} `{' '.join(f'--param {k}={v}' for k, v in p.items())}"
            f" {' '.join(f'--rule-param {k}={v}' for k, v in r.items())}`"
            for s, (p, r) in systems.items()
        ) + "; frozen controls: the same system parameters with `physics=none`. Phase masks"
        " start at pi on every pixel (a global phase: the system's own outputs, checked), so"
        " that steps of both signs stay in the domain. Physical queries count the rows of"
        " training only.",
    ]
    if out["accuracy"]:
        parts.append(f"Trained against frozen controls ({setting('accuracy')}):")
        parts.append(accuracy_table(out["accuracy"]))
    if out["widths"]:
        parts.append(f"Digital work at smaller block widths (`--width`; {setting('widths')}):")
        parts.append(width_table(out["widths"], out["accuracy"]))
    if out["drift"]:
        d = out["settings"].get("drift") or vars(args)
        parts.append(
            f"Drift (microwave, `perturb({d['drift']})` after epoch {d['drift_at']}; epochs"
            f" counted after the drift, 0 = right after it; {setting('drift')}):"
        )
        parts.append(drift_table(out["drift"], d["drift_at"]))
    if out.get("leverage"):
        parts.append(
            f"Leverage of the controls: frozen controls at random settings (setting 0: the"
            f" system's own; {setting('leverage')} but seed 0 only):"
        )
        lines = ["| system | test accuracy per setting (%) | spread (max - min) |", "|---|---|---|"]
        for system, runs in out["leverage"].items():
            acc = [100 * r["accuracy"] for r in runs]
            lines.append(
                f"| {system} | {', '.join(f'{a:.1f}' for a in acc)} | {max(acc) - min(acc):.1f} |"
            )
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
