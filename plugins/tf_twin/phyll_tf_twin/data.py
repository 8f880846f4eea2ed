"""Where a twin's (input, output) pairs come from: measured files or queries of a system.

Files are read by :func:`phyll_core.hardware.pairs.load_pairs`, so a twin accepts exactly what
``phyll record`` writes and what a lab already has:

- two header-less (or one-header-line) CSV files, one row per measurement, row ``i`` of the
  outputs answering row ``i`` of the inputs (the layout of the measured acoustic cavity);
- one ``.npz`` archive with float arrays ``inputs`` (n, input_dim) and ``outputs``
  (n, output_dim) (what ``phyll record --out FILE.npz`` writes), or two ``.npz`` files holding one
  array each;
- ``NAME.csv`` standing for ``NAME.inputs.csv`` + ``NAME.outputs.csv`` (``phyll record --out
  NAME.csv``), or a measurement log ``.jsonl``.

Every problem (missing file, different lengths, NaN or inf, not numeric) is a
:class:`~phyll_core.errors.DatasetError` naming the file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from phyll_core.domain import Binary, Domain, Interval
from phyll_core.errors import DatasetError, PhyllError

PathLike = str | os.PathLike[str]
QUERY_CHUNK = 1024


@attrs.frozen
class Pairs:
    """Float64 ``inputs`` (n, input_dim) and ``outputs`` (n, output_dim), plus a JSON-able
    description of where they came from (``source``)."""

    inputs: np.ndarray
    outputs: np.ndarray
    source: dict[str, Any]

    @property
    def rows(self) -> int:
        return int(self.inputs.shape[0])


def parse_rows(text: str | None, n: int) -> slice:
    """Parse ``START:STOP`` (Python slice syntax, either end optional, negatives count from the
    end) into a slice of ``n`` rows that keeps at least one row."""
    if text is None or not text.strip():
        return slice(0, n)
    start_text, sep, stop_text = text.partition(":")
    try:
        if not sep:
            raise ValueError(text)
        start = int(start_text) if start_text.strip() else None
        stop = int(stop_text) if stop_text.strip() else None
    except ValueError:
        raise PhyllError(
            f"--rows expects START:STOP (e.g. 0:7000 or 7000:), got {text!r}"
        ) from None
    rows = slice(start, stop).indices(n)
    if rows[1] - rows[0] < 1:
        raise PhyllError(f"--rows {text} selects no row of the {n} available")
    return slice(rows[0], rows[1])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_pair_files(
    inputs: PathLike, outputs: PathLike | None = None, rows: str | None = None
) -> Pairs:
    """Read measured pairs (see the module docstring for the layouts); ``rows`` (``START:STOP``)
    keeps a contiguous range of rows, e.g. the first 7,000 for fitting and the rest for
    evaluation."""
    from phyll_core.hardware.pairs import load_pairs

    try:
        x, y = load_pairs(inputs, outputs)
    except EOFError:  # numpy's answer to an empty or truncated .npz
        raise DatasetError(f"{inputs}: empty or truncated file") from None
    if x.shape[0] == 0:
        raise DatasetError(f"{inputs}: no rows")
    selected = parse_rows(rows, x.shape[0])
    files = [Path(inputs)] if outputs is None else [Path(inputs), Path(outputs)]
    if outputs is None and not files[0].is_file() and files[0].suffix.lower() == ".csv":
        from phyll_core.hardware.pairs import pair_paths

        files = pair_paths(files[0])  # NAME.csv stands for NAME.inputs.csv + NAME.outputs.csv
    source = {
        "kind": "pairs",
        "files": [str(p.resolve()) for p in files],
        "sha256": [_sha256(p) for p in files if p.is_file()],
        "rows": [selected.start, selected.stop],
        "total_rows": int(x.shape[0]),
    }
    return Pairs(x[selected].copy(), y[selected].copy(), source)


def query_system(
    name: str,
    params: Mapping[str, Any] | Iterable[str] | None,
    samples: int,
    seed: int = 0,
) -> tuple[Pairs, Domain]:
    """Build the registered system ``name`` and query it with ``samples`` inputs drawn uniformly
    from its domain with ``seed``; return the pairs and the system's domain."""
    from phyll_core.factory import build_system

    system = build_system(name, params)
    return sample_system(system, samples, seed, name=name), system.domain


def sample_system(system: Any, samples: int, seed: int = 0, name: str | None = None) -> Pairs:
    """Query an already built system with ``samples`` uniform inputs from its domain (in chunks
    of at most 1,024 rows; each chunk is one counted physical query)."""
    if samples < 2:
        raise PhyllError(f"a twin needs at least 2 samples, got {samples}")
    rng = np.random.default_rng(seed)
    x = system.domain.sample(rng, (samples, system.input_dim))
    y = np.vstack([system.forward(x[i : i + QUERY_CHUNK]) for i in range(0, samples, QUERY_CHUNK)])
    params = {
        k: v for k, v in system.params.items() if isinstance(v, str | int | float | bool | None)
    }
    source = {
        "kind": "system",
        "system": name or system.name,
        "params": params,
        "samples": int(samples),
        "seed": int(seed),
    }
    return Pairs(x, y, source)


def infer_domain(inputs: np.ndarray) -> Domain:
    """The input domain of measured pairs: binary when every value is 0 or 1, ``[0, 1]`` when
    the values lie there, otherwise the range of the data."""
    if np.all((inputs == 0) | (inputs == 1)):
        return Binary()
    low, high = float(inputs.min()), float(inputs.max())
    if low >= 0.0 and high <= 1.0:
        return Interval(0.0, 1.0)
    if high <= low:
        raise DatasetError(f"every input equals {low:g}: the twin would learn nothing")
    return Interval(low, high)


def parse_domain(text: str) -> Domain:
    """``binary`` or ``LOW,HIGH`` (the ``--domain`` option)."""
    if text.strip().lower() == "binary":
        return Binary()
    try:
        low, high = (float(v) for v in text.split(","))
        return Interval(low, high)
    except ValueError:
        raise PhyllError(
            f"--domain expects 'binary' or LOW,HIGH (e.g. 0,1), got {text!r}"
        ) from None


def domain_to_json(domain: Domain) -> dict[str, Any]:
    if isinstance(domain, Binary):
        return {"kind": "binary"}
    if isinstance(domain, Interval):
        return {"kind": "interval", "low": domain.low, "high": domain.high}
    raise PhyllError(f"a twin cannot record the domain {domain!r}")


def domain_from_json(data: Mapping[str, Any]) -> Domain:
    kind = data.get("kind")
    if kind == "binary":
        return Binary()
    if kind == "interval":
        return Interval(float(data["low"]), float(data["high"]))
    raise PhyllError(f"unknown domain kind {kind!r} in twin metadata")


def check_against(pairs: Pairs, input_dim: int, output_dim: int, what: str) -> None:
    """Refuse pairs whose widths differ from a twin's (``what`` names the twin)."""
    nx, ny = pairs.inputs.shape[1], pairs.outputs.shape[1]
    if (nx, ny) != (input_dim, output_dim):
        raise DatasetError(
            f"{what} maps {input_dim} inputs to {output_dim} outputs, but the pairs have"
            f" {nx} input and {ny} output columns"
        )
