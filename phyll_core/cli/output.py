"""Shared output helpers of the CLI: JSON on stdout, rich tables, one-line errors."""

from __future__ import annotations

import json
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


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Render a rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(soft_wrap=False).print(table)


def stderr_console() -> Any:
    """A rich console on stderr (progress bars, notes)."""
    from rich.console import Console

    return Console(stderr=True)


def note(message: str) -> None:
    """A one-line note on stderr."""
    print(message, file=sys.stderr)
