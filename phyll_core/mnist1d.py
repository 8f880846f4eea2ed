"""The built-in ``mnist1d`` dataset (Greydanus, "Scaling down deep learning", 2020).

Generated locally with the ``mnist1d`` package's ``make_dataset`` and its default arguments
(5,000 rows of 40 features, 10 classes, generator seed 42); the package's download path is never
used, so no network is needed. The package's own 4,000/1,000 split is joined back into one set
and phyll's seeded stratified split (:func:`phyll_core.datasets.split`) applies as for every
dataset.

``make_dataset`` seeds Python's and NumPy's global generators; their state is restored
afterwards, so loading the dataset changes no other random stream of the process.

Published reference figures (test accuracy on the package's split): logistic regression 32 %,
MLP 68 %, CNN 94 %, GRU 91 % (Greydanus 2020). Measured here with phyll's split (seed 0):
logistic regression 32.9 %, scikit-learn ``MLPClassifier`` 61.4 %.
"""

from __future__ import annotations

import random

import numpy as np

from phyll_core.datasets import Dataset
from phyll_core.errors import DatasetError

CLASS_NAMES = tuple(str(d) for d in range(10))


def load_mnist1d() -> Dataset:
    """Generate MNIST-1D with the package defaults (deterministic, about 1 s)."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise DatasetError(
            "dataset 'mnist1d' needs the mnist1d package: pip install 'phyll-core[mnist1d]'"
        ) from None
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    x = np.vstack([data["x"], data["x_test"]]).astype(np.float64)
    y = np.concatenate([data["y"], data["y_test"]]).astype(np.int64)
    return Dataset("mnist1d", x, y, CLASS_NAMES)
