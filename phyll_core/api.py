"""The Python API beyond training: load, use, save and inspect a network; build and probe a
system.

>>> import phyll_core
>>> model = phyll_core.train_model(dataset="iris", epochs=5)          # doctest: +SKIP
>>> model.predict(rows)                   # class names, one per row  # doctest: +SKIP
>>> model.evaluate()                      # accuracy per method       # doctest: +SKIP
>>> model.save("runs/iris"); phyll_core.load_model("runs/iris")       # doctest: +SKIP
>>> model.metrics()                       # pandas DataFrame          # doctest: +SKIP
>>> system = phyll_core.build_system("random-features", seed=1)       # doctest: +SKIP
>>> phyll_core.probe_system(system).nonlinearity                      # doctest: +SKIP

A :class:`Model` wraps the engine's :class:`~phyll_core.engine.trainer.Run`; checkpoints are
read and written by :mod:`phyll_core.engine.checkpoint` (the same folders as ``phyll train
--out``), so a model saved here is one ``phyll evaluate`` and ``phyll predict`` read, and the
other way round. Everything heavy (the engine, pandas) is imported when a function runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from phyll_core.errors import DatasetError, PhyllError

if TYPE_CHECKING:
    from phyll_core.datasets import Dataset
    from phyll_core.engine.config import TrainConfig
    from phyll_core.engine.trainer import EpochMetrics, Run
    from phyll_core.probe import ProbeResult
    from phyll_core.system import PhysicalSystem

#: ``progress(metrics)`` is called after every completed epoch with its
#: :class:`~phyll_core.engine.trainer.EpochMetrics`.
Progress = Callable[["EpochMetrics"], None]


class Model:
    """A trained (or training) network and its data split.

    ``predict`` and ``evaluate`` take raw feature rows: the training standardisation is
    applied inside, as ``phyll predict`` does. Attributes: :attr:`run` (the engine's run, for
    anything not wrapped here), :attr:`class_names`, :attr:`method` (the default prediction
    method), :attr:`epoch` (completed epochs)."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def __repr__(self) -> str:
        c = self.run.config
        return (
            f"Model(system={','.join(c.system)!r}, dataset={c.dataset!r}, rule={c.rule!r},"
            f" epoch={self.epoch})"
        )

    # -- properties -----------------------------------------------------------------------
    @property
    def config(self) -> TrainConfig:
        return self.run.config

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.run.data.class_names)

    @property
    def method(self) -> str:
        return self.run.method

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.run.rule.methods)

    @property
    def epoch(self) -> int:
        return self.run.epoch

    @property
    def n_features(self) -> int:
        return int(self.run.problem.n_features)

    # -- training -------------------------------------------------------------------------
    def train(self, epochs: int | None = None, progress: Progress | None = None) -> Model:
        """Train until ``epochs`` epochs are complete (default: the configured number), calling
        ``progress(metrics)`` after each; returns ``self``. Continues a loaded model."""
        self.run.train(epochs, on_epoch=progress)
        return self

    # -- use ------------------------------------------------------------------------------
    def _rows(self, x: Any) -> np.ndarray:
        rows = np.asarray(x, dtype=np.float64)
        if rows.ndim == 1:
            rows = rows[None, :]
        if rows.ndim != 2 or rows.shape[1] != self.n_features:
            raise DatasetError(
                f"rows have shape {rows.shape}; the network expects (n, {self.n_features})"
            )
        if not np.isfinite(rows).all():
            raise DatasetError("rows hold NaN or infinite values")
        return self.run.data.standardise(rows).astype(self.config.dtype, copy=False)

    def _check_method(self, method: str | None, fit: bool = True) -> str:
        """The method to predict with (``method`` or the run's); with ``fit``, the readout is
        refitted first when the method needs it and the training data are loaded."""
        how = method or self.method
        if how not in self.methods:
            raise PhyllError(f"this network predicts with {', '.join(self.methods)}, not '{how}'")
        if fit and how in self.run.rule.fitted:
            self._fit()
        return how

    def _fit(self) -> None:
        """Refit what the rule's fitted methods need, when the training data are loaded."""
        if self.run.data.y_train.size:
            self.run.rule.fit_readout(self.run.data.x_train, self.run.data.y_train)

    def predict_index(self, x: Any, method: str | None = None) -> np.ndarray:
        """Class indices (0..C-1) for raw feature rows ``x`` (n, d) or one row (d,)."""
        from phyll_core.engine.trainer import blas_limit

        rows = self._rows(x)
        how = self._check_method(method)
        with blas_limit():
            return np.asarray(self.run.rule.predict(rows, how), dtype=np.int64)

    def predict(self, x: Any, method: str | None = None) -> np.ndarray:
        """Class names (an array of str) for raw feature rows ``x`` (n, d) or one row (d,),
        with ``method`` (default: the run's, e.g. ``goodness``)."""
        return np.array(self.class_names)[self.predict_index(x, method)]

    def evaluate(
        self, dataset: str | Dataset | None = None, method: str | None = None, **options: Any
    ) -> dict[str, float]:
        """Accuracies with every prediction method (or only ``method``).

        Without ``dataset``: the run's own split, keys ``METHOD/train_accuracy`` and
        ``METHOD/test_accuracy``. With a dataset name (``"vowels"``, ``"csv:PATH"``; loader
        ``options`` such as ``label_column``) or a :class:`~phyll_core.datasets.Dataset`:
        accuracy on all its rows, keys ``METHOD/accuracy``; its classes must be ones the
        network knows (matched by name). Through a noisy system every call is a fresh
        measurement."""
        from phyll_core.engine.trainer import blas_limit

        methods = [self._check_method(method, fit=False)] if method else list(self.methods)
        out: dict[str, float] = {}
        rule = self.run.rule
        if dataset is None:
            if not self.run.data.y_test.size:
                raise DatasetError("this model was loaded without its data; pass a dataset")
            with blas_limit(), rule.shared_scoring():  # one fit, shared physical passes
                if any(how in rule.fitted for how in methods):
                    self._fit()
                for how in methods:
                    train, test = self.run.accuracy(how, fit=False)
                    out[f"{how}/train_accuracy"], out[f"{how}/test_accuracy"] = train, test
            return out
        data = _dataset(dataset, options)
        names = list(self.class_names)
        unknown = [c for c in data.class_names if c not in names]
        if unknown:
            raise DatasetError(
                f"dataset '{data.name}' has classes the network never saw: {unknown}"
            )
        y = np.array([names.index(data.class_names[i]) for i in data.y])
        rows = self._rows(data.x)
        with blas_limit(), rule.shared_scoring():
            if any(how in rule.fitted for how in methods):
                self._fit()
            for how in methods:
                out[f"{how}/accuracy"] = float(np.mean(rule.predict(rows, how) == y))
        return out

    def save(self, path: str | Path) -> Path:
        """Save the checkpoint into the folder ``path`` (atomically; what ``phyll train --out``
        writes, read back by :func:`load_model` and ``phyll evaluate``). Returns the folder."""
        from phyll_core.engine.checkpoint import save_checkpoint

        done = self.epoch >= self.config.epochs
        return Path(save_checkpoint(self.run, path, final=done))

    # -- inspection -----------------------------------------------------------------------
    def history(self) -> list[dict[str, Any]]:
        """Per-epoch metrics as plain dicts (epoch, losses, accuracies, cumulative physical
        queries and FLOPs, seconds)."""
        return [m.row() for m in self.run.history]

    def metrics(self) -> Any:
        """Per-epoch metrics as a ``pandas.DataFrame`` indexed by epoch (needs pandas:
        ``pip install pandas``; :meth:`history` gives the same rows without it)."""
        try:
            import pandas as pd
        except ImportError:
            raise PhyllError(
                "Model.metrics() needs pandas: pip install pandas (or use Model.history())"
            ) from None
        return pd.DataFrame(self.history()).set_index("epoch")

    def summary(self) -> dict[str, Any]:
        """The summary of ``phyll train --json`` (accuracy by method, queries, FLOPs, ...)."""
        return self.run.summary()


def _dataset(dataset: str | Dataset, options: dict[str, Any]) -> Dataset:
    from phyll_core.datasets import Dataset, load

    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, str):
        return load(dataset, **options)
    raise DatasetError(f"expected a dataset name or a Dataset, got {type(dataset).__name__}")


def train_model(
    config: TrainConfig | None = None, *, progress: Progress | None = None, **overrides: Any
) -> Model:
    """Build a run from ``config`` (or ``TrainConfig(**overrides)``: ``dataset``, ``system``,
    ``epochs``, ``seed``, ...), train it, calling ``progress(metrics)`` after every epoch, and
    return the :class:`Model`."""
    from phyll_core.engine.config import TrainConfig
    from phyll_core.engine.trainer import Run

    if config is not None and overrides:
        import attrs

        config = attrs.evolve(config, **overrides)
    model = Model(Run(config or TrainConfig(**overrides)))
    return model.train(progress=progress)


def load_model(path: str | Path, *, data: bool | None = None) -> Model:
    """Load a checkpoint folder written by ``phyll train --out`` or :meth:`Model.save`.
    ``data=None`` reloads the training data when they are found (needed for
    ``evaluate()`` without a dataset and to continue training), ``True`` requires them,
    ``False`` never loads them (predicting needs only the checkpoint)."""
    from phyll_core.engine.checkpoint import load_checkpoint

    return Model(load_checkpoint(path, data=data))


def build_system(name: str, **params: Any) -> PhysicalSystem:
    """Build the registered system ``name`` with keyword parameters, checked against its
    schema (``build_system("acoustic", noise=0)``); raises a one-line
    :class:`~phyll_core.errors.PhyllError` for an unknown name or a bad value."""
    from phyll_core.factory import build_system as _build

    return _build(name, params)


def probe_system(
    system: PhysicalSystem | str, samples: int = 4096, seed: int = 0
) -> ProbeResult:
    """Throughput, output statistics and nonlinearity score of a system (or of the system
    built from a name with default parameters), as ``phyll probe`` reports them."""
    from phyll_core.engine.trainer import blas_limit
    from phyll_core.probe import probe as _probe

    built = build_system(system) if isinstance(system, str) else system
    with blas_limit():
        return _probe(built, samples=samples, seed=seed)
