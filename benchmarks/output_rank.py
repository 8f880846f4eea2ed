"""How many independent directions do a system's outputs span? The participation ratio
``(sum l)^2 / sum l^2`` of the eigenvalues ``l`` of the standardised outputs' covariance over
random inputs from the domain (1: one direction; the output width: all equal), and the number
of directions that hold 99 % of the variance.

docs/results.md ("Physics gain, round 4") quotes it for the microwave's frequency points
(add ``--param f_min=0.8 --param f_max=1.2`` for the wider band)::

    python benchmarks/output_rank.py microwave
    python benchmarks/output_rank.py microwave --param frequencies=60
"""

from __future__ import annotations

import argparse

import numpy as np

from phyll_core import build_system
from phyll_core.params import split_assignments


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("system")
    ap.add_argument("--param", action="append", default=[], help="NAME=VALUE of the system")
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    system = build_system(args.system, **split_assignments(args.param))
    x = system.domain.sample(np.random.default_rng(args.seed), (args.rows, system.input_dim))
    y = system.forward(x)
    y = (y - y.mean(axis=0)) / np.maximum(y.std(axis=0), 1e-12)
    eig = np.linalg.svd(y, compute_uv=False) ** 2
    share = eig / eig.sum()
    ratio = 1.0 / float(np.sum(share**2))
    n99 = int(np.searchsorted(np.cumsum(share), 0.99)) + 1
    print(f"{args.system} {' '.join(args.param)}: {y.shape[1]} outputs, participation ratio "
          f"{ratio:.1f}, 99 % of the variance in {n99} directions")


if __name__ == "__main__":
    main()
