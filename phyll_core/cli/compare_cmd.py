"""``phyll compare``: several learning rules on the same systems, splits and seeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from phyll_core.cli.output import note, print_json, print_table, to_json
from phyll_core.cli.train_cmd import DITHER_OPTION, REDUCE_OPTION, WHITEN_OPTION, D
from phyll_core.errors import PhyllError

PREFERRED = ("phyll", "pat", "in-silico", "backprop")


def compare(
    system: list[str] = typer.Option(
        ["random-features"], "--system", "-s", help="Physical system(s)."
    ),
    dataset: str = typer.Option("circles", "--dataset", "-d", help="Dataset."),
    rules: str | None = typer.Option(
        None,
        "--rules",
        help="Comma-separated rules [default: those of phyll, pat, in-silico,"
        " backprop that are installed].",
    ),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Seeds 0..N-1."),
    drift: float = typer.Option(0.0, "--drift", min=0.0, help="Perturbation strength."),
    drift_at: int | None = typer.Option(None, "--drift-at", help="Epoch of the drift step."),
    blocks: int = typer.Option(D.blocks, "--blocks", "-k", min=1),
    width: int = typer.Option(D.width, "--width", "-w", min=1),
    epochs: int = typer.Option(D.epochs, "--epochs", "-e", min=1),
    skip: bool = typer.Option(D.skip, "--skip/--no-skip", help="Concatenate block input."),
    whiten: float = WHITEN_OPTION,
    reduce: bool | None = REDUCE_OPTION,
    dither: float = DITHER_OPTION,
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE system parameter."),
    rule_param: list[str] = typer.Option(
        [],
        "--rule-param",
        help="NAME=VALUE option of a rule (applied to each rule that declares it).",
    ),
    label_column: str = typer.Option("label", "--label-column"),
    systems: str | None = typer.Option(
        None, "--systems", help="Compare systems A,B,... (identity always included) under --rule."
    ),
    rule: str = typer.Option("phyll", "--rule", "-r", help="The rule of --systems."),
    workers: int | None = typer.Option(
        None, "--workers", min=0, help="Run on a Dask LocalCluster of N workers [this process]."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Run on an existing Dask cluster: tcp://HOST:PORT."
    ),
    json: bool = typer.Option(False, "--json", help="Print JSON only."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write results.json, a PNG and the runs (resumable)."
    ),
) -> None:
    """Train several rules (or, with --systems, several systems) on the same splits and seeds;
    print one comparison table."""
    from phyll_core.compare import compare as run_compare
    from phyll_core.engine.config import TrainConfig
    from phyll_core.params import split_assignments
    from phyll_core.plugins import get_host
    from phyll_core.sweep.store import ResultStore

    store = ResultStore(out) if out is not None else None
    workers = workers if workers is not None or scheduler is not None else 0
    if systems is not None:
        if rules is not None or drift:
            raise PhyllError("--systems compares systems under one --rule, without --rules/--drift")
        _compare_systems(
            [s.strip() for s in systems.split(",") if s.strip()],
            TrainConfig(
                system=tuple(system[:1]),
                params=split_assignments(param),
                dataset=dataset,
                dataset_options=(
                    {"label_column": label_column} if dataset.startswith("csv:") else {}
                ),
                rule=rule,
                blocks=blocks,
                width=width,
                epochs=epochs,
                skip=skip,
                whiten=whiten,
                reduce=reduce,
                dither=dither,
                rule_params=split_assignments(rule_param),
            ),
            seeds, workers, scheduler, store, json,
        )
        return
    host = get_host()
    names = (
        [r.strip() for r in rules.split(",") if r.strip()]
        if rules
        else [r for r in PREFERRED if r in host.rules]
    )
    for name in names:
        host.rules.get(name)  # unknown rule -> error with a suggestion
    base = TrainConfig(
        system=tuple(system),
        params=split_assignments(param),
        dataset=dataset,
        dataset_options={"label_column": label_column} if dataset.startswith("csv:") else {},
        blocks=blocks,
        width=width,
        epochs=epochs,
        skip=skip,
        whiten=whiten,
        reduce=reduce,
        dither=dither,
        rule_params=split_assignments(rule_param),
    )
    results = run_compare(
        base, names, seeds, drift, drift_at,
        on_run=lambda r, s: note(f"compare: {r}, seed {s} done"),
        workers=workers, scheduler=scheduler, store=store,
    )
    rows = [r.summary() for r in results]
    payload: dict[str, Any] = {
        "system": list(system),
        "dataset": dataset,
        "seeds": seeds,
        "epochs": epochs,
        "skip": skip,
        "whiten": whiten,
        "reduce": reduce,
        "dither": dither,
        "drift": drift,
        "drift_at": drift_at if drift_at is not None else (epochs // 2 if drift else None),
        "rules": rows,
    }
    if out is not None:

        def plot() -> None:
            from phyll_core.plots import plot_comparison

            plot_comparison(
                {r.rule: r.curves for r in results},
                out / "compare.png",
                f"{dataset} through {', '.join(system)}" + (f", drift {drift:g}" if drift else ""),
                drift_at=payload["drift_at"] if drift else None,
                before_drift={r.rule: r.before_drift for r in results},
                after_drift={r.rule: r.after_drift for r in results},
            )

        _save(out, payload, plot)
    if json:
        print_json(payload)
        return
    from phyll_core.sweep.summary import fmt

    print_table(
        f"Comparison on {dataset} through {', '.join(system)} ({seeds} seeds, {epochs} epochs)",
        [
            "rule",
            "test accuracy",
            "before drift",
            "after drift",
            "epochs to recover",
            "physical queries",
            "of which controls",
            "digital FLOPs",
            "seconds",
        ],
        [
            [
                r["rule"],
                fmt(r["test_accuracy"]),
                fmt(r["accuracy_before_drift"]),
                fmt(r["accuracy_after_drift"]),
                _recovery(r.get("epochs_to_recover")),
                f"{r['physical_queries']:,.0f}",
                f"{r.get('control_queries', 0):,.0f}",
                f"{r['digital_flops']:.3g}",
                f"{r['seconds']:.1f}",
            ]
            for r in rows
        ],
    )


def _recovery(epochs: list[int | None] | None) -> str:
    """Per seed, the epochs after the drift until within 2 points of before it (``never``:
    not within the run); ``-`` without drift."""
    if not epochs:
        return "-"
    return ", ".join("never" if e is None else str(e) for e in epochs)


def _compare_systems(
    names: list[str],
    base: Any,
    seeds: int,
    workers: int | None,
    scheduler: str | None,
    store: Any,
    json: bool,
) -> None:
    from phyll_core.compare import REFERENCE, compare_systems
    from phyll_core.sweep.summary import fmt

    if not names:
        raise PhyllError("--systems needs at least one system name")
    results = compare_systems(
        base, names, seeds, on_run=lambda n, s: note(f"compare: {n}, seed {s} done"),
        workers=workers, scheduler=scheduler, store=store,
    )
    reference = next(r for r in results if r.system == REFERENCE)
    rows = [r.summary(reference) for r in results]
    methods = list(dict.fromkeys(m for r in results for m in r.accuracy))
    payload: dict[str, Any] = {
        "dataset": base.dataset,
        "rule": base.rule,
        "seeds": seeds,
        "epochs": base.epochs,
        "skip": base.skip,
        "whiten": base.whiten,
        "reduce": base.reduce,
        "dither": base.dither,
        "reference": REFERENCE,
        "systems": rows,
    }
    title = (
        f"{base.rule} on {base.dataset} ({seeds} seeds, {base.epochs} epochs): test accuracy"
        f" mean ± std, gain over {REFERENCE} in points (paired by seed)"
    )
    if store is not None:

        def plot() -> None:
            from phyll_core.sweep.plot import plot_groups

            plot_groups(
                [r.system for r in results], [r.accuracy for r in results], methods,
                store.folder / "systems.png", title,
            )

        _save(store.folder, payload, plot)
    if json:
        print_json(payload)
        return

    def gain(stat: dict[str, float] | None) -> str:
        return "-" if stat is None else f"{100 * stat['mean']:+.1f} ± {100 * stat['std']:.1f} pt"

    print_table(
        title,
        ["system", *methods, *(f"{m} vs {REFERENCE}" for m in methods), "queries", "seconds"],
        [
            [
                r["system"],
                *(fmt(r["accuracy"].get(m)) for m in methods),
                *(
                    "" if r["system"] == REFERENCE else gain(r["gain_over_identity"].get(m))
                    for m in methods
                ),
                f"{r['physical_queries']:,.0f}",
                f"{r['seconds']:.1f}",
            ]
            for r in rows
        ],
    )


def _save(folder: Path, payload: dict[str, Any], plot: Callable[[], None]) -> None:
    """Write ``payload`` atomically to ``folder/results.json``, then call ``plot`` (which draws
    the PNG into ``folder``) when matplotlib is installed, or say how to get it."""
    from phyll_core.io import atomic_write_text
    from phyll_core.plots import have_matplotlib

    atomic_write_text(folder / "results.json", to_json(payload) + "\n")
    if have_matplotlib():
        plot()
    else:
        note("note: install matplotlib (pip install 'phyll-core[plot]') for the PNG")


def add_to(app: typer.Typer) -> None:
    app.command("compare")(compare)
