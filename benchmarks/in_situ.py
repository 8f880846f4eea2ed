"""In-situ training of physical controls: trained against frozen controls, over seeds.

Figures (docs/results.md section ``in-situ``):

1. accuracy of PhyLL on a dataset through microwave (control meta-atoms, ``physics=search``)
   and optical (SLM phase mask, ``physics=spsa``), trained vs frozen controls, with the
   physical queries of each (the extra rows of the control updates counted separately);
2. digital work: the trained-controls run at smaller block widths against the frozen run at
   the full width (digital FLOPs at equal accuracy);
3. drift (microwave): after ``--drift-at`` epochs the cavity is perturbed; test accuracy per
   epoch afterwards, trained vs frozen controls, and the epochs each needs to come back within 2
   points of its pre-drift accuracy.

Every run is ``phyll train`` with the options printed in the section (``--eval-every`` large:
only the test accuracy after the last epoch is measured, with the rule's default prediction).

    python benchmarks/in_situ.py --dataset mnist1d --seeds 5 --epochs 10
    python benchmarks/in_situ.py --quick      # 1 seed, 2 epochs, digits: a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SYSTEMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # system: (system params, rule params of the trained variant)
    "microwave": ({"control_atoms": 20}, {"physics": "search", "physics_flips": 2}),
    "optical": ({"phase_mask": True}, {"physics": "spsa", "physics_lr": 0.005,
                                       "physics_perturbation": 0.1}),
    "lens": ({"phase_mask": True}, {"physics": "spsa", "physics_lr": 0.005,
                                    "physics_perturbation": 0.1}),
}
LABELS = {"lens": "digital"}
"""``--labels`` of each system (the lens is documented, and beats identity, with digital labels;
the others use the default of ``phyll train``)."""


def parse_value(text: str) -> Any:
    """``K=V`` values: int, float, bool or str."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def centre_start(run: Any) -> None:
    """Start interval phase controls at the middle of their domain (pi): for a phase mask a
    constant phase on every pixel is a global phase of the field, which a camera reading a
    modulus does not see (checked here on a batch), so this is the system's own setting, but
    the estimator can step both ways (from 0, the domain's edge, every step below is clipped)."""
    for s in run.unique_systems():
        spec = s.controls
        if spec is None or not hasattr(spec.domain, "high"):
            continue
        x = s.domain.sample(np.random.default_rng(0), (8, s.input_dim))
        before = s.forward(x)
        s.set_controls(np.full(spec.shape, 0.5 * (spec.domain.low + spec.domain.high)))
        if not np.allclose(s.forward(x), before, rtol=1e-5, atol=1e-6):
            raise SystemExit(f"{s.name}: a constant control offset changes the outputs")
    sync_blocks(run)


def random_setting(system: Any, k: int, spread: float) -> np.ndarray:
    """Random setting ``k`` of ``system``'s controls: uniform over the domain (``spread`` 0),
    or near the present setting: plus Gaussian noise of std ``spread`` x the domain width
    (interval; clipped) or each bit flipped with probability ``spread`` (binary)."""
    spec, rng = system.controls, np.random.default_rng([k, 5])
    if spread <= 0:
        return np.asarray(spec.domain.sample(rng, spec.shape), dtype=np.float64)
    theta = system.get_controls()
    if hasattr(spec.domain, "high"):
        low, high = spec.domain.low, spec.domain.high
        return np.clip(theta + spread * (high - low) * rng.standard_normal(theta.shape), low, high)
    flip = rng.random(theta.shape) < spread
    return np.where(flip, 1.0 - theta, theta)


def sync_blocks(run: Any) -> None:
    """Blocks with trained controls start from what their system now holds."""
    for block in getattr(run.rule, "blocks", []):
        if block.controls is not None:
            block.controls.theta = block.system.get_controls()


def run_one(
    system: str,
    params: dict[str, Any],
    rule_params: dict[str, Any],
    seed: int,
    epochs: int,
    dataset: str,
    width: int = 64,
    drift: float = 0.0,
    drift_at: int = 0,
    batch_size: int = 0,
    initial: int = 0,
    labels: str = "physical",
    centre: bool = True,
    spread: float = 0.0,
) -> dict[str, Any]:
    """Train one run; return test accuracy (after every epoch from ``drift_at`` on when
    ``drift`` > 0), physical and control queries, digital FLOPs and seconds."""
    from phyll_core.engine import Run, TrainConfig
    from phyll_core.engine.trainer import blas_limit

    config = TrainConfig(
        system=[system], dataset=dataset, params=params, rule_params=rule_params, seed=seed,
        epochs=10**6, eval_every=10**6, width=width, batch_size=batch_size, labels=labels,
    )
    run = Run(config)
    if centre:
        centre_start(run)
    if initial:  # start from a seeded random control setting instead of the system's own
        for s in run.unique_systems():
            spec = s.controls
            if spec is not None:
                s.set_controls(random_setting(s, initial, spread))
        sync_blocks(run)
    start_theta = [b.system.get_controls() for b in getattr(run.rule, "blocks", [])]
    start = time.perf_counter()

    def test_accuracy() -> float:
        d = run.data
        x = d.x_test.astype(getattr(config, "dtype", "float64"))
        return float(np.mean(run.rule.predict(x, run.method) == d.y_test))

    curve: list[float] = []
    with blas_limit():
        for epoch in range(1, epochs + 1):
            run.train_epoch()
            if drift and epoch == drift_at:
                curve.append(test_accuracy())  # before the drift
                rng = np.random.default_rng([seed, 99])
                for s in run.unique_systems():
                    s.perturb(drift, rng)
                curve.append(test_accuracy())  # right after it
            elif drift and epoch > drift_at:
                curve.append(test_accuracy())
        # queries of training only (the evaluation passes are the same for every variant)
        queries, control = run.physical_queries, run.control_queries
        moved = [  # RMS change of each block's controls over training
            float(np.sqrt(np.mean((b.controls.theta - start_theta[i]) ** 2)))
            for i, b in enumerate(getattr(run.rule, "blocks", [])) if b.controls is not None
        ]
        flops = run.rule.total_flops()
        accuracy = test_accuracy() if not drift else curve[-1]
    return {
        "accuracy": accuracy, "queries": queries, "control_queries": control,
        "flops": flops, "seconds": time.perf_counter() - start, "curve": curve,
        "moved": moved,
    }


def _stats(values: list[float]) -> str:
    mean = statistics.fmean(values)
    std = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{100 * mean:.1f} ± {100 * std:.1f}"


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
                f"| {system} | {label} | {_stats(acc)} | {gain:+.1f} | {q:,.0f} | {cq:,.0f} |"
                f" {q / fq:.2f}x |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist1d")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed-offset", type=int, default=0, help="first seed (split runs)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--systems", default="microwave,optical")
    parser.add_argument("--widths", default="", help="smaller widths, e.g. 16,32")
    parser.add_argument("--drift", type=float, default=0.0, help="microwave drift strength")
    parser.add_argument("--drift-at", type=int, default=0)
    parser.add_argument("--parts", default="accuracy,widths,drift")
    parser.add_argument(
        "--leverage", type=int, default=0,
        help="part 'leverage': seed 0 with frozen controls at N random settings",
    )
    parser.add_argument(
        "--spread", type=float, default=0.0,
        help="leverage settings near the system's own: noise std as a fraction of the domain"
        " (binary: flip probability); 0: uniform over the domain",
    )
    parser.add_argument(
        "--negatives", default="hardest", help="PhyLL negatives (default: phyll train's)"
    )
    parser.add_argument(
        "--trained", action="append", default=[], metavar="K=V",
        help="override a rule parameter of the trained variant (e.g. physics_lr=0.01)",
    )
    parser.add_argument(
        "--no-centre", action="store_true",
        help="start phase controls at 0 (the domain's edge) instead of pi (the same optics)",
    )
    parser.add_argument(
        "--variants", default="frozen,trained", help="accuracy part: which variants to run"
    )
    parser.add_argument("--json-out", default="", help="also write all runs to this JSON file")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/results.md")
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs, digits")
    parser.add_argument(
        "--from-json", default="", help="A.json,B.json: write the section from earlier runs"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args.quick:
        args.dataset, args.seeds, args.epochs, args.no_write = "digits", 1, 2, True
    parts = set(args.parts.split(","))
    systems = [s for s in args.systems.split(",") if s]
    seeds = range(args.seed_offset, args.seed_offset + args.seeds)
    base_rule = {"negatives": args.negatives}
    for item in args.trained:
        key, _, value = item.partition("=")
        for system in systems:
            SYSTEMS[system][1][key] = parse_value(value)
    centre = not args.no_centre
    out: dict[str, Any] = {
        "accuracy": {}, "widths": {}, "drift": {}, "leverage": {}, "settings": {}
    }
    for part in ("accuracy", "widths", "drift", "leverage"):
        out["settings"][part] = {
            "dataset": args.dataset, "epochs": args.epochs, "seeds": args.seeds,
            "drift": args.drift, "drift_at": args.drift_at, "spread": args.spread,
            "negatives": args.negatives,
        }
    if args.from_json:
        return write_from(args.from_json.split(","), args)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if "accuracy" in parts:
        for system in systems:
            params, trained = SYSTEMS[system]
            by: dict[str, list[dict[str, Any]]] = {"frozen": [], "trained": []}
            for seed in seeds:
                for label, rp in (("frozen", {}), ("trained", trained)):
                    if label not in args.variants.split(","):
                        continue
                    r = run_one(system, params, {**base_rule, **rp}, seed, args.epochs,
                                args.dataset, labels=LABELS.get(system, "physical"),
                                centre=centre)
                    by[label].append(r)
                    log(f"{system} {label} seed {seed}: {100 * r['accuracy']:.1f} %"
                        f" ({r['seconds']:.0f} s, queries {r['queries']:,},"
                        f" controls moved {[round(m, 3) for m in r['moved']]})")
            out["accuracy"][system] = by
    if "widths" in parts and args.widths:
        for system in systems:
            params, trained = SYSTEMS[system]
            out["widths"][system] = {}
            for width in (int(w) for w in args.widths.split(",")):
                for label, rp in (("frozen", {}), ("trained", trained)):
                    runs = []
                    for seed in seeds:
                        r = run_one(system, params, {**base_rule, **rp}, seed, args.epochs,
                                    args.dataset, width=width,
                                    labels=LABELS.get(system, "physical"), centre=centre)
                        runs.append(r)
                        log(f"{system} {label} width {width} seed {seed}:"
                            f" {100 * r['accuracy']:.1f} %")
                    out["widths"][system][f"{label}@{width}"] = runs
    if "leverage" in parts and args.leverage:
        for system in systems:
            params, _ = SYSTEMS[system]
            runs = []
            for k in range(args.leverage):
                r = run_one(system, params, base_rule, 0, args.epochs, args.dataset, initial=k,
                            labels=LABELS.get(system, "physical"), centre=centre,
                            spread=args.spread)
                runs.append(r)
                log(f"{system} frozen at setting {k}: {100 * r['accuracy']:.1f} %")
            out["leverage"][system] = runs
    if "drift" in parts and args.drift > 0:
        params, trained = SYSTEMS["microwave"]
        by = {"frozen": [], "trained": []}
        for seed in seeds:
            for label, rp in (("frozen", {}), ("trained", trained)):
                r = run_one("microwave", params, {**base_rule, **rp}, seed, args.epochs,
                            args.dataset, drift=args.drift, drift_at=args.drift_at,
                            centre=centre)
                by[label].append(r)
                log(f"drift {label} seed {seed}: {[round(100 * a, 1) for a in r['curve']]}")
        out["drift"]["microwave"] = by
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, indent=1))
    body = report(out, args)
    print(body)
    if not args.no_write:
        from results import write_section

        write_section("in-situ", "In-situ training of physical controls", body)
    return 0


def write_from(files: list[str], args: argparse.Namespace) -> int:
    """Merge the parts of earlier ``--json-out`` files (each keeps its own settings) and write
    the section."""
    out: dict[str, Any] = {
        "accuracy": {}, "widths": {}, "drift": {}, "leverage": {}, "settings": {}
    }
    for name in files:
        data = json.loads(Path(name).read_text())
        for part in ("accuracy", "widths", "drift", "leverage"):
            if data.get(part):
                out[part].update(data[part])
                out["settings"][part] = data["settings"][part]
    body = report(out, args)
    print(body)
    if not args.no_write:
        from results import write_section

        write_section("in-situ", "In-situ training of physical controls", body)
    return 0


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
            acc = _stats([r["accuracy"] for r in runs])
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
            f"| {label} | {_stats(list(before))} | {_stats(list(after))} |"
            f" {', '.join(f'{100 * v:.1f}' for v in rest.mean(axis=0))} | {', '.join(back)} |"
        )
    return "\n".join(lines)


def report(out: dict[str, Any], args: argparse.Namespace) -> str:
    def setting(part: str) -> str:
        s = out["settings"].get(part) or vars(args)
        return f"`{s['dataset']}`, {s['epochs']} epochs, seeds 0-{s['seeds'] - 1}"

    negatives = next(iter(out["settings"].values()), {}).get("negatives", args.negatives)
    parts = [
        f"PhyLL (`--rule phyll --rule-param negatives={negatives}`, other options at the"
        " `phyll train` defaults; lens with `--labels digital`); trained controls: " + "; ".join(
            f"{s} `{' '.join(f'--param {k}={v}' for k, v in p.items())}"
            f" {' '.join(f'--rule-param {k}={v}' for k, v in r.items())}`"
            for s, (p, r) in SYSTEMS.items()
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


if __name__ == "__main__":
    raise SystemExit(main())
