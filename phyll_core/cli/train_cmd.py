"""``phyll train``: options (declared once, with TrainConfig's defaults), resume rules, and the
run's life cycle (:mod:`phyll_core.cli.lifecycle`). ``evaluate`` and ``predict`` live in
:mod:`phyll_core.cli.evaluate_cmd`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from phyll_core.cli.output import note, print_json, print_table
from phyll_core.engine.config import KERNELS, TrainConfig
from phyll_core.errors import PhyllError

D = TrainConfig()  # the defaults of `phyll train` are TrainConfig's
LR_DEFAULT = ",".join(f"{value:g}" for value in D.lr)
CHECKPOINT_EVERY = "25,60s"  # a few per cent on the shortest epochs: docs/results.md
# options that may change when a run is resumed; every other option is part of the run
RESUMABLE = {"epochs", "patience", "eval_every"}
# options of the command that are not hyper-parameters of the run
RUNTIME = {"out", "resume", "json", "quiet", "force", "no_save", "checkpoint_every", "ctx"}

PARAM = typer.Option([], "--param", "-p", help="NAME=VALUE system parameter (repeatable).")
RULE_PARAM = typer.Option([], "--rule-param", help="NAME=VALUE learning-rule option (repeatable).")
# the physical layer's options, shared with `phyll compare`
WHITEN_OPTION = typer.Option(
    D.whiten, "--whiten", min=0.0, max=1.0,
    help="Variance kept by whitened output components (0: off).",
)
REDUCE_OPTION = typer.Option(
    D.reduce, "--reduce/--no-reduce", show_default=False,
    help="Outputs wider than the system's input: keep input-width whitened components"
    " [default: with --skip].",
)
DITHER_OPTION = typer.Option(
    D.dither, "--dither", min=0.0,
    help="Training noise on quantised system inputs, in input steps (0: off).",
)


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise PhyllError(f"--lr expects numbers separated by commas, got {text!r}") from None


def config_from_options(values: dict[str, Any]) -> TrainConfig:
    """The TrainConfig of the command-line ``values`` (keyword name -> value): options named
    like a TrainConfig field map to it; the few others are translated here."""
    import attrs

    from phyll_core.params import split_assignments

    rule_params: dict[str, Any] = split_assignments(values["rule_param"])
    if values["negatives"] is not None:
        rule_params["negatives"] = values["negatives"]
    dataset = values["dataset"]
    fields = {f.name for f in attrs.fields(TrainConfig)}
    direct = {k: v for k, v in values.items() if k in fields and v is not None}
    direct.update(
        system=tuple(values["system"]),
        params=split_assignments(values["param"]),
        dataset_options=(
            {"label_column": values["label_column"]} if dataset.startswith("csv:") else {}
        ),
        rule_params=rule_params,
        lr=_floats(values["lr"]),
        epochs=values["epochs"] or D.epochs,
    )
    return TrainConfig(**direct)


def refuse_changed_options(
    ctx: Any, values: dict[str, Any], saved: TrainConfig
) -> dict[str, str]:
    """On ``--resume``, refuse every option given on the command line that would change the
    saved run (one line naming them); only epochs, patience, the eval cadence and the
    runtime-only device parameters (``--param timeout=...``, ``retries``, ``log``, ...) may
    change. Returns those new device parameters."""
    from phyll_core.params import split_assignments

    given = [name for name in values if name not in RUNTIME | RESUMABLE and _given(ctx, name)]
    overrides: dict[str, str] = {}
    if "param" in given:
        from phyll_core.hardware.options import RUNTIME_ONLY_PARAMS

        given.remove("param")
        new = split_assignments(values["param"])
        overrides = {k: v for k, v in new.items() if str(saved.params.get(k)) != v}
        fixed = sorted(k for k in overrides if k not in RUNTIME_ONLY_PARAMS)
        if fixed:
            raise PhyllError(
                f"--resume continues the saved run; --param {', '.join(fixed)} cannot change"
                f" (only the device options {', '.join(sorted(RUNTIME_ONLY_PARAMS))} can):"
                " start a new run instead"
            )
    if not given:
        return overrides
    wanted = config_from_options({**_saved_values(saved), **{k: values[k] for k in given}})
    changed = [
        n for n in given
        if _saved_values(saved).get(n) != _saved_values(wanted).get(n)
    ]
    if changed:
        flags = ", ".join("--" + n.replace("_", "-") for n in changed)
        raise PhyllError(
            f"--resume continues the saved run; {flags} cannot change (only --epochs,"
            " --patience and --eval-every can): start a new run instead"
        )
    return overrides


def _given(ctx: Any, name: str) -> bool:
    """Whether option ``name`` was given on the command line (not left at its default)."""
    source = ctx.get_parameter_source(name)
    return getattr(source, "name", "") in ("COMMANDLINE", "ENVIRONMENT")


def _saved_values(config: TrainConfig) -> dict[str, Any]:
    """The command-line values (keyword name -> value) that give ``config``."""
    rule_params = dict(config.rule_params)
    negatives = rule_params.pop("negatives", None)
    out = config.to_json()
    out.update(
        system=list(config.system),
        param=[f"{k}={v}" for k, v in sorted(config.params.items())],
        rule_param=[f"{k}={v}" for k, v in sorted(rule_params.items())],
        negatives=negatives,
        lr=",".join(f"{v:g}" for v in config.lr),
        label_column=config.dataset_options.get("label_column", "label"),
    )
    return out


def train(
    ctx: typer.Context,
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
        None, "--epochs", "-e", min=1, help=f"Epochs (with --resume: the new total) [default:"
        f" {D.epochs}]."
    ),
    inner_steps: int = typer.Option(
        D.inner_steps, "--inner-steps", min=1, help="Adam steps per batch."
    ),
    lr: str = typer.Option(LR_DEFAULT, "--lr", help="Learning rate, or one per block: a,b."),
    weight_decay: float = typer.Option(
        D.weight_decay, "--weight-decay", min=0.0, help="AdamW decay."
    ),
    batch_size: int = typer.Option(
        D.batch_size, "--batch-size", min=0, help="0: full batch (<= 1,024)."
    ),
    seed: int = typer.Option(D.seed, "--seed", help="Seed of split, weights and negatives."),
    test_fraction: float = typer.Option(D.test_fraction, "--test-fraction", help="Held out."),
    label_column: str = typer.Option("label", "--label-column", help="CSV label column."),
    predict: str | None = typer.Option(None, "--predict", help="goodness, readout, weighted."),
    negatives: str | None = typer.Option(None, "--negatives", help="phyll: random or hardest."),
    skip: bool = typer.Option(D.skip, "--skip/--no-skip", help="Concatenate block input."),
    project: bool = typer.Option(
        D.project, "--project/--no-project", help="Random projection when wider."
    ),
    patience: int = typer.Option(
        D.patience, "--patience", min=0, help="Early stopping on train loss (0: off)."
    ),
    eval_every: int = typer.Option(
        D.eval_every, "--eval-every", min=0, help="Evaluate every N epochs (0: ~10 times)."
    ),
    encoder: str = typer.Option(
        D.encoder, "--encoder", help="Into the system's domain: offset (keeps sign) or magnitude."
    ),
    standardise: bool = typer.Option(
        D.standardise, "--standardise/--no-standardise", help="Standardise physical outputs."
    ),
    whiten: float = WHITEN_OPTION,
    reduce: bool | None = REDUCE_OPTION,
    dither: float = DITHER_OPTION,
    dtype: str = typer.Option(D.dtype, "--dtype", help="Engine float type: float64 or float32."),
    kernel: str = typer.Option(
        D.kernel, "--kernel", help=f"Inner steps: {', '.join(KERNELS)} (numba: the fast extra)."
    ),
    labels: str = typer.Option(
        D.labels, "--labels", help="Label slots around block 0's physics (digital) or through it."
    ),
    param: list[str] = PARAM,
    rule_param: list[str] = RULE_PARAM,
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Run folder [default: a new runs/<date-time>-<system>-<data>]."
    ),
    no_save: bool = typer.Option(False, "--no-save", help="Write no run folder."),
    force: bool = typer.Option(False, "--force", help="Replace a run already in --out."),
    checkpoint_every: str = typer.Option(
        CHECKPOINT_EVERY, "--checkpoint-every",
        help="Save every N epochs and/or Ms seconds ('25', '60s', '25,60s', 'off').",
    ),
    resume: Path | None = typer.Option(None, "--resume", help="Continue the checkpoint in DIR."),
    json: bool = typer.Option(False, "--json", help="Print one JSON object only."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Train a physical network (default: PhyLL on `circles` through `random-features`)."""
    import contextlib

    values = {k: v for k, v in locals().items() if k != "ctx"}
    with contextlib.ExitStack() as held:  # the run folder's lock, released at the end
        _train(ctx, values, held)


def _train(ctx: Any, values: dict[str, Any], held: Any) -> None:
    from phyll_core.cli import lifecycle

    out, resume, epochs, force = values["out"], values["resume"], values["epochs"], values["force"]
    no_save, quiet, json = values["no_save"], values["quiet"], values["json"]
    cadence = lifecycle.Cadence.parse(values["checkpoint_every"])
    if no_save and out is not None:
        raise PhyllError("--no-save and --out contradict each other; give one")
    if resume is not None:
        from phyll_core.engine.checkpoint import open_checkpoint, saved_config

        overrides = refuse_changed_options(ctx, values, saved_config(resume))
        run, _ = open_checkpoint(resume, warn=note, params=overrides)
        from phyll_core.engine.fused import resolve_kernel

        resolve_kernel(run.config.kernel)  # a run saved with --kernel numba needs numba
        for name in RESUMABLE - {"epochs"}:
            if _given(ctx, name):
                setattr(run.config, name, values[name])
        target = max(epochs or run.config.epochs, run.epoch)
        run.config.epochs = target
        folder = None if no_save else (out or resume)
        if folder is not None:
            lifecycle.prepare_folder(folder, force=force, resuming=folder == resume)
            held.enter_context(lifecycle.folder_lock(folder))
    else:
        config = config_from_options(values)
        folder = None if no_save else (out or lifecycle.default_folder(config.system,
                                                                       config.dataset))
        created = folder is not None and lifecycle.prepare_folder(
            folder, force=force, resuming=False
        )
        try:
            if folder is not None:
                held.enter_context(lifecycle.folder_lock(folder))
            run = _new_run(config)
        except BaseException:
            if created and folder is not None:
                lifecycle.discard_folder(folder)
            raise
        target = config.epochs
    saver = lifecycle.Saver(folder, cadence)
    summary = _lifecycle(run, target, saver, quiet, fresh=resume is None or folder != resume)
    if json:
        print_json(summary)
    else:
        _print_summary(summary)
    if folder is not None:
        note(f"saved the run to {folder} (checkpoint, metrics.csv, plots)")
    elif no_save:
        note("nothing saved (--no-save)")


def _new_run(config: TrainConfig) -> Any:
    """Check the inner-step kernel is available, load the data, check the memory the network
    needs, then build the run."""
    from phyll_core.datasets import load, split
    from phyll_core.engine.fused import resolve_kernel
    from phyll_core.engine.trainer import Run
    from phyll_core.memory import require, run_bytes

    resolve_kernel(config.kernel)  # --kernel numba without numba: one line, before any work
    data = split(load(config.dataset, **config.dataset_options), config.seed,
                 config.test_fraction)
    need = run_bytes(
        n_train=int(data.y_train.size), n_features=int(data.x_train.shape[1]),
        n_classes=data.n_classes, width=config.width, blocks=config.blocks,
    )
    require(need, f"--width {config.width} with {config.blocks} blocks on {config.dataset}")
    return Run(config, data)


def _lifecycle(run: Any, target: int, saver: Any, quiet: bool, fresh: bool) -> dict[str, Any]:
    """Train with signals, periodic saves and progress; save on interrupt or error (before any
    further physical query); then evaluate, save the final checkpoint and the reports."""
    from phyll_core.cli import lifecycle

    resume_hint = f"phyll train --resume {saver.folder}"
    with lifecycle.terminate_as_interrupt():
        try:
            if fresh:
                saver.save(run)  # a new folder is resumable from the start
            with lifecycle.progress(run, target, quiet) as report:

                def on_epoch(m: Any) -> None:
                    report(m)
                    saver.after_epoch(run)

                run.train(target, on_epoch=on_epoch)
        except KeyboardInterrupt:  # between epochs (the trainer catches it inside one)
            run.interrupted = True
        except Exception:
            if saver.folder is not None:
                saver.save(run)
                note(
                    f"saved the last completed epoch ({run.epoch}) to {saver.folder}; after"
                    f" fixing the cause, continue with: {resume_hint}"
                )
            raise
        if run.interrupted:
            if saver.folder is not None:
                saver.save(run)
                note(
                    f"interrupted: saved the last completed epoch ({run.epoch}) to"
                    f" {saver.folder}; continue with: {resume_hint}"
                )
            else:
                note(f"interrupted after epoch {run.epoch}; nothing saved (--no-save)")
            raise typer.Exit(130)
        saver.save(run)  # the trained weights, before the evaluation queries the system
        summary: dict[str, Any] = run.summary()
        if saver.folder is not None:
            saver.save(run, final=True)
            lifecycle.write_reports(run, saver.folder, note)
    return summary


def _print_summary(summary: dict[str, Any]) -> None:
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


def add_to(app: typer.Typer) -> None:
    from phyll_core.cli import evaluate_cmd

    app.command("train")(train)
    evaluate_cmd.add_to(app)
