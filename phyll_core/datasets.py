"""Datasets: scikit-learn's bundled ones, the shipped vowels, user CSV/NPZ files, and the
seeded split.

A :class:`Dataset` holds float64 features ``x`` (n, d), integer labels ``y`` (n,) in
``0..C-1`` and the class names. :func:`split` makes the deterministic stratified train/test
split and standardises with statistics of the training part only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from phyll_core.errors import DatasetError


@attrs.frozen(eq=False)
class Dataset:
    """Features ``x`` (n, d) float64, labels ``y`` (n,) int64 in 0..C-1, class names, and
    the names of the d features when the source has them (a CSV header), else empty."""

    name: str
    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.x.ndim != 2 or self.y.shape != (self.x.shape[0],):
            raise DatasetError(
                f"dataset '{self.name}': x must be (n, d) and y (n,), got {self.x.shape}"
                f" and {self.y.shape}"
            )
        if self.feature_names and len(self.feature_names) != self.x.shape[1]:
            raise DatasetError(
                f"dataset '{self.name}': {len(self.feature_names)} feature names for"
                f" {self.x.shape[1]} features"
            )
        if not np.isfinite(self.x).all():
            row, col = np.argwhere(~np.isfinite(self.x))[0]
            raise DatasetError(f"dataset '{self.name}': non-finite value at row {row}, col {col}")
        present = np.unique(self.y)
        if present.size < 2:
            raise DatasetError(
                f"dataset '{self.name}' has a single class ({self.class_names[int(present[0])]!r});"
                " classification needs at least two"
                if present.size
                else f"dataset '{self.name}' is empty"
            )

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        return int(self.x.shape[1])


@attrs.frozen(eq=False)
class Split:
    """Standardised train and test parts of a dataset (statistics from the train part)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    feature_names: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def standardise(self, x: np.ndarray) -> np.ndarray:
        """Apply the training statistics to new rows (used by ``phyll predict``)."""
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.scale


def split(data: Dataset, seed: int = 0, test_fraction: float = 0.2) -> Split:
    """Deterministic stratified split by ``seed``; standardisation fitted on the train part."""
    if not 0.0 < test_fraction < 1.0:
        raise DatasetError(f"test fraction must be in (0, 1), got {test_fraction}")
    counts = np.bincount(data.y, minlength=data.n_classes)
    n_test = math.ceil(test_fraction * data.y.size)
    present = int((counts > 0).sum())
    if counts[counts > 0].min() < 2 or n_test < present or data.y.size - n_test < present:
        raise DatasetError(
            f"dataset '{data.name}' is too small for a stratified split with test fraction"
            f" {test_fraction}: class sizes {counts.tolist()}"
        )
    from phyll_core.stratify import stratified_indices  # same rows as sklearn's, no sklearn

    tr, te = stratified_indices(data.y, test_fraction, seed)
    mean = data.x[tr].mean(axis=0)
    scale = data.x[tr].std(axis=0)
    scale[scale < 1e-12] = 1.0
    return Split(
        name=data.name,
        x_train=(data.x[tr] - mean) / scale,
        y_train=data.y[tr],
        x_test=(data.x[te] - mean) / scale,
        y_test=data.y[te],
        class_names=data.class_names,
        mean=mean,
        scale=scale,
        feature_names=data.feature_names,
    )


# -- built-in sources -------------------------------------------------------------------------
def sklearn_data_file(filename: str) -> Path | None:
    """Path of ``filename`` among scikit-learn's bundled data files (``sklearn/datasets/data``)
    found without importing scikit-learn, or None when scikit-learn is not installed or the
    file is not there."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("sklearn")  # a top-level name: nothing is imported
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(root) / "datasets" / "data" / filename
        if path.is_file():
            return path
    return None


def load_digits() -> Dataset:
    """scikit-learn's ``load_digits()`` (1,797 8x8 images, 64 features in 0..16, 10 classes):
    the same arrays, read with NumPy from the ``digits.csv.gz`` that scikit-learn ships, so
    that scikit-learn itself (about 160 MiB resident and a second of start-up) is not
    imported. Falls back to scikit-learn's loader when the file is not found."""
    import gzip

    path = sklearn_data_file("digits.csv.gz")
    if path is None:
        return _load_with_sklearn("digits")
    with gzip.open(path, "rt", encoding="ascii") as handle:
        data = np.loadtxt(handle, delimiter=",", dtype=np.float64, ndmin=2)
    if data.shape[1] != 65:
        raise DatasetError(f"dataset 'digits': {path} has {data.shape[1]} columns, expected 65")
    names = tuple(str(n) for n in range(10))
    return Dataset("digits", data[:, :-1].copy(), data[:, -1].astype(np.int64), names)


def load_sklearn(name: str) -> Dataset:
    """One of scikit-learn's bundled datasets (``digits``, ``iris``, ``wine``); ``digits`` is
    read without importing scikit-learn (:func:`load_digits`)."""
    if name == "digits":
        return load_digits()
    return _load_with_sklearn(name)


def _load_with_sklearn(name: str) -> Dataset:
    from sklearn import datasets as skd

    loader = {"digits": skd.load_digits, "iris": skd.load_iris, "wine": skd.load_wine}[name]
    bunch = loader()
    names = tuple(str(n) for n in bunch.target_names)
    return Dataset(name, bunch.data.astype(np.float64), bunch.target.astype(np.int64), names)


def load_circles() -> Dataset:
    """scikit-learn's ``make_circles`` (1,000 samples, noise 0.05, factor 0.5, seed 0), made
    by :func:`phyll_core.circles.make_circles` (the same arrays, without scikit-learn)."""
    from phyll_core.circles import make_circles

    x, y = make_circles(1000, noise=0.05, factor=0.5, seed=0)
    return Dataset("circles", x.astype(np.float64), y.astype(np.int64), ("outer", "inner"))


VOWELS_FILE = "hillenbrand_women_7vowels.csv"


def load_vowels() -> Dataset:
    """The built-in ``vowels``: 258 vowels of 48 adult female speakers, 7 classes
    (``ae ah aw er ih iy uw``), 12 formant features in Hz (Hillenbrand et al. 1995; the subset
    of the PhyLL experiments, MIT licence: ``phyll_core/data/LICENSE-vowels.txt``)."""
    from importlib.resources import as_file, files

    with as_file(files("phyll_core") / "data" / VOWELS_FILE) as path:
        data = load_csv(str(path))
    return attrs.evolve(data, name="vowels")


def labels_to_ints(labels: list[str] | np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map label values to 0..C-1 in sorted order (numbers sort numerically)."""
    values = [str(v) for v in labels]
    try:
        order = sorted(set(values), key=float)
    except ValueError:
        order = sorted(set(values))
    index = {v: i for i, v in enumerate(order)}
    return np.array([index[v] for v in values], dtype=np.int64), tuple(order)


def load_csv(path: str, label_column: str = "label") -> Dataset:
    """A CSV file with a header row: column ``label_column`` holds the class, every other
    column must be numeric. Errors name the file, line and column."""
    from phyll_core.readers import read_csv_rows

    file = _existing(path)
    rows = read_csv_rows(file)
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DatasetError(f"{file}: empty file (expected a header row)")
    header = [h.strip() for h in rows[0]]
    if label_column not in header:
        raise DatasetError(
            f"{file}, line 1: no label column '{label_column}' (columns: {', '.join(header)};"
            " choose one with --label-column)"
        )
    li = header.index(label_column)
    features, labels = [], []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            where = (
                f"column '{header[len(row)]}' is missing"
                if len(row) < len(header)
                else f"extra cell in column {len(header) + 1}"
            )
            raise DatasetError(
                f"{file}, line {lineno}: {len(row)} cells, but the header has {len(header)}"
                f" ({where})"
            )
        values = []
        for ci, cell in enumerate(row):
            if ci == li:
                continue
            try:
                value = float(cell)
            except ValueError:
                raise DatasetError(
                    f"{file}, line {lineno}, column '{header[ci]}': {cell!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise DatasetError(
                    f"{file}, line {lineno}, column '{header[ci]}': {cell!r} is not finite"
                )
            values.append(value)
        label = row[li].strip()
        if not label:
            raise DatasetError(f"{file}, line {lineno}, column '{label_column}': empty label")
        features.append(values)
        labels.append(label)
    if not features:
        raise DatasetError(f"{file}: no data rows below the header")
    if len(header) < 2:
        raise DatasetError(f"{file}: no feature columns besides '{label_column}'")
    y, names = labels_to_ints(labels)
    if len(names) < 2:
        raise DatasetError(
            f"{file}, lines 2-{lineno}, column '{label_column}': a single class ({names[0]!r});"
            " need at least two"
        )
    feature_names = tuple(h for i, h in enumerate(header) if i != li)
    return Dataset(file.stem, np.array(features, dtype=np.float64), y, names, feature_names)


def load_npz(path: str) -> Dataset:
    """An ``.npz`` file with arrays ``x`` (n, d) numeric and ``y`` (n,) labels."""
    from phyll_core.readers import read_npz

    file = _existing(path)

    def check(headers: dict[str, tuple[tuple[int, ...], np.dtype]]) -> None:
        (xs, xd), (ys, _) = headers["x"], headers["y"]
        if len(xs) != 2 or len(ys) != 1 or xs[0] != ys[0] or 0 in xs:
            raise DatasetError(
                f"{file}: 'x' must be (n, d) and 'y' (n,) with n, d >= 1, got {xs} and {ys}"
            )
        if not np.issubdtype(xd, np.number):
            raise DatasetError(f"{file}: 'x' must be numeric, got dtype {xd}")

    arrays = read_npz(file, ("x", "y"), check=check)  # headers checked before inflating
    x, yraw = arrays["x"].astype(np.float64), arrays["y"]
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DatasetError(f"{file}: x[{row}, {col}] is not finite ({x[row, col]})")
    y, names = labels_to_ints(list(yraw))
    if len(names) < 2:
        raise DatasetError(f"{file}: 'y' holds a single class ({names[0]!r}); need at least two")
    return Dataset(file.stem, x, y, names)


def _existing(path: str) -> Path:
    if not path:
        raise DatasetError("no file given (use csv:PATH or npz:PATH)")
    from phyll_core.readers import existing_file

    return existing_file(path)


def load(name: str, **options: Any) -> Dataset:
    """Load ``name`` (``digits``, ``csv:PATH``, ...) through the dataset registry."""
    from phyll_core.plugins import get_host

    source, sep, argument = name.partition(":")
    entry = get_host().datasets.get(source)
    spec = entry.spec
    if spec.takes_argument and not sep:
        raise DatasetError(f"dataset '{source}' needs an argument: --dataset {source}:PATH")
    if not spec.takes_argument and sep:
        raise DatasetError(f"dataset '{source}' takes no argument (got '{name}')")
    from phyll_core.params import resolve

    accepted = {k: v for k, v in options.items() if any(p.name == k for p in spec.params)}
    kwargs = resolve(spec.params, accepted, owner=f"dataset '{source}'")
    data = spec.loader(argument if sep else None, **kwargs)
    if not isinstance(data, Dataset):
        raise DatasetError(f"dataset '{source}' loader returned {type(data).__name__}")
    return data
