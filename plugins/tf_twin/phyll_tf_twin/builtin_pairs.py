"""Measured pairs shipped with the plugin: ``--pairs-source acoustic-cavity``.

``acoustic-cavity`` is the measurement of the published PhyLL acoustic experiment (Momeni et al.,
Science 382, 1297, 2023; MIT licence, see ``data/LICENSE-acoustic-cavity.txt``): 8,000 drive
vectors of 20 values in [0, 1) and the 20 spectral magnitudes the real cavity answered.

Storage is exact and compact: the measurement was published as decimal text with at most five
significant digits, so each value is kept as an integer mantissa ``m`` and a number of decimals
``k`` (value = ``m / 10**k``) in one compressed ``.npz`` (0.9 MB instead of 2.7 MB of CSV).
Dividing two exactly representable doubles is correctly rounded, so the decoded float64 arrays
are bit for bit what parsing the published CSV gives (float32 would change every value by up
to 6e-8 relative).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from importlib.resources import as_file, files
from pathlib import Path

import numpy as np

from phyll_core.errors import UnknownNameError
from phyll_tf_twin.data import Pairs, _sha256, parse_rows

#: name -> (file in ``phyll_tf_twin/data``, one-line description)
SOURCES: dict[str, tuple[str, str]] = {
    "acoustic-cavity": (
        "acoustic_cavity.npz",
        "8,000 measured pairs (20 inputs -> 20 outputs) of the published chaotic acoustic cavity",
    ),
}


def encode_decimal(rows: Iterable[Iterable[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Decimal text cells -> (int64 mantissas, uint8 decimals) with value = m / 10**k."""
    mantissa: list[list[int]] = []
    decimals: list[list[int]] = []
    for row in rows:
        ms, ks = [], []
        for cell in row:
            sign, digits, exponent = Decimal(cell.strip()).as_tuple()
            assert isinstance(exponent, int), cell  # finite numbers only
            m = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
            if exponent > 0:
                m, exponent = m * 10**exponent, 0
            ms.append(m)
            ks.append(-exponent)
        mantissa.append(ms)
        decimals.append(ks)
    return np.array(mantissa, dtype=np.int64), np.array(decimals, dtype=np.uint8)


def decode_decimal(mantissa: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    """Float64 values ``mantissa / 10**decimals`` (correctly rounded, like parsing the text)."""
    return mantissa.astype(np.float64) / np.power(10.0, decimals.astype(np.float64))


def pack_csv_pairs(inputs_csv: Path, outputs_csv: Path, out: Path) -> None:
    """Write the exact compact form of two header-less CSV files (how the shipped file was
    made from ``inputs.csv`` and ``outputs.csv`` of the measurement)."""
    arrays = {}
    for key, path in (("inputs", inputs_csv), ("outputs", outputs_csv)):
        lines = Path(path).read_text(encoding="utf-8").split()
        m, k = encode_decimal(line.split(",") for line in lines)
        narrow = np.int32 if np.abs(m).max() < 2**31 else np.int64
        arrays[f"{key}_mantissa"], arrays[f"{key}_decimals"] = m.astype(narrow), k
    np.savez_compressed(out, **arrays)


def load_builtin_pairs(name: str, rows: str | None = None) -> Pairs:
    """The shipped pairs ``name`` (see :data:`SOURCES`), optionally a ``START:STOP`` range of
    rows; raises :class:`UnknownNameError` for another name."""
    if name not in SOURCES:
        raise UnknownNameError("pairs source", name, SOURCES)
    filename = SOURCES[name][0]
    with as_file(files("phyll_tf_twin") / "data" / filename) as path:
        with np.load(path, allow_pickle=False) as data:
            x = decode_decimal(data["inputs_mantissa"], data["inputs_decimals"])
            y = decode_decimal(data["outputs_mantissa"], data["outputs_decimals"])
        digest = _sha256(Path(path))
    selected = parse_rows(rows, x.shape[0])
    source = {
        "kind": "builtin-pairs",
        "name": name,
        "files": [filename],
        "sha256": [digest],
        "rows": [selected.start, selected.stop],
        "total_rows": int(x.shape[0]),
    }
    return Pairs(x[selected].copy(), y[selected].copy(), source)
