"""Do a system's physical features help a network trained end to end? A ceiling for PhyLL.

For each system and seed, the first block's physical layer (adapter, encoder, system, output
standardisation and reduction, exactly as ``phyll train`` builds it, calibrated on the training
split) computes ``P(x)`` once. The engine's ``backprop`` rule (the digital MLP of the same
widths, epochs and optimiser budget as PhyLL's defaults) is then trained on ``x`` alone and on
``[x, P(x)]``: what backpropagation makes of the physics as a fixed feature map; beside it, a
linear classifier (scikit-learn's logistic regression, as ``benchmarks/physical_layer.py``) on
the same features. PhyLL through
the system at the defaults (goodness), and through ``identity``, is trained in the same run on
the same splits (``--no-phyll`` skips it).

If backprop gains nothing from ``P``, the physics adds no information a network of these widths
can use, and a PhyLL network above the backprop MLP would have to come from PhyLL generalising
better than backprop, not from the features.

Usage (mnist1d, six systems, five seeds: about 20 minutes on one core; the microwave's PhyLL
runs are most of it)::

    python benchmarks/feature_ceiling.py mnist1d \
        identity,random-features,acoustic,microwave,optical,lens --seeds 0,1,2,3,4
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from physical_layer import readout
from results import experiment_parser, mean_std, write_section


def physical_features(system: str, data: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``P(x)`` of the training and test rows through block 0's physical layer of ``system``
    (its defaults), calibrated on the training rows."""
    from phyll_core.engine.network import PhysicalLayer
    from phyll_core.factory import build_system

    layer = PhysicalLayer.build(
        build_system(system, {}), data.x_train.shape[1], np.random.default_rng([seed, 1, 0])
    )
    return layer.forward(data.x_train, calibrate=True), layer.forward(data.x_test)


def trained_accuracy(data: Any, **config: Any) -> float:
    """Test accuracy of ``phyll train``'s defaults plus ``config`` (the goodness for PhyLL) on
    ``data`` (already standardised features)."""
    from phyll_core.engine import TrainConfig
    from phyll_core.engine.trainer import Run

    run = Run(TrainConfig(**config), data)
    run.train()
    return float(run.summary()["test_accuracy"])


def with_features(data: Any, f_train: np.ndarray, f_test: np.ndarray) -> Any:
    """``data`` with ``[x, f]`` as its (already standardised) features."""
    import attrs

    x_train, x_test = np.hstack([data.x_train, f_train]), np.hstack([data.x_test, f_test])
    width = x_train.shape[1]
    return attrs.evolve(
        data,
        x_train=x_train,
        x_test=x_test,
        mean=np.zeros(width),
        scale=np.ones(width),
        feature_names=(),
    )


def main() -> None:
    from phyll_core.datasets import load, split
    from phyll_core.engine.trainer import blas_limit

    ap = experiment_parser(__doc__)
    ap.add_argument("--no-phyll", action="store_true", help="backprop columns only")
    ap.add_argument("--no-write", action="store_true", help="print only")
    a = ap.parse_args()
    systems, seeds = a.systems.split(","), [int(s) for s in a.seeds.split(",")]
    dataset = load(a.dataset)
    bp_x: list[float] = []
    lin_x: list[float] = []
    bp_px: dict[str, list[float]] = {s: [] for s in systems}
    lin_px: dict[str, list[float]] = {s: [] for s in systems}
    phyll: dict[str, list[float]] = {s: [] for s in ["identity", *systems]}  # identity once
    with blas_limit():
        for seed in seeds:
            data = split(dataset, seed, 0.2)
            backprop = {
                "system": "identity",
                "dataset": a.dataset,
                "rule": "backprop",
                "seed": seed,
            }
            bp_x.append(trained_accuracy(data, **backprop))
            lin_x.append(readout(data.x_train, data.y_train, data.x_test, data.y_test))
            print(
                f"seed {seed}: backprop on x {100 * bp_x[-1]:.1f}, linear {100 * lin_x[-1]:.1f}",
                flush=True,
            )
            for system in phyll if not a.no_phyll else []:
                phyll[system].append(
                    trained_accuracy(data, system=system, dataset=a.dataset, seed=seed)
                )
                print(f"seed {seed}: phyll {system} {100 * phyll[system][-1]:.1f}", flush=True)
            for system in systems:
                f_train, f_test = physical_features(system, data, seed)
                both = with_features(data, f_train, f_test)
                bp_px[system].append(trained_accuracy(both, **backprop))
                lin_px[system].append(readout(both.x_train, both.y_train, both.x_test, both.y_test))
                print(
                    f"seed {seed}: on [x, P] {system}: backprop {100 * bp_px[system][-1]:.1f},"
                    f" linear {100 * lin_px[system][-1]:.1f}",
                    flush=True,
                )
    rows = []
    for system in systems:
        gain = [p - x for p, x in zip(bp_px[system], bp_x, strict=True)]
        mean_gain = 100 * statistics.fmean(gain)
        row = (
            f"| {system} | {mean_std(bp_x)} | {mean_std(bp_px[system])} | {mean_gain:+.1f} |"
            f" {mean_std(lin_x)} | {mean_std(lin_px[system])} |"
        )
        if not a.no_phyll:
            row += f" {mean_std(phyll[system])} | {mean_std(phyll['identity'])} |"
        rows.append(row)
        print(row, flush=True)
    if a.no_write:
        return
    head = (
        "| system | backprop on x | backprop on [x, P] | gain (points) | linear on x |"
        " linear on [x, P] |"
    )
    rule = "| --- | --- | --- | --- | --- | --- |"
    if not a.no_phyll:
        head += " PhyLL through the system | PhyLL through identity |"
        rule += " --- | --- |"
    write_section(
        f"feature-ceiling-{a.dataset}",
        f"Physical features under backpropagation ({a.dataset})",
        "Test accuracy in %, mean ± std over seeds "
        f"{', '.join(map(str, seeds))}. `P`: block 0's physical layer at the defaults of"
        " `phyll train`, as a fixed feature map (calibrated on the training split);"
        " backprop: the engine's `backprop` rule, a digital MLP of the same widths, epochs and"
        " optimiser budget as PhyLL's defaults. Gain: backprop on `[x, P]` minus backprop on"
        " `x`, paired by seed. Linear: logistic regression (scikit-learn, standardised"
        " features). PhyLL: goodness, `phyll train` defaults, the same splits.\n\n"
        + "\n".join([head, rule, *rows]),
    )


if __name__ == "__main__":
    main()
