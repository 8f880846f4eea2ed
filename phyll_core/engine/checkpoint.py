"""Checkpoints: a folder with ``weights.npz`` (every array of the rule plus the data
standardisation) and ``checkpoint.json`` (versions, configuration, systems and their parameters,
dataset, seed, class names, completed epochs, metric history, and the SHA-256 of the weights).

Both files are written atomically. Loading reports a missing, corrupt, truncated or mismatched
checkpoint as one :class:`~phyll_core.errors.CheckpointError` line.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from phyll_core.datasets import Split
from phyll_core.engine.config import TrainConfig
from phyll_core.engine.trainer import EpochMetrics, Run
from phyll_core.errors import CheckpointError, PhyllError
from phyll_core.io import atomic_write_bytes, atomic_write_text

FORMAT = 1
WEIGHTS, META = "weights.npz", "checkpoint.json"


def _versions(run: Run) -> dict[str, str]:
    from phyll_core.plugins import CORE, core_version, get_host

    host = get_host()
    versions = {CORE: core_version()}
    owners = [host.systems.get(name) for name in run.config.system]
    rule = host.rules.get(run.config.rule)
    for plugin, version in [*((e.plugin, e.version) for e in owners), (rule.plugin, rule.version)]:
        versions[plugin] = version
    return versions


def save_checkpoint(run: Run, folder: str | Path) -> Path:
    """Write the run's checkpoint into ``folder`` (created if needed); return the folder."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {f"rule/{k}": v for k, v in run.rule.state_dict().items()}
    arrays["data/mean"], arrays["data/scale"] = run.data.mean, run.data.scale
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    payload = buffer.getvalue()
    atomic_write_bytes(out / WEIGHTS, lambda fh: fh.write(payload))
    meta = {
        "format": FORMAT,
        "versions": _versions(run),
        "config": run.config.to_json(),
        "systems": [s.describe() for s in run.systems],
        "class_names": list(run.data.class_names),
        "n_features": int(run.data.x_train.shape[1]),
        "epochs_completed": run.epoch,
        "physical_queries": run.physical_queries,
        "flops": run.rule.total_flops(),
        "seconds": run.seconds,
        "interrupted": run.interrupted,
        "history": [m.row() | {"losses": m.losses} for m in run.history],
        "weights_sha256": hashlib.sha256(payload).hexdigest(),
    }
    atomic_write_text(out / META, json.dumps(meta, indent=1, default=_plain) + "\n")
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def read_meta(folder: str | Path) -> dict[str, Any]:
    """Read and check ``checkpoint.json`` of ``folder``."""
    path = Path(folder) / META
    if not Path(folder).is_dir():
        raise CheckpointError(f"{folder}: no such checkpoint folder")
    if not path.is_file():
        raise CheckpointError(f"{path}: missing (not a phyll checkpoint folder?)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: corrupt or truncated JSON ({exc})") from None
    if not isinstance(meta, dict) or "format" not in meta or "config" not in meta:
        raise CheckpointError(f"{path}: not a phyll checkpoint (keys missing)")
    if meta["format"] != FORMAT:
        raise CheckpointError(
            f"{path}: checkpoint format {meta['format']} is not supported (this phyll reads"
            f" format {FORMAT})"
        )
    return meta


def read_weights(folder: str | Path, meta: dict[str, Any]) -> dict[str, np.ndarray]:
    """Read ``weights.npz`` and check it against the checksum recorded in ``meta``."""
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


def load_checkpoint(folder: str | Path, warn: Any = None) -> Run:
    """Rebuild the run saved in ``folder``: same configuration, data split, systems, arrays and
    history, ready to evaluate, predict, or continue training (``run.train()``)."""
    meta = read_meta(folder)
    weights = read_weights(folder, meta)
    check_versions(meta, warn)
    try:
        config = TrainConfig.from_json(meta["config"])
    except (TypeError, PhyllError) as exc:
        raise CheckpointError(f"{folder}: invalid configuration ({exc})") from None
    run = Run(config)
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
    run.query_offset = int(meta.get("physical_queries", 0))
    run.seconds_offset = float(meta.get("seconds", 0.0))
    run.rule.flops = float(meta.get("flops", 0.0))
    if hasattr(run.rule, "blocks"):
        for block in run.rule.blocks:
            block.flops = 0.0
    return run


def _check_data(
    data: Split, weights: dict[str, np.ndarray], meta: dict[str, Any], folder: Any
) -> None:
    mean = weights.get("data/mean")
    if mean is None or mean.shape != data.mean.shape or not np.allclose(mean, data.mean):
        raise CheckpointError(
            f"{folder}: the dataset '{meta['config']['dataset']}' differs from the one this"
            " checkpoint was trained on"
        )
