"""Block inputs narrower than the system: zero padding (the engine, as published) against a
seeded random projection up to the system's input width (an experiment swapped in for the run).

On circles, block 0 of a 20-input system sees 2 features and 18 padded zeros: the microwave
writes 2 values of 4 levels (16 possible metasurfaces), the acoustic cavity plays 2 of its 20
tones. A projection up spreads the 2 features over every input. One line per run::

    python benchmarks/pad_or_project.py circles acoustic,microwave --seeds 0,1,2,3,4
    python benchmarks/pad_or_project.py vowels acoustic --seeds 0,1,2,3,4 --modes project
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from results import accuracy_text, experiment_parser, trained_run

from phyll_core.datasets import load
from phyll_core.engine.config import TrainConfig
from phyll_core.engine.network import PhysicalLayer

ENGINE_BUILD = PhysicalLayer.build


def projecting_up() -> Any:
    """``PhysicalLayer.build`` that gives narrow inputs a Gaussian projection up
    (entries N(0, 1/width)) instead of zero padding."""

    def build(cls: type[PhysicalLayer], system: Any, in_width: int, rng: Any, *a: Any, **k: Any):
        layer = ENGINE_BUILD.__func__(cls, system, in_width, rng, *a, **k)  # type: ignore[attr-defined]
        if in_width < system.input_dim:
            scale = np.sqrt(in_width)
            layer.projection = rng.standard_normal((in_width, system.input_dim)) / scale
        return layer

    return classmethod(build)


def main() -> None:
    ap = experiment_parser(__doc__)
    ap.add_argument("--modes", default="pad,project", help="comma-separated: pad, project")
    args = ap.parse_args()
    data = load(args.dataset)
    for mode, system, seed in itertools.product(
        args.modes.split(","), args.systems.split(","), map(int, args.seeds.split(","))
    ):
        PhysicalLayer.build = projecting_up() if mode == "project" else ENGINE_BUILD  # type: ignore[method-assign]
        config = TrainConfig(system=system, dataset=args.dataset, seed=seed)
        run = trained_run(config, data)
        print(f"{args.dataset} {system} {mode} seed {seed}: {accuracy_text(run)}", flush=True)
    PhysicalLayer.build = ENGINE_BUILD  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
