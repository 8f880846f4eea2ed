"""Reading user files safely: CSV text and ``.npz`` arrays, with every failure reported as one
:class:`~phyll_core.errors.DatasetError` line naming the file.

* :func:`existing_file` tells a missing path from a folder.
* :func:`read_csv_rows` accepts UTF-8 (with or without BOM) and UTF-16/32 with a BOM, and
  refuses binary content and fields longer than the csv module's limit (131,072 characters)
  with the line number.
* :func:`read_npz` checks each array's header (dtype, shape) and the size it claims against
  the archive and the available memory *before* inflating anything, refuses object arrays
  (pickles) and, unless asked, complex values.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from phyll_core.errors import DatasetError
from phyll_core.memory import MemoryBudgetError, require

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def existing_file(path: str | Path, what: str = "file") -> Path:
    """``path`` as a Path when it is a readable file; otherwise DatasetError saying whether it
    is missing or a folder."""
    file = Path(path).expanduser()
    if file.is_dir():
        raise DatasetError(f"{file}: is a folder, not a {what}")
    if not file.is_file():
        raise DatasetError(f"{file}: no such file")
    return file


def read_text(file: Path) -> str:
    """The text of ``file``: UTF-8, or UTF-16/32 with a byte-order mark."""
    raw = file.read_bytes()
    encoding = next((enc for bom, enc in _BOMS if raw.startswith(bom)), "utf-8")
    head = raw[:65536]
    if encoding == "utf-8" and b"\x00" in head:
        if head[1::2].count(0) > 0.9 * len(head[1::2]) or head[0::2].count(0) > 0.9 * len(
            head[0::2]
        ):
            raise DatasetError(
                f"{file}: looks like UTF-16 text without a byte-order mark; save it as UTF-8"
            )
        raise DatasetError(f"{file}: binary data, not a CSV text file")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{file}: not a {encoding.upper().removesuffix('-SIG')} text CSV file (byte"
            f" {exc.start}: {exc.reason}); save it as UTF-8"
        ) from None


def read_csv_rows(path: str | Path) -> list[list[str]]:
    """Every row of the CSV file ``path`` as lists of cells (header included)."""
    file = existing_file(path, "CSV file")
    text = read_text(file)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return list(reader)
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            message = (
                f"a field is longer than {csv.field_size_limit():,} characters (not a CSV of"
                " numbers?)"
            )
        raise DatasetError(f"{file}, line {reader.line_num}: {message}") from None


def _npy_header(fh: Any, file: Path, name: str) -> tuple[tuple[int, ...], np.dtype, int]:
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, EOFError, OSError, SyntaxError) as exc:
        raise DatasetError(f"{file}: array '{name}' has no valid .npy header ({exc})") from None
    return tuple(int(n) for n in shape), np.dtype(dtype), fh.tell()


def read_npz(
    path: str | Path,
    names: tuple[str, ...],
    *,
    check: Callable[[dict[str, tuple[tuple[int, ...], np.dtype]]], None] | None = None,
    allow_complex: bool = False,
    available: int | None = None,
) -> dict[str, np.ndarray]:
    """The arrays ``names`` of the ``.npz`` file ``path`` (all required), checked before they
    are read: a valid header, a size that matches the archive entry and fits in memory
    (``available`` bytes, default: what the system reports), no object (pickle) dtype, real
    values unless ``allow_complex``, and whatever ``check({name: (shape, dtype)})`` raises."""
    file = existing_file(path, ".npz file")
    if not zipfile.is_zipfile(file):
        raise DatasetError(f"{file}: not a .npz archive (expected numpy.savez output)")
    try:
        with zipfile.ZipFile(file) as archive:
            members = {n.removesuffix(".npy"): n for n in archive.namelist() if n.endswith(".npy")}
            missing = [n for n in names if n not in members]
            if missing:
                raise DatasetError(
                    f"{file}: missing array(s) {', '.join(missing)} (found:"
                    f" {', '.join(members) or 'none'}); expected"
                    f" {' and '.join(repr(n) for n in names)}"
                )
            claimed = 0.0
            headers: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
            for name in names:
                info = archive.getinfo(members[name])
                with archive.open(info) as fh:
                    shape, dtype, header = _npy_header(fh, file, name)
                _check_dtype(file, name, dtype, allow_complex)
                headers[name] = (shape, dtype)
                nbytes = float(np.prod(shape, dtype=np.float64)) * dtype.itemsize
                if nbytes != info.file_size - header:
                    raise DatasetError(
                        f"{file}: array '{name}' claims shape {shape} of {dtype} but its entry"
                        f" holds {info.file_size - header:,} bytes (truncated or forged)"
                    )
                claimed += nbytes
            if check is not None:
                check(headers)
            try:
                require(claimed, f"{file}: the arrays {', '.join(names)}", available)
            except MemoryBudgetError as exc:
                raise DatasetError(str(exc)) from None
            out = {}
            for name in names:
                with archive.open(members[name]) as fh:
                    out[name] = np.lib.format.read_array(fh, allow_pickle=False)
            return out
    except DatasetError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DatasetError(f"{file}: not a readable .npz file ({exc})") from None


def _check_dtype(file: Path, name: str, dtype: np.dtype, allow_complex: bool) -> None:
    if dtype.hasobject:
        raise DatasetError(f"{file}: array '{name}' holds Python objects (refused: a pickle)")
    if dtype.kind == "c" and not allow_complex:
        raise DatasetError(
            f"{file}: array '{name}' is complex ({dtype}); phyll needs real features (store"
            " the real and imaginary parts, or the magnitude, as separate columns)"
        )
