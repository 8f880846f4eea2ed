"""Fitting a digital twin: the Keras MLP of :mod:`phyll_tf_twin.twin` trained with Adam on the
mean squared error of the raw outputs, a cosine-decay learning rate, a held-out validation
split (seeded) and early stopping that restores the best weights; one compiled TensorFlow loop
per epoch. Same data, same options and same seed give the same twin.

TensorFlow is imported inside the functions, never at import of this module.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from phyll_core.domain import Domain
from phyll_core.errors import PhyllError
from phyll_tf_twin import _tf
from phyll_tf_twin.data import Pairs, domain_to_json
from phyll_tf_twin.twin import FORMAT, FitOptions, Twin, rmse_and_r2

XLA_MIN_STEPS = 5000  # fits with fewer Adam steps skip XLA (its compile time would dominate)
Progress = Callable[[int, int, dict[str, float]], None]


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
