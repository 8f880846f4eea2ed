"""Training commands (filled in with the engine)."""

from __future__ import annotations

import typer


def add_to(app: typer.Typer) -> None:
    return None
