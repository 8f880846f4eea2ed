"""``phyll new-backend NAME``: start a backend plugin from a complete, tested skeleton."""

from __future__ import annotations

from pathlib import Path

import typer


def new_backend(
    name: str = typer.Argument(..., help="Backend name, e.g. osc-chain (the system's name)."),
    directory: Path = typer.Option(
        Path("."), "--dir", "-d", help="Folder to create phyll-NAME/ in."
    ),
    core_path: str = typer.Option(
        None, "--core-path", help="phyll-core checkout for the skeleton's tox 'local' factor."
    ),
) -> None:
    """Write phyll-NAME/: pyproject with the entry point, a system with its parameters declared
    once, conformance tests, a docs page and a tox matrix (py311-py313 x local/release core)."""
    from phyll_core.cli.output import note
    from phyll_core.scaffold import generate, names

    target = generate(name, directory, core_path)
    dist = names(name)["dist"]
    note(f"wrote {target}")
    note(f"next: pip install -e '{target}[test]' && pytest {target}/tests && phyll systems")
    note(f"      (tox: cd {target} && tox run -e py313-local; PHYLL_LOAD_PLUGINS={dist} limits"
         " phyll to it)")


def add_to(app: typer.Typer) -> None:
    app.command("new-backend")(new_backend)
