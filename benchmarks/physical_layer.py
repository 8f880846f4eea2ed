"""Does a physical layer carry the information a task needs? Measurements without training.

For each system, the first block's physical layer (adapter, encoder, system, output
standardisation, exactly as the engine builds it) is applied to a dataset's standardised
features, and the script prints:

- the effective dimension of the outputs: principal components for 90 % and 99 % of the
  variance, and the number of output pairs correlated above 0.99;
- the test accuracy of a linear (logistic-regression) readout on ``S(P(enc(x)))`` alone and on
  ``[S(P(enc(x))), x]`` (the skip concatenation), beside the same for ``identity``: the physics
  gain a linear layer can see;
- for comparison, the readout on ``x`` alone.

Usage (a few minutes; ``--inputs fit`` builds each system with as many inputs as the data
has features when its spec allows it)::

    python benchmarks/physical_layer.py --dataset mnist1d --systems identity,optical
    python benchmarks/physical_layer.py --encoder magnitude --no-standardise
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section


def effective_dimension(y: np.ndarray) -> tuple[int, int, int]:
    """(PCs for 90 %, PCs for 99 % of the variance, pairs of columns correlated above 0.99)."""
    yc = y - y.mean(axis=0)
    s = np.linalg.svd(yc, compute_uv=False) ** 2
    frac = np.cumsum(s) / max(s.sum(), 1e-300)
    k90, k99 = int(np.searchsorted(frac, 0.90) + 1), int(np.searchsorted(frac, 0.99) + 1)
    sd = yc.std(axis=0)
    live = sd > 1e-9 * max(1.0, float(sd.max(initial=0.0)))
    c = np.corrcoef(yc[:, live].T) if live.sum() > 1 else np.ones((1, 1))
    pairs = int((np.abs(np.triu(c, 1)) > 0.99).sum())
    return k90, k99, pairs


def readout(f_train: np.ndarray, y_train: np.ndarray, f_test: np.ndarray, y_test: np.ndarray
            ) -> float:
    """Test accuracy of a standardised logistic regression."""
    from sklearn.linear_model import LogisticRegression

    m, s = f_train.mean(axis=0), f_train.std(axis=0) + 1e-12
    clf = LogisticRegression(max_iter=3000).fit((f_train - m) / s, y_train)
    return float(clf.score((f_test - m) / s, y_test))


def main() -> None:
    from phyll_core.datasets import load, split
    from phyll_core.engine.network import PhysicalLayer
    from phyll_core.engine.trainer import blas_limit
    from phyll_core.factory import build_system

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="mnist1d")
    ap.add_argument("--systems", default="identity,random-features,acoustic,microwave,optical")
    ap.add_argument("--encoder", default="offset")
    ap.add_argument("--no-standardise", action="store_true")
    ap.add_argument("--inputs", default="default", help="default, fit, or a number")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true", help="print only")
    a = ap.parse_args()
    d = split(load(a.dataset), a.seed, 0.2)
    n_in = d.x_train.shape[1]
    base = readout(d.x_train, d.y_train, d.x_test, d.y_test)
    print(f"dataset {a.dataset}: {d.x_train.shape[0]} train rows, {n_in} features;"
          f" encoder {a.encoder}, standardise {not a.no_standardise}, inputs {a.inputs}")
    print(f"readout on x alone: {base:.3f}")
    print(f"{'system':16s} {'in':>4s} {'out':>4s} {'pc90':>5s} {'pc99':>5s} {'r>.99':>6s}"
          f" {'P':>6s} {'[P,x]':>6s} {'s':>5s}")
    rows = []
    with blas_limit():
        for name in a.systems.split(","):
            params: dict[str, int] = {}
            if a.inputs != "default":
                width = n_in if a.inputs == "fit" else int(a.inputs)
                params = {"dim": width} if name == "identity" else {"inputs": width}
            t = time.perf_counter()
            system = build_system(name, params)
            layer = PhysicalLayer.build(system, n_in, np.random.default_rng([a.seed, 1, 0]),
                                        encoder=a.encoder, standardise=not a.no_standardise)
            p_train = layer.forward(d.x_train, calibrate=True)
            p_test = layer.forward(d.x_test)
            k90, k99, pairs = effective_dimension(p_train)
            acc_p = readout(p_train, d.y_train, p_test, d.y_test)
            acc_px = readout(np.hstack([p_train, d.x_train]), d.y_train,
                             np.hstack([p_test, d.x_test]), d.y_test)
            print(f"{name:16s} {system.input_dim:4d} {system.output_dim:4d} {k90:5d} {k99:5d}"
                  f" {pairs:6d} {acc_p:6.3f} {acc_px:6.3f} {time.perf_counter() - t:5.1f}",
                  flush=True)
            rows.append(f"| {name} | {system.input_dim} | {system.output_dim} | {k90} | {k99} |"
                        f" {pairs} | {100 * acc_p:.1f} | {100 * acc_px:.1f} |")
    if not a.no_write:
        write_section(
            f"physical-layer-{a.dataset}-{a.inputs}",
            f"What the first physical layer carries on {a.dataset} (inputs: {a.inputs})",
            f"Encoder `{a.encoder}`, outputs standardised: {not a.no_standardise}. Principal"
            " components for 90/99 % of the output variance, output pairs correlated above 0.99,"
            " and the test accuracy (%) of a logistic-regression readout on the physical"
            f" outputs `P` alone and on `[P, x]`; on `x` alone: {100 * base:.1f} %.\n\n"
            "| system | in | out | PCs 90 % | PCs 99 % | pairs r > 0.99 | readout on P |"
            " readout on [P, x] |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n"
            + "\n".join(rows),
        )


if __name__ == "__main__":
    main()
