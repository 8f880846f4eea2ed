"""The local loss of a block as a function of its physical controls, along random directions.

Why perturbative control training makes little progress inside PhyLL: the block's digital
weights ``W`` adapt to the present controls, so the local loss with ``W`` fixed has a sharp
valley at the present setting. This script trains PhyLL for a few epochs (frozen controls),
then takes block 0 and one batch of positive and negative rows and prints, for steps ``h``
along random Rademacher directions ``delta``, the loss ``L(theta + h delta)`` with ``W`` fixed
and after a refit (the block's ``inner_steps`` Adam steps on the new rows from the same
weights), averaged over the directions, plus the slope at 0 (central difference, ``h = 0.01``).

    python benchmarks/in_situ_landscape.py --system optical --param phase_mask=true --shift 3.1416

``--shift`` adds a constant to every control before stepping, so that steps of both signs stay
in the domain; for the optical phase mask a common phase changes nothing (only relative phases
reach the camera), so the point is the same setting.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

STEPS = (-0.6, -0.3, -0.1, 0.0, 0.1, 0.3, 0.6)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", default="optical")
    parser.add_argument("--param", action="append", default=[], help="NAME=VALUE")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--directions", type=int, default=8)
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--shift", type=float, default=0.0, help="added to every control")
    parser.add_argument("--write", action="store_true", help="append to docs/results.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

    from phyll_core.engine import Run, TrainConfig
    from phyll_core.engine.controls import _restore, _snapshot
    from phyll_core.engine.network import embed
    from phyll_core.engine.trainer import blas_limit
    from phyll_core.params import split_assignments

    params = dict(split_assignments(args.param))
    config = TrainConfig(
        system=[args.system], dataset=args.dataset, params=params, epochs=10**6,
        eval_every=10**6, width=args.width, rule_params={"negatives": "random"},
    )
    run = Run(config)
    block = run.rule.blocks[0]
    spec = block.system.controls
    from phyll_core.domain import Interval

    if spec is None or not isinstance(spec.domain, Interval):
        raise SystemExit(f"system '{args.system}' declares no interval controls with {params}")
    low, high = spec.domain.low, spec.domain.high
    with blas_limit():
        for _ in range(args.epochs):
            run.train_epoch()
        problem = run.problem
        x, y = run.data.x_train[: args.rows], run.data.y_train[: args.rows]
        c, m = problem.n_classes, problem.label_constant
        rng = np.random.default_rng(0)
        wrong = (y + rng.integers(1, c, size=y.size)) % c
        both = np.vstack([embed(x, y, c, m), embed(x, wrong, c, m)])
        n = x.shape[0]
        theta = block.system.get_controls()
        snap = _snapshot(block)

        def losses(t: np.ndarray) -> tuple[float, float]:
            block.system.set_controls(np.clip(t, low, high))
            rows = block.layer.forward(both)
            z = np.hstack([rows, both, np.ones((rows.shape[0], 1), dtype=rows.dtype)])
            fixed = block.local_loss(z[:n], z[n:])
            block.train(z[:n], z[n:])
            refit = block.local_loss(z[:n], z[n:])
            _restore(block, snap)
            return fixed, refit

        table = np.zeros((len(STEPS), 2))
        slopes = []
        for k in range(args.directions):
            delta = np.random.default_rng([1, k]).choice(np.array([-1.0, 1.0]), spec.shape)
            base = theta + args.shift
            for i, h in enumerate(STEPS):
                table[i] += np.array(losses(base + h * delta))
            up, down = losses(base + 0.01 * delta)[0], losses(base - 0.01 * delta)[0]
            slopes.append(abs(up - down) / 0.02)
        table /= args.directions
    lines = [
        f"`{args.system}` {' '.join(args.param)} (controls + {args.shift:g}) on"
        f" `{args.dataset}`, width {args.width}, block 0 after {args.epochs} epochs,"
        f" {args.rows} rows, {args.directions} random directions;"
        f" mean |slope| at 0: {np.mean(slopes):.4f} per unit of h",
        "",
        "| h (domain units) | loss, W fixed | loss after a refit |",
        "|---|---|---|",
        *(f"| {h:+.2f} | {a:.4f} | {b:.4f} |" for h, (a, b) in zip(STEPS, table, strict=True)),
    ]
    body = "\n".join(lines)
    print(body)
    if args.write:
        from results import write_section

        write_section("in-situ-landscape", "Local loss against physical controls", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
