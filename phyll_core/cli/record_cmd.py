"""``phyll record SYSTEM --samples N --out FILE``: measure random inputs, save the pairs."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from phyll_core.cli.lifecycle import terminate_as_interrupt
from phyll_core.cli.output import print_json, print_table, stderr_console

PARAM = typer.Option([], "--param", "-p", help="NAME=VALUE system parameter (repeatable).")


def record(
    system: str = typer.Argument(..., help="Registered system name."),
    samples: int = typer.Option(..., "--samples", "-n", min=1, help="Number of random inputs."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output: FILE.npz (inputs, outputs) or FILE.csv (two CSV files)."
    ),
    param: list[str] = PARAM,
    seed: int = typer.Option(0, "--seed", help="Seed of the random inputs."),
    batch: int = typer.Option(64, "--batch", min=1, help="Rows per query and per saved chunk."),
    restart: bool = typer.Option(False, "--restart", help="Discard an interrupted run's progress."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing output files."),
    json: bool = typer.Option(False, "--json", help="Print JSON only (progress stays on stderr)."),
) -> None:
    """Measure N random inputs from the system's domain and write the (input, output) pairs.

    FILE.npz holds arrays 'inputs' and 'outputs'; FILE.csv writes FILE.inputs.csv and
    FILE.outputs.csv (no header, one row per measurement). An interrupted run (Ctrl-C, SIGTERM,
    a crash, an instrument outage) resumes when the same command is run again (progress in
    FILE.progress.jsonl); the runtime-only options (timeout, retries, log, ...) may change."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from phyll_core.hardware.errors import DeviceFailedError, RecordError
    from phyll_core.hardware.record import progress_path, saved_rows
    from phyll_core.hardware.record import record as run_record

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )

    def hint() -> str:
        return (
            f"{saved_rows(out)} of {samples} rows are saved in {progress_path(out)}; run the same"
            " command again to resume"
        )

    try:
        with terminate_as_interrupt(), Progress(
            *columns, console=stderr_console(), transient=json
        ) as bar:
            task = bar.add_task(f"recording {system}", total=samples)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done)

            result = run_record(
                system,
                param,
                samples,
                out,
                seed=seed,
                batch=batch,
                restart=restart,
                force=force,
                on_progress=update,
            )
    except KeyboardInterrupt:
        if saved_rows(out) > 0:
            print(f"interrupted: {hint()}", file=sys.stderr)
            raise typer.Exit(130) from None
        raise
    except DeviceFailedError as exc:
        if saved_rows(out) > 0:
            raise RecordError(f"{exc}; {hint()}") from exc
        raise
    if json:
        print_json(result.as_dict())
        return
    rows: list[list[object]] = [
        ["samples", result.samples],
        ["resumed from", result.resumed],
        ["of them from the measurement log", result.recovered],
        ["seconds (this run)", f"{result.seconds:.3g}"],
    ]
    rows += [["file", f] for f in result.files]
    print_table(f"Recorded '{result.system}'", ["item", "value"], rows)


def add_to(app: typer.Typer) -> None:
    app.command("record")(record)
