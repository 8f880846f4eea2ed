"""``phyll twin fit``, ``phyll twin evaluate`` and ``phyll twin show`` (a typer sub-app added
through the ``register_commands`` hook). TensorFlow is imported only when a command runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from phyll_core.errors import PhyllError
from phyll_tf_twin.twin import FitOptions

DEFAULT = FitOptions()

app = typer.Typer(
    name="twin",
    help="Fit a TensorFlow digital twin to measured pairs or to a system, evaluate it.",
    no_args_is_help=True,
)

PAIRS = typer.Option(
    None, "--pairs", metavar="INPUTS OUTPUTS",
    help="Two files: inputs and outputs (CSV without header, or NPZ); row i answers row i.",
)
PAIRS_FILE = typer.Option(
    None, "--pairs-file", metavar="FILE",
    help="One file holding both: FILE.npz (arrays inputs, outputs), NAME.csv (NAME.inputs.csv +"
    " NAME.outputs.csv) or a .jsonl log, as written by `phyll record`.",
)
PAIRS_SOURCE = typer.Option(
    None, "--pairs-source", metavar="NAME",
    help="Pairs shipped with the plugin: acoustic-cavity (8,000 measured pairs of the published"
    " acoustic cavity).",
)
ROWS = typer.Option(
    None, "--rows", metavar="START:STOP", help="Use only these rows of the files, e.g. 0:7000."
)
JSON = typer.Option(False, "--json", help="Print JSON only (progress stays on stderr).")


def _pairs(
    pairs: tuple[Path, Path] | None,
    pairs_file: Path | None,
    rows: str | None,
    pairs_source: str | None = None,
) -> Any:
    from phyll_tf_twin.data import load_pair_files

    given = [pairs is not None, pairs_file is not None, pairs_source is not None]
    if sum(given) > 1:
        raise PhyllError(
            "give one of --pairs INPUTS OUTPUTS, --pairs-file FILE or --pairs-source NAME"
        )
    if pairs_source is not None:
        from phyll_tf_twin.builtin_pairs import load_builtin_pairs

        return load_builtin_pairs(pairs_source, rows)
    if pairs is not None:
        return load_pair_files(pairs[0], pairs[1], rows)
    if pairs_file is not None:
        return load_pair_files(pairs_file, None, rows)
    return None


def _progress(quiet: bool, epochs: int) -> Any:
    if quiet:
        return None
    every = max(1, epochs // 20)

    def report(epoch: int, total: int, info: dict[str, float]) -> None:
        if epoch % every and epoch != total:
            return
        extra = f"  val RMSE {info['val_rmse']:.5f}" if "val_rmse" in info else ""
        print(f"twin fit: epoch {epoch}/{total}  loss {info['loss']:.3g}{extra}", file=sys.stderr)

    return report


@app.command("fit")
def fit(
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write (MODEL.keras)."),
    pairs: tuple[Path, Path] | None = PAIRS,
    pairs_file: Path | None = PAIRS_FILE,
    pairs_source: str | None = PAIRS_SOURCE,
    rows: str | None = ROWS,
    system: str | None = typer.Option(
        None, "--system", "-s", help="Fit to this installed system instead of files."
    ),
    samples: int = typer.Option(
        4000, "--samples", "-n", min=2, help="Queries of --system (uniform in its domain)."
    ),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE of --system."),
    hidden: str = typer.Option(
        ",".join(map(str, DEFAULT.hidden)), "--hidden", help="Widths of the SiLU layers."
    ),
    epochs: int = typer.Option(DEFAULT.epochs, "--epochs", "-e", min=1, help="Maximum epochs."),
    batch_size: int = typer.Option(
        DEFAULT.batch_size, "--batch-size", min=1, help="Rows per Adam step."
    ),
    lr: float = typer.Option(
        DEFAULT.lr, "--lr", min=0.0, help="Initial learning rate (cosine decay)."
    ),
    validation: float = typer.Option(
        DEFAULT.validation, "--validation", min=0.0, help="Held-out fraction."
    ),
    patience: int = typer.Option(
        DEFAULT.patience, "--patience", min=0, help="Early stopping (0: off)."
    ),
    domain: str | None = typer.Option(
        None, "--domain", help="Input domain: LOW,HIGH or binary [default: from the data]."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the split, weights and queries."),
    json: bool = JSON,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
) -> None:
    """Fit a twin (Keras MLP, SiLU) to measured pairs or to queries of a system; save
    MODEL.keras and its metadata MODEL.keras.json."""
    from phyll_core.cli.output import print_json, print_table
    from phyll_tf_twin.data import infer_domain, parse_domain, query_system
    from phyll_tf_twin.fit import fit_twin
    from phyll_tf_twin.twin import FitOptions, metadata_path, model_path

    target = model_path(out)  # refuse a bad suffix before any work
    options = FitOptions(
        hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr, validation=validation,
        patience=patience, seed=seed,
    )
    if (pairs is None and pairs_file is None and pairs_source is None) == (system is None):
        raise PhyllError(
            "give the data: --pairs INPUTS OUTPUTS, --pairs-file FILE, --pairs-source NAME, or"
            " --system NAME --samples N"
        )
    data = _pairs(pairs, pairs_file, rows, pairs_source)
    if data is None:
        assert system is not None
        data, dom = query_system(system, param, samples, seed)
    else:
        if param:
            raise PhyllError("--param belongs to --system; measured pairs take no parameters")
        dom = infer_domain(data.inputs)
    if domain is not None:
        dom = parse_domain(domain)
    twin = fit_twin(data, dom, options, progress=_progress(quiet, epochs))
    saved = twin.save(target)
    meta = twin.meta
    summary = {
        "model": str(saved),
        "metadata": str(metadata_path(saved)),
        "input_dim": meta["input_dim"],
        "output_dim": meta["output_dim"],
        "domain": dom.describe(),
        "train_rows": meta["train_rows"],
        "validation_rows": meta["validation_rows"],
        "train_rmse": meta["train_rmse"],
        "validation_rmse": meta["validation_rmse"],
        "epochs_run": meta["epochs_run"],
        "fit_seconds": meta["fit_seconds"],
        "source": meta["source"],
    }
    if json:
        print_json(summary)
        return
    val = summary["validation_rmse"]
    print_table(
        "Twin fitted",
        ["item", "value"],
        [
            ["model", summary["model"]],
            ["widths", f"{meta['input_dim']} -> {options.hidden} -> {meta['output_dim']}"],
            ["rows (train / validation)", f"{meta['train_rows']} / {meta['validation_rows']}"],
            ["train RMSE", f"{meta['train_rmse']:.5f}"],
            ["validation RMSE", "-" if val is None else f"{val:.5f}"],
            ["output std (RMSE of the mean)", f"{meta['output_std']:.4f}"],
            ["epochs run", meta["epochs_run"]],
            ["fit seconds", f"{meta['fit_seconds']:.1f}"],
        ],
    )


@app.command("evaluate")
def evaluate(
    model: Path = typer.Argument(..., help="Twin model file (MODEL.keras)."),
    pairs: tuple[Path, Path] | None = PAIRS,
    pairs_file: Path | None = PAIRS_FILE,
    pairs_source: str | None = PAIRS_SOURCE,
    rows: str | None = ROWS,
    json: bool = JSON,
) -> None:
    """RMSE (JSON key `rmse`) and per-output R^2 of a twin on measured pairs."""
    from phyll_core.cli.output import print_json, print_table
    from phyll_tf_twin.twin import Twin

    data = _pairs(pairs, pairs_file, rows, pairs_source)
    if data is None:
        raise PhyllError(
            "give the pairs to evaluate on: --pairs INPUTS OUTPUTS, --pairs-file FILE or"
            " --pairs-source NAME"
        )
    twin = Twin.load(model)
    result = {"model": str(model), **twin.evaluate(data)}
    if json:
        print_json(result)
        return
    r2 = "-" if result["r2"] is None else f"{result['r2']:.4f}"
    print_table(
        f"Twin {model.name} on {result['rows']} rows",
        ["measure", "value"],
        [
            ["RMSE", f"{result['rmse']:.5f}"],
            ["R^2 (pooled)", r2],
            ["output std (RMSE of the mean)", f"{result['output_std']:.4f}"],
        ],
    )
    print_table(
        "Per output",
        ["output", "RMSE", "R^2", "std"],
        [
            [i, f"{e:.5f}", "constant" if r is None else f"{r:.4f}", f"{sd:.4f}"]
            for i, (e, r, sd) in enumerate(
                zip(
                    result["rmse_per_output"], result["r2_per_output"],
                    result["std_per_output"], strict=True,
                )
            )
        ],
    )


@app.command("show")
def show(
    model: Path = typer.Argument(..., help="Twin model file (MODEL.keras)."),
    json: bool = JSON,
) -> None:
    """Print a twin's metadata (widths, domain, source, validation RMSE, versions); does not
    load TensorFlow."""
    import json as _json

    from phyll_core.cli.output import print_json, print_table
    from phyll_tf_twin.twin import metadata_path

    meta_file = metadata_path(model)
    if not meta_file.is_file():
        raise PhyllError(f"twin metadata not found: {meta_file}")
    try:
        meta = _json.loads(meta_file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise PhyllError(f"cannot read {meta_file}: {exc}") from None
    if json:
        print_json(meta)
        return
    keep = ("input_dim", "output_dim", "domain", "source", "train_rows", "validation_rows",
            "validation_rmse", "epochs_run", "fit_seconds", "architecture", "versions", "created")
    print_table(f"Twin {model.name}", ["field", "value"], [[k, meta.get(k)] for k in keep])
