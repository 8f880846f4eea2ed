"""Entry point of the ``phyll`` CLI: global options, error handling, plugin commands.

Every error a user can cause is a :class:`~phyll_core.errors.PhyllError` (or a bad option that
typer reports); it is printed as one line on stderr with a non-zero exit code. ``--debug`` (or
``PHYLL_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import os
import sys

import typer

from phyll_core.cli import listing, probe_cmd, train_cmd

app = typer.Typer(
    name="phyll",
    help="Train physical neural networks without backpropagation (PhyLL).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    """Train physical neural networks without backpropagation (PhyLL)."""
    if version:
        from phyll_core.plugins import core_version

        typer.echo(f"phyll {core_version()}")
        raise typer.Exit()


listing.add_to(app)
probe_cmd.add_to(app)
train_cmd.add_to(app)


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("PHYLL_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; exit code 0 on success, 1 on a user error, 2 on a usage error."""
    import click

    from phyll_core.errors import PhyllError
    from phyll_core.plugins import get_host

    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    if "--version" not in args:  # plugins may add commands; load them first
        get_host().add_commands(app)
    command = typer.main.get_command(app)
    try:
        command.main(args=args, prog_name="phyll", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        if debug:
            raise
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
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
    except Exception as exc:  # noqa: BLE001 - a bug still gets one line plus the hint
        if debug:
            raise
        print(
            f"error: {type(exc).__name__}: {exc} (this looks like a bug; rerun with --debug)",
            file=sys.stderr,
        )
        sys.exit(1)
