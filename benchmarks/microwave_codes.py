"""Microwave input codes: how the metasurface writes each value, measured through PhyLL.

The backend writes each input value, quantised to ``2^bits`` levels, as ``bits`` meta-atoms in
binary, most significant bit first (published). This experiment swaps in two other codes for
the run (the backend has no such option): ``gray`` (neighbouring levels differ by one bit,
same atoms) and ``thermo`` (a thermometer code: ``bits`` atoms give ``bits + 1`` levels, level
``q`` sets the first ``q`` atoms, so a level's distance is its Hamming distance). One line per
run: goodness train / test, readout test::

    python benchmarks/microwave_codes.py digits --no-skip --codes binary,gray
    python benchmarks/microwave_codes.py digits --no-skip --codes thermo,binary \
        -p atoms=60 -p bits=3
    python benchmarks/microwave_codes.py circles --codes binary,gray --seeds 0,1,2,3,4
"""

from __future__ import annotations

import itertools

import numpy as np
import phyll_microwave.system as microwave
from phyll_microwave.encoding import levels, to_bits
from results import accuracy_text, experiment_parser, trained_run

from phyll_core.datasets import load
from phyll_core.engine.config import TrainConfig


def gray(x: np.ndarray, bits: int) -> np.ndarray:
    """Reflected Gray code of each value's level, ``bits`` columns per value."""
    q = levels(x, bits)
    g = q ^ (q >> 1)
    weights = 2 ** np.arange(bits - 1, -1, -1)
    return ((g[:, :, None] // weights) % 2).reshape(x.shape[0], -1).astype(bool)


def thermo(x: np.ndarray, bits: int) -> np.ndarray:
    """Thermometer code: ``bits + 1`` levels on ``bits`` atoms, level ``q`` lights ``q``."""
    n_levels = bits + 1
    q = np.minimum(np.floor(x * n_levels), n_levels - 1).astype(np.int64)
    return (q[:, :, None] > np.arange(bits)).reshape(x.shape[0], -1)


CODES = {"binary": to_bits, "gray": gray, "thermo": thermo}


def main() -> None:
    ap = experiment_parser(__doc__, systems=False)
    ap.add_argument("--codes", default="binary,gray", help=f"comma-separated: {', '.join(CODES)}")
    ap.add_argument("-p", "--param", action="append", default=[], help="NAME=VALUE")
    ap.add_argument("--no-skip", action="store_true")
    args = ap.parse_args()
    data = load(args.dataset)
    params = dict(item.split("=", 1) for item in args.param)
    for code, seed in itertools.product(args.codes.split(","), map(int, args.seeds.split(","))):
        microwave.to_bits = CODES[code]  # the system module's name for its encoder
        config = TrainConfig(
            system="microwave",
            params=params,
            dataset=args.dataset,
            seed=seed,
            skip=not args.no_skip,
        )
        run = trained_run(config, data)
        print(
            f"{args.dataset} microwave {code} {' '.join(args.param)} seed {seed}:"
            f" {accuracy_text(run)}",
            flush=True,
        )
    microwave.to_bits = to_bits


if __name__ == "__main__":
    main()
