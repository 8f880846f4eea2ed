"""Files of measured (input, output) pairs: what ``phyll record`` writes and twins are fit on.

Layouts (chosen by the file extension):

- ``PATH.npz``: one NumPy archive with float64 arrays ``inputs`` (n, input_dim) and
  ``outputs`` (n, output_dim), plus ``meta`` (a JSON string: system, params, seed, ...).
- ``PATH.csv``: two header-less comma-separated files ``PATH.inputs.csv`` and
  ``PATH.outputs.csv``, one row per measurement; row i of the outputs answers row i of the
  inputs. This is the layout of the measured data in ``shared/data/acoustic_cavity``.

:func:`load_pairs` reads either layout (or two explicit files of any kind, or a measurement log
``.jsonl``) and checks that the two arrays fit together.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from phyll_core.errors import DatasetError
from phyll_core.io import atomic_write_bytes, atomic_write_text

PathLike = str | os.PathLike[str]


def pair_paths(out: PathLike) -> list[Path]:
    """The files :func:`save_pairs` writes for ``out``: ``[out]`` for ``.npz``, the inputs and
    outputs CSV files for ``.csv``. Raises DatasetError for other extensions."""
    p = Path(out)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return [p]
    if suffix == ".csv":
        stem = p.with_suffix("").name
        return [p.with_name(f"{stem}.inputs.csv"), p.with_name(f"{stem}.outputs.csv")]
    raise DatasetError(f"pairs file must end in .npz or .csv, got '{p.name}'")


def _check_pairs(inputs: np.ndarray, outputs: np.ndarray, where: str) -> None:
    if inputs.ndim != 2 or outputs.ndim != 2:
        raise DatasetError(
            f"{where}: inputs and outputs must be 2-D (rows, columns); got shapes"
            f" {inputs.shape} and {outputs.shape}"
        )
    if inputs.shape[0] != outputs.shape[0]:
        raise DatasetError(
            f"{where}: {inputs.shape[0]} input rows but {outputs.shape[0]} output rows"
        )
    for label, arr in (("inputs", inputs), ("outputs", outputs)):
        bad = ~np.isfinite(arr)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise DatasetError(f"{where}: {label} row {row} holds NaN or inf")


def save_pairs(
    out: PathLike, inputs: np.ndarray, outputs: np.ndarray, meta: dict[str, Any] | None = None
) -> list[Path]:
    """Write the pairs atomically in the layout chosen by ``out``'s extension (see the module
    docstring); return the paths written. ``meta`` is stored only in NPZ files."""
    x = np.asarray(inputs, dtype=np.float64)
    y = np.asarray(outputs, dtype=np.float64)
    _check_pairs(x, y, str(out))
    paths = pair_paths(out)
    if len(paths) == 1:
        meta_text = json.dumps(meta or {}, default=str)

        def write(fh: Any) -> None:
            np.savez(fh, inputs=x, outputs=y, meta=np.array(meta_text))

        atomic_write_bytes(paths[0], write)
    else:
        for path, arr in zip(paths, (x, y), strict=True):
            atomic_write_text(path, _csv_text(arr))
    return paths


def _csv_text(arr: np.ndarray) -> str:
    buf = io.StringIO()
    np.savetxt(buf, arr, delimiter=",", fmt="%.17g")
    return buf.getvalue()


def load_pairs(inputs: PathLike, outputs: PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load measured pairs and return float64 ``(inputs, outputs)`` arrays.

    - ``load_pairs("run.npz")``: one archive with arrays ``inputs`` and ``outputs``;
    - ``load_pairs("run.csv")``: ``run.inputs.csv`` and ``run.outputs.csv``;
    - ``load_pairs("log.jsonl")``: the measurements of a measurement log;
    - ``load_pairs(A, B)``: inputs from A, outputs from B (CSV with or without a header line, or
      NPZ holding ``inputs``/``outputs`` or a single array); the same NPZ may be given twice.

    Raises DatasetError for missing files, mismatched lengths, NaN/inf or a wrong layout.
    """
    p = Path(inputs)
    if outputs is None:
        suffix = p.suffix.lower()
        if suffix == ".jsonl":
            from phyll_core.hardware.log import read_log

            log = read_log(p)
            x, y = log.inputs, log.outputs
        elif suffix == ".npz":
            x, y = _npz_array(p, "inputs"), _npz_array(p, "outputs")
        elif suffix == ".csv" and not p.exists():
            paths = pair_paths(p)
            x, y = _read_array(paths[0], "inputs"), _read_array(paths[1], "outputs")
        else:
            raise DatasetError(
                f"'{p}' alone does not hold both inputs and outputs; give an .npz or .jsonl"
                " file, a 'NAME.csv' with NAME.inputs.csv and NAME.outputs.csv beside it, or"
                " two files (inputs, outputs)"
            )
        where = str(p)
    else:
        x, y = _read_array(p, "inputs"), _read_array(Path(outputs), "outputs")
        where = f"{p} / {outputs}"
    _check_pairs(x, y, where)
    return x, y


def _read_array(path: Path, key: str) -> np.ndarray:
    if not path.exists():
        raise DatasetError(f"pairs file not found: {path}")
    if path.suffix.lower() == ".npz":
        return _npz_array(path, key)
    return _read_csv(path)


def _npz_array(path: Path, key: str) -> np.ndarray:
    if not path.exists():
        raise DatasetError(f"pairs file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            if key in data.files:
                return np.asarray(data[key], dtype=np.float64)
            arrays = [k for k in data.files if k != "meta"]
            if len(arrays) == 1:
                return np.asarray(data[arrays[0]], dtype=np.float64)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"cannot read {path}: not a valid .npz file ({exc})") from None
    raise DatasetError(f"{path} has no array '{key}' (arrays: {', '.join(arrays) or 'none'})")


def _read_csv(path: Path) -> np.ndarray:
    with open(path, encoding="utf-8") as fh:
        first = fh.readline()
    try:
        [float(v) for v in first.strip().split(",") if v.strip()]
        skip = 0
    except ValueError:
        skip = 1  # a header line
    try:
        arr = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise DatasetError(f"{path}: not a numeric CSV table ({exc})") from None
    return arr
