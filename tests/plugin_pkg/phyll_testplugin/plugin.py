"""Hook implementations of phyll-testplugin: one system, one dataset and one command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from phyll_core import DatasetSpec, Param, SystemSpec, hookimpl


def _square_law(**kw: Any) -> Any:
    from phyll_testplugin.system import SquareLaw

    return SquareLaw(**kw)


def _xor(argument: str | None) -> Any:
    from phyll_testplugin.system import load_xor

    return load_xor()


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    register(
        SystemSpec(
            "testplugin-square",
            _square_law,
            "Square-law detector of a seeded random mix (test plugin).",
            (
                Param("inputs", "int", 6, "input width", low=1),
                Param("outputs", "int", 4, "output width", low=1),
                Param("seed", "int", 0, "seed of the mixing matrix"),
            ),
        )
    )


@hookimpl
def register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    register(DatasetSpec("testplugin-xor", _xor, "Noisy XOR, 200 samples (test plugin)."))


@hookimpl
def register_commands(app: typer.Typer) -> None:
    @app.command("testplugin-hello")
    def hello(name: str = typer.Option("world", "--name", help="Who to greet.")) -> None:
        """Greet (a command added by phyll-testplugin)."""
        typer.echo(f"hello {name} from phyll-testplugin")
