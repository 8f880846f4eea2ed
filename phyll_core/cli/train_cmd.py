"""``phyll train``, ``phyll evaluate`` and ``phyll predict``."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any

import typer

from phyll_core.cli.output import note, print_json, print_table
from phyll_core.engine.config import TrainConfig
from phyll_core.errors import DatasetError, PhyllError

D = TrainConfig()  # the defaults of `phyll train` are TrainConfig's
LR_DEFAULT = ",".join(f"{value:g}" for value in D.lr)

PARAM = typer.Option([], "--param", "-p", help="NAME=VALUE system parameter (repeatable).")
RULE_PARAM = typer.Option([], "--rule-param", help="NAME=VALUE learning-rule option (repeatable).")


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise PhyllError(f"--lr expects numbers separated by commas, got {text!r}") from None


def train(
    system: list[str] = typer.Option(
        list(D.system), "--system", "-s",
        help="Physical system for all blocks, or repeat once per block.",
    ),
    dataset: str = typer.Option(D.dataset, "--dataset", "-d", help="digits, circles, csv:PATH."),
    rule: str = typer.Option(D.rule, "--rule", "-r", help="Learning rule (`phyll rules`)."),
    loss: str = typer.Option(D.loss, "--loss", help="Goodness function (`phyll losses`)."),
    objective: str = typer.Option(D.objective, "--objective", help="Contrastive objective."),
    theta: float = typer.Option(D.theta, "--theta", help="Sharpness of softplus-delta."),
    blocks: int = typer.Option(D.blocks, "--blocks", "-k", min=1, help="Number of blocks."),
    width: int = typer.Option(D.width, "--width", "-w", min=1, help="Output width of a block."),
    epochs: int | None = typer.Option(
        None, "--epochs", "-e", min=1, help=f"Epochs [default: {D.epochs}]."
    ),
    inner_steps: int = typer.Option(
        D.inner_steps, "--inner-steps", min=1, help="Adam steps per batch."
    ),
    lr: str = typer.Option(
        LR_DEFAULT, "--lr", help="Learning rate, or one per block: a,b."
    ),
    weight_decay: float = typer.Option(
        D.weight_decay, "--weight-decay", min=0.0, help="AdamW decay."
    ),
    batch_size: int = typer.Option(
        D.batch_size, "--batch-size", min=0, help="0: full batch (<= 1,024)."
    ),
    seed: int = typer.Option(D.seed, "--seed", help="Seed of split, weights and negatives."),
    test_fraction: float = typer.Option(D.test_fraction, "--test-fraction", help="Held out."),
    label_column: str = typer.Option("label", "--label-column", help="CSV label column."),
    predict: str | None = typer.Option(None, "--predict", help="goodness or readout."),
    negatives: str | None = typer.Option(None, "--negatives", help="phyll: random or hardest."),
    skip: bool = typer.Option(D.skip, "--skip/--no-skip", help="Concatenate block input."),
    project: bool = typer.Option(
        D.project, "--project/--no-project", help="Random projection when wider."
    ),
    patience: int = typer.Option(
        D.patience, "--patience", min=0, help="Early stopping on train loss (0: off)."
    ),
    eval_every: int = typer.Option(D.eval_every, "--eval-every", min=1, help="Evaluate every N."),
    param: list[str] = PARAM,
    rule_param: list[str] = RULE_PARAM,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write checkpoint, metrics, plots."),
    resume: Path | None = typer.Option(None, "--resume", help="Continue the checkpoint in DIR."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object only."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Train a physical network (default: PhyLL on `circles` through `random-features`)."""
    from phyll_core.engine.checkpoint import load_checkpoint
    from phyll_core.engine.trainer import Run
    from phyll_core.params import split_assignments

    if resume is not None:
        run = load_checkpoint(resume, warn=note)
        target = epochs or run.config.epochs
        out = out or resume
    else:
        rule_params: dict[str, Any] = split_assignments(rule_param)
        if negatives is not None:
            rule_params["negatives"] = negatives
        config = TrainConfig(
            system=tuple(system),
            params=split_assignments(param),
            dataset=dataset,
            dataset_options={"label_column": label_column} if dataset.startswith("csv:") else {},
            rule=rule,
            rule_params=rule_params,
            loss=loss,
            objective=objective,
            theta=theta,
            blocks=blocks,
            width=width,
            epochs=epochs or D.epochs,
            inner_steps=inner_steps,
            lr=_floats(lr),
            weight_decay=weight_decay,
            batch_size=batch_size,
            seed=seed,
            test_fraction=test_fraction,
            predict=predict,
            skip=skip,
            project=project,
            patience=patience,
            eval_every=eval_every,
        )
        run = Run(config)
        target = config.epochs
    run.config.epochs = max(target, run.config.epochs) if resume is not None else target
    _train_with_progress(run, target, quiet)
    summary = run.summary()
    if run.interrupted:
        folder = out or Path(f"phyll-run-{time.strftime('%Y%m%d-%H%M%S')}")
        write_outputs(run, folder)
        note(
            f"interrupted: saved the last completed epoch ({run.epoch}) to {folder};"
            f" continue with: phyll train --resume {folder}"
        )
        raise typer.Exit(130)
    if out is not None:
        write_outputs(run, out)
    if json:
        print_json(summary)
        return
    _print_summary(summary, out)


def _train_with_progress(run: Any, target: int, quiet: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from phyll_core.cli.output import stderr_console

    console = stderr_console()
    with Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
        transient=False,
        disable=quiet or not console.is_terminal,
    ) as progress:
        task = progress.add_task("train", total=target, completed=run.epoch, info="")

        def on_epoch(m: Any) -> None:
            loss = sum(m.losses.values()) / max(len(m.losses), 1)
            acc = f" test {m.test_accuracy:.3f}" if m.test_accuracy is not None else ""
            progress.update(task, completed=m.epoch, info=f"loss {loss:.4f}{acc}")

        run.train(target, on_epoch=on_epoch)


def _print_summary(summary: dict[str, Any], out: Path | None) -> None:
    rows = [
        [method, f"{v['train_accuracy']:.4f}", f"{v['test_accuracy']:.4f}"]
        for method, v in summary["accuracy_by_method"].items()
    ]
    print_table(
        f"{summary['rule']} on {summary['dataset']} through {', '.join(summary['systems'])}"
        f" (seed {summary['seed']}, {summary['epochs']} epochs)",
        ["prediction", "train accuracy", "test accuracy"],
        rows,
    )
    print_table(
        "Cost",
        ["physical queries", "digital FLOPs", "seconds", "train s / epoch"],
        [
            [
                f"{summary['physical_queries']:,}",
                f"{summary['digital_flops']:.3g}",
                f"{summary['seconds']:.2f}",
                f"{summary['train_seconds_per_epoch']:.4f}",
            ]
        ],
    )
    if out is not None:
        note(f"wrote checkpoint, metrics.csv and plots to {out}")


def write_outputs(run: Any, folder: Path) -> None:
    """Checkpoint, ``metrics.csv`` and (with matplotlib) accuracy/loss and confusion PNGs."""
    from phyll_core.engine.checkpoint import save_checkpoint
    from phyll_core.io import atomic_open
    from phyll_core.plots import have_matplotlib, plot_confusion, plot_curves

    save_checkpoint(run, folder)
    rows = [m.row() for m in run.history]
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_open(folder / "metrics.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    if not have_matplotlib():
        note("note: install matplotlib (pip install 'phyll-core[plot]') for PNG plots")
        return
    history = [m.row() | {"losses": m.losses} for m in run.history]
    plot_curves(history, folder / "curves.png", f"{run.config.rule} on {run.config.dataset}")
    d = run.data
    plot_confusion(
        d.y_test,
        run.rule.predict(d.x_test, run.method),
        list(d.class_names),
        folder / "confusion.png",
    )


def evaluate(
    checkpoint: Path = typer.Argument(..., help="Checkpoint folder written by --out."),
    dataset: str | None = typer.Option(None, "--dataset", "-d", help="Evaluate on all of D."),
    label_column: str = typer.Option("label", "--label-column", help="CSV label column."),
    json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Accuracy of a saved network with every prediction method."""
    import numpy as np

    from phyll_core.datasets import load
    from phyll_core.engine.checkpoint import load_checkpoint

    run = load_checkpoint(checkpoint, warn=note)
    if dataset is None:
        result: dict[str, Any] = {"dataset": run.config.dataset, **run.evaluate_all()}
    else:
        options = {"label_column": label_column} if dataset.startswith("csv:") else {}
        data = load(dataset, **options)
        if data.n_features != run.data.x_train.shape[1]:
            raise DatasetError(
                f"dataset '{dataset}' has {data.n_features} features; the network expects"
                f" {run.data.x_train.shape[1]}"
            )
        names = list(run.data.class_names)
        missing = [c for c in data.class_names if c not in names]
        if missing:
            raise DatasetError(f"dataset '{dataset}' has classes the network never saw: {missing}")
        y = np.array([names.index(data.class_names[i]) for i in data.y])
        x = run.data.standardise(data.x)
        run.rule.fit_readout(run.data.x_train, run.data.y_train)
        result = {"dataset": dataset}
        for method in run.rule.methods:
            result[method] = {"accuracy": float(np.mean(run.rule.predict(x, method) == y))}
    result["physical_queries"] = run.physical_queries
    if json:
        print_json(result)
        return
    methods = {m: v for m, v in result.items() if isinstance(v, dict)}
    columns = list(next(iter(methods.values())))
    print_table(
        f"Evaluation of {checkpoint} on {result['dataset']}",
        ["prediction", *(c.replace("_", " ") for c in columns)],
        [[m, *(f"{v[c]:.4f}" for c in columns)] for m, v in methods.items()],
    )


def read_rows(path: Path, n_features: int) -> Any:
    """Feature rows from a CSV (header; a ``label`` column is ignored) or NPZ (array ``x``)."""
    import numpy as np

    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    if path.suffix.lower() == ".npz":
        try:
            with np.load(path, allow_pickle=False) as data:
                if "x" not in data.files:
                    raise DatasetError(f"{path}: no array 'x' (found: {', '.join(data.files)})")
                x = np.asarray(data["x"], dtype=np.float64)
        except (ValueError, OSError) as exc:
            if isinstance(exc, DatasetError):
                raise
            raise DatasetError(f"{path}: not a readable .npz file ({exc})") from None
    else:
        x = _read_feature_csv(path)
    if x.ndim != 2 or x.shape[1] != n_features:
        raise DatasetError(
            f"{path}: rows have {x.shape[-1]} features; the network expects {n_features}"
        )
    if not np.isfinite(x).all():
        row, col = np.argwhere(~np.isfinite(x))[0]
        raise DatasetError(f"{path}: row {row}, column {col} is not finite")
    return x


def _read_feature_csv(path: Path) -> Any:
    import numpy as np

    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise DatasetError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    keep = [i for i, h in enumerate(header) if h != "label"]
    values = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise DatasetError(f"{path}, line {lineno}: {len(row)} cells, header has {len(header)}")
        try:
            values.append([float(row[i]) for i in keep])
        except ValueError:
            bad = next(i for i in keep if not _is_float(row[i]))
            raise DatasetError(
                f"{path}, line {lineno}, column '{header[bad]}': {row[bad]!r} is not a number"
            ) from None
    return np.array(values, dtype=np.float64).reshape(len(values), len(keep))


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def predict(
    checkpoint: Path = typer.Argument(..., help="Checkpoint folder written by --out."),
    input: Path = typer.Option(..., "--input", "-i", help="CSV (header) or NPZ (array x)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Labels CSV (default stdout)."),
    method: str | None = typer.Option(None, "--predict", help="goodness or readout."),
) -> None:
    """Predict class labels for the rows of a CSV or NPZ file."""
    from phyll_core.engine.checkpoint import load_checkpoint
    from phyll_core.io import atomic_open

    run = load_checkpoint(checkpoint, warn=note)
    x = run.data.standardise(read_rows(input, run.data.x_train.shape[1]))
    how = method or run.method
    if how not in run.rule.methods:
        raise PhyllError(f"this network predicts with {', '.join(run.rule.methods)}, not '{how}'")
    if how == "readout":
        run.rule.fit_readout(run.data.x_train, run.data.y_train)
    labels = [run.data.class_names[i] for i in run.rule.predict(x, how)]
    lines = ["row,label", *(f"{i},{label}" for i, label in enumerate(labels))]
    if output is None:
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        with atomic_open(output, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        note(f"wrote {len(labels)} labels to {output}")


def add_to(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.command("predict")(predict)
