"""The ``phyll`` command-line interface (typer)."""
