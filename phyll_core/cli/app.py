"""Entry point of the ``phyll`` CLI: global options, error handling, plugin commands.

Every error a user can cause is a :class:`~phyll_core.errors.PhyllError` (or a bad option that
typer reports); it is printed as one line on stderr with a non-zero exit code. ``--debug`` (or
``PHYLL_DEBUG=1``) shows the traceback instead, and the full traceback of every plugin that
failed to import or whose hook raised (otherwise only their one-line warnings).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer

from phyll_core.cli import (
    compare_cmd,
    listing,
    new_backend_cmd,
    probe_cmd,
    record_cmd,
    sweep_cmd,
    train_cmd,
)

app = typer.Typer(
    name="phyll",
    help="Train physical neural networks without backpropagation (PhyLL).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from phyll_core.plugins import core_version

        typer.echo(f"phyll {core_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks of errors and of plugins that failed to load."
    ),
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Train physical neural networks without backpropagation (PhyLL)."""


listing.add_to(app)
probe_cmd.add_to(app)
record_cmd.add_to(app)
train_cmd.add_to(app)
compare_cmd.add_to(app)
sweep_cmd.add_to(app)
new_backend_cmd.add_to(app)


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("PHYLL_DEBUG", "") not in ("", "0")


def _print_plugin_tracebacks(host: Any) -> None:
    """With --debug: the full traceback of every plugin failure that raised (import errors,
    hooks that raised), after the one-line warnings."""
    for plugin, text in host.tracebacks():
        print(f"traceback of plugin '{plugin}':\n{text.rstrip()}", file=sys.stderr)


def _click_exceptions() -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]:
    """The (Exit, ClickException, Abort) classes of the click that typer runs on: recent typer
    ships its own copy (``typer._click``; click itself may then be absent), older typer uses
    click."""
    try:
        mod = importlib.import_module("typer._click.exceptions")
    except ImportError:
        mod = importlib.import_module("click.exceptions")
    exits = (typer.Exit, *([mod.Exit] if hasattr(mod, "Exit") else []))
    aborts = (typer.Abort, *([mod.Abort] if hasattr(mod, "Abort") else []))
    return exits, (mod.ClickException,), aborts


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; exit code 0 on success, 1 on a user error, 2 on a usage error."""
    from phyll_core.errors import PhyllError
    from phyll_core.plugins import get_host

    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    if "--version" not in args:  # plugins may add commands; load them first
        host = get_host()
        host.add_commands(app)
        if debug:
            _print_plugin_tracebacks(host)
    command = typer.main.get_command(app)
    if "--help" in args or "-h" in args:  # dataset names in help come from the registry
        listing.registry_help(command)
    exits, click_errors, aborts = _click_exceptions()
    try:
        # without standalone mode click returns the code of a raised Exit instead of exiting
        result = command.main(args=args, prog_name="phyll", standalone_mode=False)
        if isinstance(result, int) and not isinstance(result, bool) and result:
            sys.exit(result)
    except exits as exc:
        sys.exit(exc.exit_code)
    except click_errors as exc:
        if debug:
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `phyll` / `phyll GROUP`: help
            exc.show()
        else:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            print(f"error: {exc.format_message()}{hint}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except aborts:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except (PhyllError, OSError) as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # a bug still gets one line plus the hint
        if debug:
            raise
        print(
            f"error: {type(exc).__name__}: {exc} (this looks like a bug; rerun with --debug)",
            file=sys.stderr,
        )
        sys.exit(1)
