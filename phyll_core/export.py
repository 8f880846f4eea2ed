"""Write a dataset back to the files ``--dataset csv:PATH`` and ``npz:PATH`` read
(``phyll datasets export``): to look at a built-in dataset, or to start a file of one's own
from it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from phyll_core.datasets import Dataset
from phyll_core.errors import DatasetError


def export_dataset(data: Dataset, path: str | Path, label_column: str = "label") -> Path:
    """Write ``data`` atomically as ``.csv`` (a header with the feature names, ``x0..`` when
    the dataset has none, then ``label_column`` holding the class names) or ``.npz`` (arrays
    ``x`` and ``y``, the class names as labels). Reading the file back gives the same features,
    labels and class names. Returns the path written."""
    from phyll_core.io import atomic_write_bytes, atomic_write_text

    target = Path(path).expanduser()
    labels = np.array(data.class_names)[data.y]
    suffix = target.suffix.lower()
    if suffix == ".csv":
        names = getattr(data, "feature_names", ()) or ()
        features = list(names) or [f"x{i}" for i in range(data.n_features)]
        if label_column in features:
            raise DatasetError(f"label column '{label_column}' clashes with a feature column")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*features, label_column])
        for row, label in zip(data.x, labels, strict=True):
            writer.writerow([*(repr(float(v)) for v in row), label])
        atomic_write_text(target, buffer.getvalue())
    elif suffix == ".npz":
        atomic_write_bytes(target, lambda fh: np.savez(fh, x=data.x, y=labels))
    else:
        raise DatasetError(f"{target}: export writes .csv or .npz files, got '{target.suffix}'")
    return target
