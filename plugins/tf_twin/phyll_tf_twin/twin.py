"""Fitting, saving, loading and evaluating a digital twin (a Keras MLP).

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

import datetime as _dt
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from phyll_core.domain import Domain
from phyll_core.errors import CheckpointError, PhyllError
from phyll_core.io import atomic_write_text
from phyll_tf_twin import _tf
from phyll_tf_twin.data import Pairs, domain_from_json, domain_to_json

FORMAT = "phyll-tf-twin/1"
PREDICT_CHUNK = 65536
XLA_MIN_STEPS = 5000  # fits with fewer Adam steps skip XLA (its compile time would dominate)
Progress = Callable[[int, int, dict[str, float]], None]


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


def split_rows(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation row indices: ``round(fraction * n)`` rows at random (seeded)
    are held out, at least one when ``fraction > 0`` and ``n >= 4``."""
    order = np.random.default_rng([seed, 17]).permutation(n)
    n_val = round(fraction * n)
    if fraction > 0 and n >= 4:
        n_val = max(n_val, 1)
    n_val = min(n_val, n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def build_model(
    input_dim: int, output_dim: int, hidden: Sequence[int], mean: np.ndarray, std: np.ndarray
) -> Any:
    """The twin's Keras MLP (see the module docstring)."""
    tf = _tf.tensorflow()
    layers = tf.keras.layers
    inputs = tf.keras.Input((input_dim,), name="x")
    h = layers.Normalization(mean=mean, variance=std**2, name="standardise")(inputs)
    for i, width in enumerate(hidden):
        h = layers.Dense(width, activation="silu", name=f"hidden{i}")(h)
    outputs = layers.Dense(output_dim, name="y")(h)
    return tf.keras.Model(inputs, outputs, name="phyll_twin")


class _Trainer:
    """Adam on the mean squared error, one compiled TensorFlow loop per epoch.

    The whole epoch runs as one graph (about three times less CPU than ``Model.fit`` for these
    small MLPs). With ``jit`` the batch step is also compiled with XLA when the platform
    supports it: a few seconds of compilation that long fits win back. The row order of each
    epoch comes from a NumPy generator seeded with the fit's seed, so the same seed gives the
    same twin.
    """

    def __init__(self, model: Any, lr_schedule: Any, batch: int, jit: bool) -> None:
        tf = _tf.tensorflow()
        self.tf = tf
        self.model = model
        self.batch = batch
        self.variables = model.trainable_variables
        self.optimizer = tf.keras.optimizers.Adam(lr_schedule)
        self.optimizer.build(self.variables)
        self._epoch = self._compile(jit=jit)

    def _compile(self, jit: bool) -> Any:
        tf, model, variables, optimizer, batch = (
            self.tf, self.model, self.variables, self.optimizer, self.batch
        )

        @tf.function(jit_compile=jit, autograph=False)
        def step(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
            return loss

        @tf.function(autograph=False)  # an explicit loop: no source-code conversion needed
        def epoch(x: Any, y: Any, order: Any) -> Any:
            n = tf.shape(order)[0]

            def body(i: Any, total: Any) -> Any:
                rows = order[i * batch : (i + 1) * batch]
                size = tf.cast(tf.shape(rows)[0], tf.float32)
                return i + 1, total + size * step(tf.gather(x, rows), tf.gather(y, rows))

            batches = (n + batch - 1) // batch
            _, total = tf.while_loop(
                lambda i, total: i < batches, body, (tf.constant(0), tf.constant(0.0))
            )
            return total / tf.cast(n, tf.float32)

        return epoch

    def run_epoch(self, x: Any, y: Any, order: np.ndarray) -> float:
        """One pass over the rows in ``order``; returns the mean training loss."""
        tf = self.tf
        order_t = tf.constant(order, dtype=tf.int32)
        try:
            return float(self._epoch(x, y, order_t))
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError,
                tf.errors.NotFoundError):
            if self.optimizer.iterations.numpy() > 0:
                raise
            self._epoch = self._compile(jit=False)  # no XLA on this platform
            return float(self._epoch(x, y, order_t))


def fit_twin(
    pairs: Pairs,
    domain: Domain,
    options: FitOptions | None = None,
    progress: Progress | None = None,
) -> Twin:
    """Fit a twin on ``pairs`` (inputs in ``domain``) with ``options``; ``progress(epoch,
    epochs, {"loss", "val_rmse"})`` is called after every epoch. Raises PhyllError for pairs
    with fewer than 2 rows."""
    options = options or FitOptions()
    x = np.asarray(pairs.inputs, dtype=np.float64)
    y = np.asarray(pairs.outputs, dtype=np.float64)
    if x.shape[0] < 2:
        raise PhyllError(f"a twin needs at least 2 pairs, got {x.shape[0]}")
    outside = domain.outside(x)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        raise PhyllError(
            f"input row {row}, column {col} is {x[row, col]:g}, outside the twin's domain"
            f" {domain.describe()} (set --domain)"
        )
    tf = _tf.seed_everything(options.seed)
    train_idx, val_idx = split_rows(x.shape[0], options.validation, options.seed)
    mean = x[train_idx].mean(axis=0)
    std = x[train_idx].std(axis=0)
    std[std < 1e-12] = 1.0  # constant inputs (unused drive channels) pass through unscaled
    model = build_model(x.shape[1], y.shape[1], options.hidden, mean, std)
    batch = min(options.batch_size, train_idx.size)
    steps = options.epochs * math.ceil(train_idx.size / batch)
    schedule = tf.keras.optimizers.schedules.CosineDecay(
        options.lr, steps, alpha=options.final_lr_fraction
    )
    trainer = _Trainer(model, schedule, batch, jit=steps >= XLA_MIN_STEPS)
    x_train = tf.constant(x[train_idx], dtype=tf.float32)
    y_train = tf.constant(y[train_idx], dtype=tf.float32)
    x_val = x[val_idx].astype(np.float32)
    y_val = y[val_idx].astype(np.float32)
    predict = tf.function(lambda v: model(v, training=False), autograph=False)
    rng = np.random.default_rng([options.seed, 23])
    best, best_weights, stale, epochs_run = math.inf, None, 0, 0
    start = time.perf_counter()
    for epoch in range(1, options.epochs + 1):
        loss = trainer.run_epoch(x_train, y_train, rng.permutation(train_idx.size))
        epochs_run = epoch
        info = {"loss": loss}
        if val_idx.size:
            val_mse = float(np.mean((predict(x_val).numpy() - y_val) ** 2))
            info["val_rmse"] = math.sqrt(val_mse)
            if val_mse < best:
                best, best_weights, stale = val_mse, model.get_weights(), 0
            else:
                stale += 1
        if not math.isfinite(loss):
            raise PhyllError(f"twin fit diverged at epoch {epoch} (loss {loss}); lower --lr")
        if progress is not None:
            progress(epoch, options.epochs, info)
        if options.patience and stale >= options.patience:
            break
    if best_weights is not None:
        model.set_weights(best_weights)  # the epoch with the best validation loss
    seconds = time.perf_counter() - start
    twin = Twin(model, {"input_dim": int(x.shape[1]), "output_dim": int(y.shape[1])})
    train_fit = rmse_and_r2(twin.predict(x[train_idx]), y[train_idx])
    val_fit = rmse_and_r2(twin.predict(x[val_idx]), y[val_idx]) if val_idx.size else None
    twin.meta.update({
        "format": FORMAT,
        "domain": domain_to_json(domain),
        "source": pairs.source,
        "train_rows": int(train_idx.size),
        "validation_rows": int(val_idx.size),
        "train_rmse": train_fit["rmse"],
        "validation_rmse": val_fit["rmse"] if val_fit else None,
        "validation_r2": val_fit["r2"] if val_fit else None,
        "output_std": float(y.std()),
        "epochs_run": epochs_run,
        "fit_seconds": seconds,
        "options": options.to_json(),
        "architecture": {"hidden": list(options.hidden), "activation": "silu"},
        "input_normalisation": {"mean": mean.tolist(), "std": std.tolist()},
        "output_range": {"min": y.min(axis=0).tolist(), "max": y.max(axis=0).tolist()},
        "versions": _tf.versions(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    })
    return twin
