"""Saving, loading and evaluating a digital twin (a Keras MLP); fitting one is
:mod:`phyll_tf_twin.fit`.

The twin is the published model of a measured physical system: ``y = f(x)`` with
``f = Dense(out) o SiLU(Dense(h_L)) o ... o SiLU(Dense(h_1)) o N``, where ``N`` standardises
every input with the mean and standard deviation of the training rows (stored in the model and
in the metadata), trained on the mean squared error of the raw outputs with Adam, a cosine-decay
learning rate, a held-out validation split and early stopping that restores the best weights.
Same data, same options and same seed give the same twin (seeded, deterministic kernels).

A twin is two files written atomically: ``MODEL.keras`` (the Keras model) and
``MODEL.keras.json`` (metadata: widths, domain, data source, validation RMSE, options, input
normalisation, library versions and the SHA-256 of the model file, checked at load time).

TensorFlow is imported inside the functions, never at import of this module.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from phyll_core.domain import Domain
from phyll_core.errors import CheckpointError, PhyllError
from phyll_core.io import atomic_write_text
from phyll_tf_twin import _tf
from phyll_tf_twin.data import Pairs, domain_from_json

FORMAT = "phyll-tf-twin/1"
PREDICT_CHUNK = 65536


def _positive_ints(value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        try:
            value = [int(v) for v in value.split(",") if v.strip()]
        except ValueError:
            raise PhyllError(f"--hidden expects widths like 100,200,100, got {value!r}") from None
    out = tuple(int(v) for v in value)
    if not out or any(v < 1 for v in out):
        raise PhyllError(f"hidden widths must be one or more integers >= 1, got {value!r}")
    return out


def _at_least(low: float) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= low):
            raise PhyllError(f"twin option {attribute.name} must be >= {low}, got {value!r}")

    return check


@attrs.frozen
class FitOptions:
    """Hyper-parameters of :func:`fit_twin` (the defaults of ``phyll twin fit``).

    ``hidden``: widths of the SiLU layers; ``epochs``: maximum passes over the training rows;
    ``batch_size``: rows per Adam step; ``lr``: initial learning rate, decayed along a cosine to
    ``lr * final_lr_fraction`` over the planned steps; ``validation``: fraction of the rows held
    out (at random, with ``seed``) for early stopping and the reported validation RMSE;
    ``patience``: epochs without a better validation loss before stopping (0: never stop early).
    """

    hidden: tuple[int, ...] = attrs.field(default=(100, 200, 100), converter=_positive_ints)
    epochs: int = attrs.field(default=100, validator=_at_least(1))
    batch_size: int = attrs.field(default=64, validator=_at_least(1))
    lr: float = attrs.field(default=3e-3, validator=_at_least(1e-12))
    final_lr_fraction: float = attrs.field(default=0.01, validator=_at_least(0.0))
    validation: float = attrs.field(default=0.1, validator=_at_least(0.0))
    patience: int = attrs.field(default=20, validator=_at_least(0))
    seed: int = 0

    def __attrs_post_init__(self) -> None:
        if self.validation >= 0.5:
            raise PhyllError(f"validation fraction must be < 0.5, got {self.validation}")

    def to_json(self) -> dict[str, Any]:
        out = attrs.asdict(self)
        out["hidden"] = list(self.hidden)
        return out


def metadata_path(model_path: str | os.PathLike[str]) -> Path:
    """The metadata file of a twin: ``MODEL.keras`` -> ``MODEL.keras.json``."""
    p = Path(model_path)
    return p.with_name(p.name + ".json")


def model_path(out: str | os.PathLike[str]) -> Path:
    """Where ``--out OUT`` saves the model: ``OUT`` when it ends in ``.keras``, ``OUT.keras``
    when it has no suffix; any other suffix is refused (Keras needs ``.keras``)."""
    p = Path(out)
    if p.suffix == "":
        return p.with_name(p.name + ".keras")
    if p.suffix != ".keras":
        raise PhyllError(f"a twin is saved as a .keras file; got '{p.name}' (use {p.stem}.keras)")
    return p


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rmse_and_r2(pred: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """Overall RMSE, per-output RMSE and per-output R^2 = 1 - SSE/SST (``None`` for an output
    that is constant in ``target``), plus the pooled R^2 and the standard deviation of all
    outputs and of each output (an R^2 far below 0 on a near-silent output is noise against
    noise, not a bad fit: read it with that output's standard deviation)."""
    err = pred - target
    sse = np.sum(err**2, axis=0)
    sst = np.sum((target - target.mean(axis=0)) ** 2, axis=0)
    r2 = [None if s <= 1e-12 * max(1.0, float(sst.max())) else float(1 - e / s)
          for e, s in zip(sse, sst, strict=True)]
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "r2": float(1.0 - sse.sum() / sst.sum()) if sst.sum() > 0 else None,
        "output_std": float(target.std()),
        "rmse_per_output": [float(v) for v in np.sqrt(np.mean(err**2, axis=0))],
        "r2_per_output": r2,
        "std_per_output": [float(v) for v in target.std(axis=0)],
        "rows": int(target.shape[0]),
    }


class Twin:
    """A fitted twin: the Keras ``model`` and its ``meta`` data (see the module docstring).

    :meth:`predict` maps float (n, input_dim) inputs to float64 (n, output_dim) outputs; the
    model itself (``twin.model``) is differentiable for physics-aware training.
    """

    def __init__(self, model: Any, meta: dict[str, Any]) -> None:
        self.model = model
        self.meta = meta
        self._fn: Any = None

    @property
    def input_dim(self) -> int:
        return int(self.meta["input_dim"])

    @property
    def output_dim(self) -> int:
        return int(self.meta["output_dim"])

    @property
    def domain(self) -> Domain:
        return domain_from_json(self.meta["domain"])

    def _compiled(self) -> Any:
        if self._fn is None:
            tf = _tf.tensorflow()
            spec = tf.TensorSpec([None, self.input_dim], tf.float32)
            self._fn = tf.function(
                lambda x: self.model(x, training=False), input_signature=[spec], autograph=False
            )
        return self._fn

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Twin outputs for rows ``x`` (float32 inside, float64 out), in large chunks."""
        x32 = np.asarray(x, dtype=np.float32)
        fn = self._compiled()
        chunks = range(0, x32.shape[0], PREDICT_CHUNK)
        parts = [fn(x32[i : i + PREDICT_CHUNK]).numpy() for i in chunks]
        return np.vstack(parts).astype(np.float64) if parts else np.zeros((0, self.output_dim))

    def evaluate(self, pairs: Pairs) -> dict[str, Any]:
        """RMSE and R^2 of the twin on ``pairs`` (see :func:`rmse_and_r2`)."""
        from phyll_tf_twin.data import check_against

        check_against(pairs, self.input_dim, self.output_dim, "the twin")
        return rmse_and_r2(self.predict(pairs.inputs), pairs.outputs)

    # -- files ------------------------------------------------------------------------------
    def save(self, out: str | os.PathLike[str]) -> Path:
        """Write ``MODEL.keras`` and ``MODEL.keras.json`` atomically; return the model path."""
        path = model_path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".keras", dir=path.parent)
        os.close(fd)
        try:
            self.model.save(tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            self.meta["model_sha256"] = _sha256(Path(tmp))
            self.meta["model_file"] = path.name
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        atomic_write_text(metadata_path(path), json.dumps(self.meta, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Twin:
        """Load a twin saved by :meth:`save`; CheckpointError when a file is missing, corrupt,
        or the model does not match its metadata."""
        p = Path(path)
        meta_file = metadata_path(p)
        if not p.is_file():
            raise CheckpointError(f"twin model not found: {p}")
        if not meta_file.is_file():
            raise CheckpointError(f"twin metadata not found: {meta_file} (written beside {p.name})")
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"cannot read twin metadata {meta_file}: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise CheckpointError(f"{meta_file} is not phyll-tf-twin metadata (format {FORMAT})")
        if meta.get("model_sha256") != _sha256(p):
            raise CheckpointError(
                f"{p} does not match its metadata {meta_file.name} (checksum differs);"
                " fit the twin again"
            )
        tf = _tf.tensorflow()
        try:
            model = tf.keras.models.load_model(p, compile=False)
        except Exception as exc:  # Keras raises many types for a bad file
            raise CheckpointError(f"cannot load twin model {p}: {exc}") from None
        return cls(model, meta)


def __getattr__(name: str) -> Any:
    """The fitting functions moved to :mod:`phyll_tf_twin.fit`; ``from phyll_tf_twin.twin
    import fit_twin`` keeps working (imported on first use)."""
    if name in ("fit_twin", "build_model", "split_rows", "XLA_MIN_STEPS", "Progress"):
        from phyll_tf_twin import fit

        return getattr(fit, name)
    raise AttributeError(f"module 'phyll_tf_twin.twin' has no attribute {name!r}")
