"""In-situ training of physical controls: trained against frozen controls, over seeds.

Figures (docs/results.md section ``in-situ``):

1. accuracy of PhyLL on a dataset through microwave (control meta-atoms, ``physics=search``),
   optical (SLM phase mask on the fibre's input, ``physics=spsa``) and lens (SLM phase per
   pixel, ``physics=spsa``, ``--labels digital``), trained vs frozen controls, with the
   physical queries of each (the extra rows of the control updates counted separately); the
   rule's negatives are ``phyll train``'s (``--negatives``), ``--trained K=V`` overrides the
   trained variant's rule parameters (tuning);
2. digital work: the trained-controls run at smaller block widths against the frozen run at
   the full width (digital FLOPs at equal accuracy);
3. drift (microwave): after ``--drift-at`` epochs the cavity is perturbed; test accuracy per
   epoch afterwards, trained vs frozen controls, and the epochs each needs to come back within 2
   points of its pre-drift accuracy;
4. leverage: seed 0 with frozen controls at random settings, uniform over the domain or
   (``--spread``) near the system's own setting: how far the controls can move accuracy at all.

Every run is ``phyll train`` with the options printed in the section (``--eval-every`` large:
only the test accuracy after the last epoch is measured, with the rule's default prediction).

    python benchmarks/in_situ.py --systems lens,optical --parts accuracy
    python benchmarks/in_situ.py --systems lens --parts leverage --leverage 5 --spread 0.05
    python benchmarks/in_situ.py --quick      # 1 seed, 2 epochs, digits: a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from phyll_core.domain import Interval

sys.path.insert(0, str(Path(__file__).resolve().parent))

from in_situ_report import report

SYSTEMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # system: (system params, rule params of the trained variant)
    "microwave": ({"control_atoms": 20}, {"physics": "search", "physics_flips": 2}),
    # SPSA settings: the best of a small grid on seed 0 at the phyll train defaults
    # (docs/results.md, section in-situ)
    "optical": ({"phase_mask": True}, {"physics": "spsa", "physics_lr": 0.002,
                                       "physics_perturbation": 0.01}),
    "lens": ({"phase_mask": True}, {"physics": "spsa", "physics_lr": 0.0025,
                                    "physics_perturbation": 0.02}),
}
LABELS = {"lens": "digital"}
"""``--labels`` of each system: the lens is documented, and beats identity, with digital labels;
the others keep ``physical`` (the default of ``phyll train`` when this benchmark was first run),
so that their figures stay comparable across rounds."""


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
    the estimator can step both ways (from 0, the domain's edge, every step below was clipped
    before phase controls were declared periodic; now such steps wrap around ``2 pi``)."""
    for s in run.unique_systems():
        spec = s.controls
        if spec is None or not isinstance(spec.domain, Interval):
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
    if isinstance(spec.domain, Interval):
        low, high = spec.domain.low, spec.domain.high
        return np.clip(theta + spread * (high - low) * rng.standard_normal(theta.shape), low, high)
    flip = rng.random(theta.shape) < spread
    return np.where(flip, 1.0 - theta, theta)


def output_change(system: str, params: dict[str, Any], settings: int = 3) -> list[float]:
    """``|y - y0| / |y0 - mean(y0)|`` for 64 random inputs: outputs ``y`` at uniform random
    control settings against ``y0`` at the system's own, relative to how much the inputs move
    the outputs."""
    from phyll_core.factory import build_system

    s = build_system(system, params)
    x = s.domain.sample(np.random.default_rng(1), (64, s.input_dim))
    y0, own, spec = s.forward(x), s.get_controls(), s.controls
    change = []
    for k in range(1, settings + 1):
        s.set_controls(spec.domain.sample(np.random.default_rng([k, 5]), spec.shape))
        change.append(float(np.linalg.norm(s.forward(x) - y0) / np.linalg.norm(y0 - y0.mean(0))))
    s.set_controls(own)
    return change


def change(spec: Any, d: np.ndarray) -> np.ndarray:
    """A change ``d`` of controls; for periodic ones the shortest way round (``|d| <= w/2``)."""
    if not getattr(spec, "periodic", False):
        return d
    w = spec.domain.high - spec.domain.low
    return np.mod(d + 0.5 * w, w) - 0.5 * w


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
    setup = run.physical_queries  # centre_start's check: not training
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
        queries, control = run.physical_queries - setup, run.control_queries
        moved = [  # RMS change of each block's controls over training
            float(np.sqrt(np.mean(change(b.controls.spec, b.controls.theta - start_theta[i]) ** 2)))
            for i, b in enumerate(getattr(run.rule, "blocks", [])) if b.controls is not None
        ]
        flops = run.rule.total_flops()
        accuracy = test_accuracy() if not drift else curve[-1]
    return {
        "accuracy": accuracy, "queries": queries, "control_queries": control,
        "flops": flops, "seconds": time.perf_counter() - start, "curve": curve,
        "moved": moved,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist1d")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed-offset", type=int, default=0, help="first seed (split runs)")
    parser.add_argument("--epochs", type=int, default=60, help="default: phyll train's")
    parser.add_argument("--systems", default="lens,optical,microwave")
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
        help="start phase controls at 0 (the domain's end; periodic: steps below wrap to"
        " 2 pi) instead of pi (the same optics)",
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
            "seed_offset": args.seed_offset, "drift": args.drift, "drift_at": args.drift_at,
            "spread": args.spread, "negatives": args.negatives,
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
    if "outputs" in parts:  # no training: how far the controls move the outputs
        for system in systems:
            change = output_change(system, SYSTEMS[system][0])
            print(f"{system}: output change at 3 random control settings (over the outputs'"
                  f" spread across inputs): {', '.join(f'{c:.2f}' for c in change)}")
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
    body = report(out, args, SYSTEMS)
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
    body = report(out, args, SYSTEMS)
    print(body)
    if not args.no_write:
        from results import write_section

        write_section("in-situ", "In-situ training of physical controls", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
