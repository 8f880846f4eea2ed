"""``phyll sweep``: a grid of training runs on Dask (or in this process), resumable, one table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from phyll_core.cli.output import note, print_json, print_table, to_json


def sweep(
    spec: Path | None = typer.Argument(None, help="Sweep file (TOML); options below override it."),
    systems: str | None = typer.Option(None, "--systems", help="Comma-separated systems."),
    rules: str | None = typer.Option(None, "--rules", help="Comma-separated learning rules."),
    datasets: str | None = typer.Option(None, "--datasets", help="Comma-separated datasets."),
    seeds: str | None = typer.Option(None, "--seeds", help="N (0..N-1), A:B or a,b,c [0]."),
    grid: list[str] = typer.Option(
        [], "--grid", help="NAME=V1,V2,...: an option of phyll train, a system parameter or a"
        " rule option (repeatable).",
    ),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE system parameter."),
    rule_param: list[str] = typer.Option([], "--rule-param", help="NAME=VALUE rule option."),
    epochs: int | None = typer.Option(None, "--epochs", "-e", min=1, help="Epochs of every run."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Results folder (resumable)."),
    workers: int | None = typer.Option(
        None, "--workers", min=0, help="LocalCluster workers [one per core]; 0: in this process."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Use an existing Dask cluster: tcp://HOST:PORT."
    ),
    group_by: str | None = typer.Option(
        None, "--group-by", help="Comma-separated columns of the summary [all that vary but seed]."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the runs and their count only."),
    json: bool = typer.Option(False, "--json", help="Print the summary as JSON only."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Run every combination of systems, rules, datasets, options and seeds; skip the runs
    already finished in --out; print mean ± std over seeds. Exit code 1 when a run failed."""
    from phyll_core.params import split_assignments
    from phyll_core.sweep.grid import (
        PARAM,
        RULE_PARAM,
        GridInput,
        build_grid,
        parse_assignment,
        parse_seeds,
        read_toml,
        split_list,
    )

    raw = read_toml(spec) if spec is not None else GridInput()
    axes: dict[str, list[Any]] = {}
    if epochs is not None:
        axes["epochs"] = [epochs]
    axes.update({PARAM + k: [v] for k, v in split_assignments(param).items()})
    axes.update({RULE_PARAM + k: [v] for k, v in split_assignments(rule_param).items()})
    for item in grid:
        name, values = parse_assignment(item)
        axes[name] = values
    given = GridInput(
        systems=split_list(systems),
        rules=split_list(rules),
        datasets=split_list(datasets),
        seeds=parse_seeds(seeds) if seeds is not None else [],
        axes=axes,
        out=str(out) if out is not None else None,
    )
    raw = raw.update(given)
    plan = build_grid(raw)
    specs = plan.runs()
    if dry_run:
        _print_dry_run(specs, json)
        return
    from phyll_core.sweep.store import ResultStore, require_folder

    folder = require_folder(Path(raw.out) if raw.out else None)
    _check_group_by(specs, group_by)
    _run(specs, ResultStore(folder), workers, scheduler, group_by, json, quiet)


def _check_group_by(specs: list[Any], group_by: str | None) -> None:
    """Refuse an unknown --group-by column before anything runs."""
    from phyll_core.errors import PhyllError
    from phyll_core.sweep.columns import flatten
    from phyll_core.sweep.grid import split_list

    known = list(dict.fromkeys(k for s in specs for k in flatten(s.settings)))
    unknown = [c for c in split_list(group_by) if c not in known]
    if unknown:
        raise PhyllError(f"--group-by: unknown column(s) {unknown} (known: {', '.join(known)})")


def _print_dry_run(specs: list[Any], json: bool) -> None:
    from phyll_core.sweep.columns import describe, varying_columns

    names = varying_columns(specs)
    if json:
        print_json({"runs": len(specs), "configs": [s.to_json() | {"key": s.key} for s in specs]})
        return
    for spec in specs:
        state = f"  (invalid: {spec.error})" if spec.error else ""
        print(f"{spec.key}  {describe(spec, names)}{state}")
    print(f"{len(specs)} run(s)")


def _run(
    specs: list[Any],
    store: Any,
    workers: int | None,
    scheduler: str | None,
    group_by: str | None,
    json: bool,
    quiet: bool,
) -> None:
    from phyll_core.io import atomic_write_text
    from phyll_core.sweep.execute import run_specs
    from phyll_core.sweep.grid import split_list
    from phyll_core.sweep.progress import SweepProgress
    from phyll_core.sweep.summary import config_columns, methods_of, summarise, table

    progress = SweepProgress("sweep", enabled=not quiet)
    try:
        outcome = run_specs(
            specs, store, workers, scheduler, on_start=progress.start, on_record=progress.update
        )
    except KeyboardInterrupt:
        progress.close()
        note(f"interrupted: finished runs are saved in {store.folder}; rerun to resume")
        raise typer.Exit(130) from None
    finally:
        progress.close()
    store.write_table(list(store.load().values()))
    records = outcome.records
    columns = split_list(group_by) if group_by else [
        c for c in config_columns(records) if c != "seed"
    ]
    groups = summarise(records, columns)
    methods = methods_of(records)
    payload = {
        "out": str(store.folder),
        "runs": len(records),
        "ran": outcome.ran,
        "skipped": outcome.skipped,
        "failed": len(outcome.failed),
        "startup_seconds": outcome.startup_seconds,
        "wall_seconds": outcome.wall_seconds,
        "group_by": columns,
        "groups": groups,
    }
    atomic_write_text(store.folder / "summary.json", to_json(payload) + "\n")
    _plot(records, groups, columns, methods, store.folder)
    if json:
        print_json(payload)
    else:
        heads, rows = table(groups, columns, methods)
        print_table(
            f"Sweep of {len(records)} runs in {store.folder} ({outcome.ran} run now,"
            f" {outcome.skipped} already done); test accuracy mean ± std over seeds",
            heads,
            rows,
        )
    if outcome.failed:
        first = outcome.failed[0]
        note(f"first failure: {first['key']}: {first.get('error')}")
        note(
            f"{len(outcome.failed)} of {len(records)} runs failed; their errors are in the"
            f" 'error' column of {store.folder / 'results.csv'}"
        )
        raise typer.Exit(1)


def _plot(records: Any, groups: Any, columns: Any, methods: Any, folder: Path) -> None:
    from phyll_core.plots import have_matplotlib

    if not any(g.get(m) for g in groups for m in methods):
        return
    if not have_matplotlib():
        note("note: install matplotlib (pip install 'phyll-core[plot]') for summary.png")
        return
    from phyll_core.sweep.plot import plot_summary

    plot_summary(records, groups, columns, methods, folder / "summary.png", "sweep summary")


def add_to(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
