"""Shared output helpers of the CLI: JSON on stdout, rich tables, one-line errors."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np


def _default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def to_json(data: Any) -> str:
    """Serialise plain data (numpy scalars and arrays allowed) as indented JSON."""
    return json.dumps(data, indent=2, default=_default)


def print_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (nothing else goes to stdout in --json mode)."""
    sys.stdout.write(to_json(data) + "\n")
    sys.stdout.flush()


#: ``csv:PATH`` / ``npz:PATH`` dataset names and other paths with folders, in a title
_PATH = re.compile(r"(?:\b(?:csv|npz):)?(?:[^\s/]*/)+([^\s/]+)")
#: a path in a title at most this long stays as it is
LONG_PATH = 24
#: no column is made narrower than its longest word, up to this many characters
LONGEST_WORD = 30


def short_title(title: str) -> str:
    """``title`` with every long path (``csv:../data/vowels/women.csv``) cut to its file name
    (``women.csv``), so that a title fits a line instead of wrapping mid-path."""
    return _PATH.sub(lambda m: m.group(0) if len(m.group(0)) <= LONG_PATH else m.group(1), title)


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    optional: Sequence[str] = (),
) -> None:
    """Render a rich table on stdout, its title shortened by :func:`short_title`.

    No column gets narrower than the longest word of its cells (at most ``LONGEST_WORD``), so a
    narrow terminal does not break a name, a number or a version mid-word: cells and headers
    wrap at spaces. When the terminal cannot hold every column that way, the ``optional``
    columns are left out, in the order given; if it still cannot, only the first column (the
    names) keeps its words whole and the others may fold long words. A table that cannot be
    narrower than the terminal is printed wider, never cut off."""
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False)
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    keep = list(range(len(columns)))
    least: dict[int, int] = {}
    for i, col in enumerate(columns):
        words = [w for row in cells if i < len(row) for w in row[i].split()]
        header = max((len(w) for w in col.split()), default=0)
        longest = max([header, *(len(w) for w in words)])
        least[i] = longest if i == 0 else min(longest, LONGEST_WORD)
    def fits() -> bool:
        return sum(least[i] + 3 for i in keep) + 1 <= console.width

    for name in optional:
        if fits():
            break
        if name in columns and columns.index(name) in keep:
            keep.remove(columns.index(name))
    # the first column (the names) keeps its longest word whole; when every column fits with
    # its longest word, so do the others; otherwise rich shares the rest of the width
    whole = fits()
    table = Table(title=short_title(title), title_justify="left", header_style="bold")
    for i in keep:
        least_i = least[i] if (whole or i == keep[0]) else None
        table.add_column(columns[i], overflow="fold", min_width=least_i)
    for row in cells:
        table.add_row(*(row[i] for i in keep if i < len(row)))
    from rich.measure import Measurement

    narrowest = Measurement.get(console, console.options, table).minimum
    if narrowest > console.width:  # wider than the terminal rather than cut off
        console = Console(soft_wrap=False, width=narrowest)
    console.print(table)


def stderr_console() -> Any:
    """A rich console on stderr (progress bars, notes)."""
    from rich.console import Console

    return Console(stderr=True)


def note(message: str) -> None:
    """A one-line note on stderr."""
    print(message, file=sys.stderr)
