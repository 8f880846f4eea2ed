"""``phyll probe SYSTEM``: throughput, output statistics and nonlinearity of a system."""

from __future__ import annotations

import typer

from phyll_core.cli.output import note, print_json, print_table

PARAM = typer.Option([], "--param", "-p", help="NAME=VALUE system parameter (repeatable).")


def probe(
    system: str = typer.Argument(..., help="Registered system name."),
    samples: int = typer.Option(4096, "--samples", "-n", min=4, help="Number of random inputs."),
    seed: int = typer.Option(0, "--seed", min=0, max=2**32 - 1, help="Seed of the inputs."),
    param: list[str] = PARAM,
    json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Send random inputs from the system's domain; report throughput, output statistics and
    the nonlinearity score (1 - R^2 of the best affine fit, held out, pooled: 0 affine, near 1
    no affine trace, above 1 the held-out affine fit is worse than predicting the mean). Runs
    under the BLAS thread limit of training (PHYLL_BLAS_THREADS, default 1)."""
    from phyll_core.factory import build_system
    from phyll_core.memory import FLOAT, require
    from phyll_core.probe import probe as run_probe

    built = build_system(system, param)
    # inputs, outputs and the affine fit's design matrix, all float64
    need = 3.0 * samples * (built.input_dim + built.output_dim + 1) * FLOAT
    require(need, f"--samples {samples:,} through '{system}'")
    from phyll_core.engine.trainer import blas_limit

    with blas_limit():  # as in training: many BLAS threads only slow small matrices down
        result = run_probe(built, samples=samples, seed=seed)
    if json:
        print_json(result.as_dict())
        return
    rows: list[list[object]] = [
        ["samples", result.samples],
        ["samples per second", f"{result.samples_per_second:,.0f}"],
        ["nonlinearity (1 - R^2 affine)", rounded(result.nonlinearity)],
        ["output mean / std", f"{result.output_mean:.4g} / {result.output_std:.4g}"],
        ["output min / max", f"{result.output_min:.4g} / {result.output_max:.4g}"],
        *([k, rounded(v)] for k, v in result.status.items()),
    ]
    print_table(f"Probe of '{result.system}'", ["measure", "value"], rows)
    if result.nonlinearity > 1.0:
        note(
            f"note: a nonlinearity above 1 ({rounded(result.nonlinearity)}) means the best affine"
            " fit predicts held-out outputs worse than their mean: no affine trace is left"
        )


def rounded(value: object) -> object:
    """Floats to 4 significant digits for the table (``--json`` keeps full precision)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return value


def add_to(app: typer.Typer) -> None:
    app.command("probe")(probe)
