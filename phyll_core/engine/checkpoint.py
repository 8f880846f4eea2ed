"""Checkpoints: what a saved run holds, and how it is loaded again.

A checkpoint is ``weights.npz`` (every array of the rule plus the data standardisation) and
``checkpoint.json`` (versions, configuration, systems and their parameters, dataset, seed,
feature and class names, label constant, completed epochs, cost counters, metric history, and
the SHA-256 of the weights), saved in one atomic step into a run folder whose layout is
:mod:`phyll_core.engine.checkpoint_folder`: at every instant the folder holds the previous or
the new checkpoint, whatever kills the process. Folders of format 1 are still read.

The counters saved (physical queries, FLOPs) are those at the end of the last completed epoch,
so evaluations made after it (the final summary, an interrupt) are not counted twice when the
run is resumed. Loading reports a missing, corrupt, truncated or mismatched checkpoint as one
:class:`~phyll_core.errors.CheckpointError` line.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from phyll_core.datasets import Split
from phyll_core.engine.checkpoint_folder import (
    LATEST,
    META,
    PREFIX,
    WEIGHTS,
    checkpoint_dir,
    has_checkpoint,
    write_checkpoint_folder,
)
from phyll_core.engine.config import TrainConfig
from phyll_core.engine.trainer import EpochMetrics, Run
from phyll_core.errors import CheckpointError, DatasetError, PhyllError

FORMAT = 2
READS = (1, 2)
__all__ = [
    "FORMAT", "LATEST", "META", "PREFIX", "READS", "WEIGHTS", "check_versions",
    "checkpoint_dir", "has_checkpoint", "load_checkpoint", "open_checkpoint", "read_meta",
    "read_weights", "save_checkpoint", "saved_config",
]


def _versions(run: Run) -> dict[str, str]:
    from phyll_core.plugins import CORE, core_version, get_host

    host = get_host()
    versions = {CORE: core_version()}
    owners = [host.systems.get(name) for name in run.config.system]
    rule = host.rules.get(run.config.rule)
    for plugin, version in [*((e.plugin, e.version) for e in owners), (rule.plugin, rule.version)]:
        versions[plugin] = version
    return versions


def _dataset_path(dataset: str) -> str | None:
    _, sep, argument = dataset.partition(":")
    return str(Path(argument).expanduser().resolve()) if sep and argument else None


def build_meta(run: Run, payload: bytes, final: bool) -> dict[str, Any]:
    """The content of ``checkpoint.json`` for ``run`` whose weights file is ``payload``."""
    last = run.history[-1] if run.history else None
    return {
        "format": FORMAT,
        "versions": _versions(run),
        "config": run.config.to_json(),
        "systems": [s.describe() for s in run.systems],
        "class_names": list(run.data.class_names),
        "feature_names": list(run.data.feature_names),
        "n_features": int(run.problem.n_features),
        "n_train": int(run.data.y_train.size),
        "label_constant": float(run.problem.label_constant),
        "dataset_path": _dataset_path(run.config.dataset),
        "epochs_completed": run.epoch,
        "physical_queries": last.physical_queries if last else run.query_offset,
        "flops": last.flops if last else float(run.rule.flops),
        "seconds": last.seconds if last else run.seconds_offset,
        "interrupted": run.interrupted,
        "final": final,
        "history": [m.row() | {"losses": m.losses} for m in run.history],
        # the last epoch's evaluation with every method, which summary() reuses
        "final_eval": getattr(run, "_final_eval", None),
        "weights_sha256": hashlib.sha256(payload).hexdigest(),
    }


def save_checkpoint(run: Run, folder: str | Path, *, final: bool = False) -> Path:
    """Write the run's checkpoint into ``folder`` (created if needed) as one atomic step and
    return the folder. ``final`` marks the checkpoint of a finished run (its readout fitted on
    the last weights)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {f"rule/{k}": v for k, v in run.rule.state_dict().items()}
    arrays["data/mean"], arrays["data/scale"] = run.data.mean, run.data.scale
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    payload = buffer.getvalue()
    meta = json.dumps(build_meta(run, payload, final), indent=1, default=_plain) + "\n"
    write_checkpoint_folder(out, run.epoch, {WEIGHTS: payload, META: meta.encode("utf-8")})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def read_meta(folder: str | Path) -> dict[str, Any]:
    """Read and check ``checkpoint.json`` of the checkpoint folder ``folder`` (a folder written
    by :func:`save_checkpoint` or the sub-folder :func:`checkpoint_dir` names)."""
    return _read_meta(checkpoint_dir(folder))


def _read_meta(where: Path) -> dict[str, Any]:
    path = where / META
    if not path.is_file():
        raise CheckpointError(f"{path}: missing (not a phyll checkpoint folder?)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: corrupt or truncated JSON ({exc})") from None
    if not isinstance(meta, dict) or "format" not in meta or "config" not in meta:
        raise CheckpointError(f"{path}: not a phyll checkpoint (keys missing)")
    fmt = meta["format"]
    if type(fmt) is not int:
        raise CheckpointError(
            f"{path}: \"format\" must be a whole number, got {json.dumps(fmt)} (this phyll"
            f" reads formats {', '.join(map(str, READS))})"
        )
    if fmt not in READS:
        raise CheckpointError(
            f"{path}: checkpoint format {fmt} is not supported (this phyll reads formats"
            f" {', '.join(map(str, READS))})"
        )
    return meta


def read_weights(folder: str | Path, meta: dict[str, Any]) -> dict[str, np.ndarray]:
    """Read ``weights.npz`` of ``folder`` and check it against the checksum in ``meta``."""
    path = Path(folder) / WEIGHTS
    if not path.is_file():
        raise CheckpointError(f"{path}: missing")
    payload = path.read_bytes()
    if hashlib.sha256(payload).hexdigest() != meta.get("weights_sha256"):
        raise CheckpointError(
            f"{path}: does not match checkpoint.json (truncated, corrupt or from another run)"
        )
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise CheckpointError(f"{path}: corrupt ({exc})") from None


def check_versions(meta: dict[str, Any], warn: Any = None) -> list[str]:
    """Compare the recorded plugin versions with the installed ones; return warnings for each
    difference (a missing plugin raises CheckpointError)."""
    from phyll_core.plugins import get_host

    installed = {p.name: p.version for p in get_host().plugins.values()}
    notes = []
    for plugin, version in meta.get("versions", {}).items():
        if plugin not in installed:
            raise CheckpointError(
                f"checkpoint needs plugin '{plugin}' {version}, which is not installed"
            )
        if installed[plugin] != version:
            notes.append(
                f"checkpoint was written with {plugin} {version}; {installed[plugin]} is installed"
            )
    for line in notes:
        if warn:
            warn(f"warning: {line}")
    return notes


def load_checkpoint(folder: str | Path, warn: Any = None, *, data: bool | None = True) -> Run:
    """Rebuild the run saved in ``folder``: same configuration, systems, arrays and history,
    ready to evaluate, predict, or continue training (``run.train()``).

    ``data=True`` loads the training data again (needed to resume; a data set that is not found
    raises DatasetError saying so); ``data=False`` never does: the run then has the stored
    standardisation, class and feature names but empty splits, enough to predict (format 2
    only); ``data=None`` loads them when they are found.
    """
    return open_checkpoint(folder, warn, data=data)[0]


def saved_config(folder: str | Path) -> TrainConfig:
    """The training configuration recorded in the checkpoint of ``folder``."""
    where = checkpoint_dir(folder)
    return _config(_read_meta(where), where)


def _config(meta: dict[str, Any], where: Path) -> TrainConfig:
    try:
        return TrainConfig.from_json(meta["config"])
    except (TypeError, PhyllError) as exc:
        raise CheckpointError(f"{where / META}: invalid configuration ({exc})") from None


def open_checkpoint(
    folder: str | Path,
    warn: Any = None,
    *,
    data: bool | None = True,
    params: dict[str, Any] | None = None,
) -> tuple[Run, dict[str, Any]]:
    """:func:`load_checkpoint`, also returning the content of ``checkpoint.json``; ``params``
    replace system parameters of the saved configuration (a resumed run's new device timeout,
    say: the caller decides which may change)."""
    where, meta, weights = _read_current(folder)
    check_versions(meta, warn)
    config = _config(meta, where)
    if params:
        config.params = {**config.params, **params}
    _check_size(config, meta, where / META)
    found: Split | None = None
    if data is True or "label_constant" not in meta:
        found = _load_data(config, meta)
    elif data is None:
        with contextlib.suppress(DatasetError):
            found = _load_data(config, meta)
    split_ = found if found is not None else _stored_split(config, meta, weights, where)
    run = Run(config, split_, label_constant=meta.get("label_constant"))
    if found is not None:
        _check_data(run.data, weights, meta, folder)
    rule_state = {k[5:]: v for k, v in weights.items() if k.startswith("rule/")}
    try:
        run.rule.load_state_dict(rule_state)
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"{folder}: weights do not fit this configuration ({exc})") from None
    run.history = [
        EpochMetrics(
            epoch=h["epoch"],
            losses=h["losses"],
            train_accuracy=h["train_accuracy"],
            test_accuracy=h["test_accuracy"],
            physical_queries=h["physical_queries"],
            flops=h["flops"],
            train_seconds=h["train_seconds"],
            seconds=h["seconds"],
        )
        for h in meta.get("history", [])
    ]
    for m in run.history:  # the early-stopping state, as training left it
        run._should_stop(m)
    final = meta.get("final_eval")
    if final and hasattr(run, "_final_eval"):  # so that summary() does not evaluate again
        setattr(run, "_final_eval", (int(final[0]), final[1]))  # noqa: B010
    run.query_offset = int(meta.get("physical_queries", 0))
    run.seconds_offset = float(meta.get("seconds", 0.0))
    run.rule.flops = float(meta.get("flops", 0.0))
    if hasattr(run.rule, "blocks"):
        for block in run.rule.blocks:
            block.flops = 0.0
    return run, meta


def _read_current(folder: str | Path) -> tuple[Path, dict[str, Any], dict[str, np.ndarray]]:
    """The current checkpoint's folder, metadata and arrays. A run saving at the same time
    may switch ``latest`` and remove the folder being read: then read the new one."""
    for _ in range(3):
        where = checkpoint_dir(folder)
        try:
            meta = _read_meta(where)
            return where, meta, read_weights(where, meta)
        except (CheckpointError, OSError):
            if checkpoint_dir(folder) == where:
                raise
    raise CheckpointError(f"{folder}: the checkpoint keeps changing while it is read")


def _check_size(config: TrainConfig, meta: dict[str, Any], path: Path) -> None:
    from phyll_core.memory import MemoryBudgetError, require, run_bytes

    need = run_bytes(
        n_train=int(meta.get("n_train", 0)),
        n_features=int(meta.get("n_features", 1)),
        n_classes=len(meta.get("class_names", ())) or 2,
        width=config.width,
        blocks=config.blocks,
    )
    try:
        require(need, f"width {config.width} x {config.blocks} blocks")
    except MemoryBudgetError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def _load_data(config: TrainConfig, meta: dict[str, Any]) -> Split:
    """The training split again, from the dataset as named, or else from the absolute path
    recorded at training time."""
    from phyll_core.datasets import load, split

    try:
        return split(load(config.dataset, **config.dataset_options), config.seed,
                     config.test_fraction)
    except DatasetError as first:
        recorded = meta.get("dataset_path")
        source = config.dataset.partition(":")[0]
        if recorded:
            with contextlib.suppress(DatasetError):
                return split(load(f"{source}:{recorded}", **config.dataset_options),
                             config.seed, config.test_fraction)
        raise DatasetError(
            f"the training data '{config.dataset}' are not found from here ({first})"
        ) from None


def _stored_split(
    config: TrainConfig, meta: dict[str, Any], weights: dict[str, np.ndarray], where: Path
) -> Split:
    mean, scale = weights.get("data/mean"), weights.get("data/scale")
    if mean is None or scale is None:
        raise CheckpointError(f"{where / WEIGHTS}: no data standardisation stored")
    empty = np.zeros((0, int(meta.get("n_features", mean.size))))
    return Split(
        name=config.dataset,
        x_train=empty,
        y_train=np.zeros(0, dtype=np.int64),
        x_test=empty,
        y_test=np.zeros(0, dtype=np.int64),
        class_names=tuple(meta["class_names"]),
        mean=mean,
        scale=scale,
        feature_names=tuple(meta.get("feature_names") or ()),
    )


def _check_data(
    data: Split, weights: dict[str, np.ndarray], meta: dict[str, Any], folder: Any
) -> None:
    mean = weights.get("data/mean")
    if mean is None or mean.shape != data.mean.shape or not np.allclose(mean, data.mean):
        raise CheckpointError(
            f"{folder}: the dataset '{meta['config']['dataset']}' differs from the one this"
            " checkpoint was trained on"
        )
