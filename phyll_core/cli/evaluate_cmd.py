"""``phyll evaluate DIR`` and ``phyll predict DIR --input FILE``: use a saved network.

``predict`` needs only the checkpoint (standardisation, feature and class names and the label
constant travel with it); ``evaluate`` without ``--dataset`` needs the training data, found
where they were at training time or at the recorded absolute path.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from phyll_core.cli.output import note, print_json, print_table
from phyll_core.errors import DatasetError, PhyllError

LABELS = ("label",)


def noisy_systems(run: Any) -> list[str]:
    """Names of the run's systems that add measurement noise (a ``noise`` parameter above 0,
    or a system that says ``noisy = True``)."""
    names = []
    for s in run.unique_systems():
        noise = s.params.get("noise", 0)
        if getattr(s, "noisy", False) or (isinstance(noise, int | float) and noise > 0):
            names.append(s.name)
    return names


def _evaluate_once(run: Any, x: Any, y: Any) -> dict[str, dict[str, float]]:
    import numpy as np

    from phyll_core.engine.trainer import blas_limit

    if x is None:
        return run.evaluate_all()
    out = {}
    with blas_limit(), run.rule.shared_scoring():
        for method in run.rule.methods:
            out[method] = {"accuracy": float(np.mean(run.rule.predict(x, method) == y))}
    return out


def _summarise(results: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    import numpy as np

    if len(results) == 1:
        return results[0]
    out: dict[str, dict[str, float]] = {}
    for method, metrics in results[0].items():
        out[method] = {}
        for key in metrics:
            values = np.array([r[method][key] for r in results])
            out[method][key] = float(values.mean())
            out[method][f"{key}_std"] = float(values.std(ddof=1))
    return out


def evaluate(
    checkpoint: Path = typer.Argument(..., help="Run folder written by phyll train."),
    dataset: str | None = typer.Option(None, "--dataset", "-d", help="Evaluate on all of D."),
    label_column: str = typer.Option("label", "--label-column", help="CSV label column."),
    repeats: int = typer.Option(
        1, "--repeats", min=1, max=1000,
        help="Evaluate N times and report mean and spread (noisy systems).",
    ),
    json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Accuracy of a saved network with every prediction method. Through a system with
    measurement noise every evaluation is a fresh noisy measurement."""
    import numpy as np

    from phyll_core.datasets import load
    from phyll_core.engine.checkpoint import load_checkpoint

    if dataset is None:
        try:
            run = load_checkpoint(checkpoint, warn=note, data=True)
        except DatasetError as exc:
            raise DatasetError(
                f"{exc}; evaluate on a copy of the data with --dataset csv:PATH (or npz:PATH)"
            ) from None
        x = y = None
        name = run.config.dataset
    else:
        run, _ = _saved_network(checkpoint)
        options = {"label_column": label_column} if dataset.startswith("csv:") else {}
        data = load(dataset, **options)
        expected = run.problem.n_features
        if data.n_features != expected:
            raise DatasetError(
                f"dataset '{dataset}' has {data.n_features} features; the network expects"
                f" {expected}"
            )
        names = list(run.data.class_names)
        missing = [c for c in data.class_names if c not in names]
        if missing:
            raise DatasetError(f"dataset '{dataset}' has classes the network never saw: {missing}")
        y = np.array([names.index(data.class_names[i]) for i in data.y])
        x = run.data.standardise(data.x)
        _fit_readout(run)
        name = dataset
    results = [_evaluate_once(run, x, y) for _ in range(repeats)]
    result: dict[str, Any] = {"dataset": name, **_summarise(results), "repeats": repeats}
    result["physical_queries"] = run.physical_queries
    noisy = noisy_systems(run)
    result["noisy_systems"] = noisy
    if noisy:
        note(
            f"note: {', '.join(noisy)} adds measurement noise: these figures are a fresh noisy"
            " measurement, not those printed in training"
            + ("; --repeats N reports the mean and spread of N" if repeats == 1 else "")
        )
    if json:
        print_json(result)
        return
    methods = {m: v for m, v in result.items() if isinstance(v, dict)}
    columns = list(next(iter(methods.values())))
    spread = f" (mean of {repeats} evaluations; std: their spread)" if repeats > 1 else ""
    print_table(
        f"Evaluation of {checkpoint} on {result['dataset']}{spread}",
        ["prediction", *(c.replace("_", " ") for c in columns)],
        [[m, *(f"{v[c]:.4f}" for c in columns)] for m, v in methods.items()],
    )


def _fit_readout(run: Any) -> None:
    """Refit the readout on the training data when they were loaded; otherwise the stored one
    is used (refused when it was never fitted)."""
    if run.data.y_train.size:
        run.rule.fit_readout(run.data.x_train, run.data.y_train)


def _saved_network(checkpoint: Path) -> tuple[Any, dict[str, Any]]:
    """The run of ``checkpoint`` for prediction: a finished run's stored readout is the final
    one, so its training data are not loaded (nor sent through the system again); an
    interrupted run's readout is refitted when its data are found."""
    from phyll_core.engine.checkpoint import open_checkpoint, read_meta

    final = bool(read_meta(checkpoint).get("final"))
    return open_checkpoint(checkpoint, warn=note, data=False if final else None)


# -- predict ---------------------------------------------------------------------------------
def read_rows(
    path: Path, feature_names: tuple[str, ...], n_features: int, labels: tuple[str, ...] = LABELS
) -> Any:
    """Feature rows from a CSV (with a header) or an NPZ (array ``x``). CSV columns are matched
    by name when the training data had names (missing or extra columns are refused, a
    ``label`` column is ignored), else by position."""
    import numpy as np

    from phyll_core.readers import existing_file, read_csv_rows, read_npz

    file = existing_file(path, "file")
    if file.suffix.lower() == ".npz":
        x = read_npz(file, ("x",))["x"]
        if not np.issubdtype(x.dtype, np.number):
            raise DatasetError(f"{file}: 'x' must be numeric, got dtype {x.dtype}")
        x = np.asarray(x, dtype=np.float64)
    else:
        x = _csv_rows(file, read_csv_rows(file), feature_names, labels)
    if x.ndim != 2 or x.shape[1] != n_features:
        raise DatasetError(
            f"{file}: rows have {x.shape[-1] if x.ndim else 0} features; the network expects"
            f" {n_features}"
        )
    if not np.isfinite(x).all():
        row, col = np.argwhere(~np.isfinite(x))[0]
        raise DatasetError(f"{file}: row {row}, column {col} is not finite")
    return x


def _csv_rows(
    file: Path, rows: list[list[str]], names: tuple[str, ...], labels: tuple[str, ...]
) -> Any:
    import numpy as np

    if not rows:
        raise DatasetError(f"{file}: empty file")
    header = [h.strip() for h in rows[0]]
    if names:
        missing = [n for n in names if n not in header]
        extra = [h for h in header if h not in names and h not in labels]
        if missing or extra:
            parts = [f"missing column(s) {', '.join(missing)}" if missing else "",
                     f"unknown column(s) {', '.join(extra)}" if extra else ""]
            raise DatasetError(
                f"{file}, line 1: {'; '.join(p for p in parts if p)} (the network was trained"
                f" on {', '.join(names)})"
            )
        keep = [header.index(n) for n in names]
    else:
        keep = [i for i, h in enumerate(header) if h not in labels]
    values = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise DatasetError(f"{file}, line {lineno}: {len(row)} cells, header has {len(header)}")
        try:
            values.append([float(row[i]) for i in keep])
        except ValueError:
            bad = next(i for i in keep if not _is_float(row[i]))
            raise DatasetError(
                f"{file}, line {lineno}, column '{header[bad]}': {row[bad]!r} is not a number"
            ) from None
    return np.array(values, dtype=np.float64).reshape(len(values), len(keep))


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def predict(
    checkpoint: Path = typer.Argument(..., help="Run folder written by phyll train."),
    input: Path = typer.Option(..., "--input", "-i", help="CSV (header) or NPZ (array x)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Labels CSV (default stdout)."),
    method: str | None = typer.Option(None, "--predict", help="goodness, readout, weighted."),
) -> None:
    """Predict class labels for the rows of a CSV or NPZ file (needs only the checkpoint)."""
    from phyll_core.engine.trainer import blas_limit
    from phyll_core.io import atomic_open

    if output is not None:
        if output.is_dir():
            raise PhyllError(f"--output {output}: is a folder; give a file name")
        if not output.parent.is_dir():
            raise PhyllError(f"--output {output}: the folder {output.parent} does not exist")
    run, meta = _saved_network(checkpoint)
    label_columns = (*LABELS, run.config.dataset_options.get("label_column", "label"))
    names = tuple(meta.get("feature_names") or ())
    x = run.data.standardise(read_rows(input, names, run.problem.n_features, label_columns))
    how = method or run.method
    if how not in run.rule.methods:
        raise PhyllError(f"this network predicts with {', '.join(run.rule.methods)}, not '{how}'")
    if how in run.rule.fitted:
        _fit_readout(run)
    with blas_limit():
        labels = [run.data.class_names[i] for i in run.rule.predict(x, how)]
    text = "\n".join(["row,label", *(f"{i},{label}" for i, label in enumerate(labels))]) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    with atomic_open(output, "w", make_parents=False) as fh:
        fh.write(text)
    note(f"wrote {len(labels)} labels to {output}")


def add_to(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
    app.command("predict")(predict)
