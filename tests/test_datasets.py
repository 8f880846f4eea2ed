"""Datasets: built-ins, CSV and NPZ files (and every bad-file case), the seeded split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from phyll_core import DatasetError
from phyll_core.datasets import Dataset, labels_to_ints, load, load_csv, load_npz, split


# -- built-ins --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "shape", "classes"),
    [("digits", (1797, 64), 10), ("iris", (150, 4), 3), ("wine", (178, 13), 3),
     ("circles", (1000, 2), 2)],
)
def test_builtins_load_with_expected_shapes(
    name: str, shape: tuple[int, int], classes: int
) -> None:
    data = load(name)
    assert data.x.shape == shape and data.x.dtype == np.float64
    assert data.y.shape == (shape[0],) and data.y.dtype == np.int64
    assert data.n_classes == classes and data.n_features == shape[1]
    assert set(np.unique(data.y)) == set(range(classes))


def test_circles_is_balanced_and_the_documented_one() -> None:
    data = load("circles")
    assert np.bincount(data.y).tolist() == [500, 500]
    assert data.class_names == ("outer", "inner")
    radius = np.linalg.norm(data.x, axis=1)
    assert radius[data.y == 0].mean() == pytest.approx(1.0, abs=0.02)
    assert radius[data.y == 1].mean() == pytest.approx(0.5, abs=0.02)


def test_circles_is_not_linearly_separable() -> None:
    from sklearn.linear_model import LogisticRegression

    parts = split(load("circles"), seed=0)
    model = LogisticRegression().fit(parts.x_train, parts.y_train)
    assert model.score(parts.x_test, parts.y_test) < 0.7
    assert model.score(parts.x_train, parts.y_train) < 0.7


def test_names_with_and_without_arguments(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"'csv' needs an argument: --dataset csv:PATH"):
        load("csv")
    with pytest.raises(DatasetError, match="'iris' takes no argument"):
        load("iris:x")


# -- CSV --------------------------------------------------------------------------------------
def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_happy_path(tmp_path: Path) -> None:
    path = write(
        tmp_path, "vowels.csv",
        "f1,label,f2\n1.5,ae,2\n-3,iy,4e1\n\n5,ae,6\n 7 , iy , 8 \n",
    )
    data = load(f"csv:{path}")
    assert data.name == "vowels"
    np.testing.assert_array_equal(data.x, [[1.5, 2], [-3, 40], [5, 6], [7, 8]])
    assert data.y.tolist() == [0, 1, 0, 1] and data.class_names == ("ae", "iy")


def test_csv_label_column_option(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "kind,a,b\n2,0.1,0.2\n10,0.3,0.4\n2,0.5,0.6\n")
    data = load(f"csv:{path}", label_column="kind")
    assert data.x.shape == (3, 2)
    assert data.class_names == ("2", "10")  # numeric labels sort numerically
    assert data.y.tolist() == [0, 1, 0]
    data = load(f"csv:{path}", label_column="kind", unrelated_option=1)  # ignored by csv
    assert data.x.shape == (3, 2)


def test_csv_quotes_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", '\ufeffx,"y z",label\n1,"2",a\n3,4,"b, c"\n')
    data = load_csv(str(path))
    assert data.x.tolist() == [[1, 2], [3, 4]] and data.class_names == ("a", "b, c")


CSV_CASES = {
    "non-numeric cell": (
        "a,b,label\n1,2,x\n3,oops,y\n", "line 3, column 'b': 'oops' is not a number"
    ),
    "empty cell": ("a,b,label\n1,,x\n3,4,y\n", "line 2, column 'b': '' is not a number"),
    "NaN cell": ("a,b,label\n1,2,x\n3,nan,y\n", "line 3, column 'b': 'nan' is not finite"),
    "inf cell": ("a,b,label\n-inf,2,x\n3,4,y\n", "line 2, column 'a': '-inf' is not finite"),
    "short row": (
        "a,b,label\n1,2,x\n3,y\n",
        "line 3: 2 cells, but the header has 3 (column 'label' is missing)",
    ),
    "long row": (
        "a,b,label\n1,2,x,9\n3,4,y\n",
        "line 2: 4 cells, but the header has 3 (extra cell in column 4)",
    ),
    "single class": (
        "a,label\n1,x\n2,x\n3,x\n",
        "lines 2-4, column 'label': a single class ('x'); need at least two",
    ),
    "missing label column": (
        "a,b,cls\n1,2,x\n3,4,y\n",
        "line 1: no label column 'label' (columns: a, b, cls; choose one with --label-column)",
    ),
    "empty label": ("a,label\n1,x\n2, \n", "line 3, column 'label': empty label"),
    "empty file": ("", "empty file (expected a header row)"),
    "header only": ("a,label\n", "no data rows below the header"),
    "labels only": ("label\nx\ny\n", "no feature columns besides 'label'"),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_bad_csv_is_one_clear_error(tmp_path: Path, case: str) -> None:
    text, expected = CSV_CASES[case]
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(DatasetError) as info:
        load(f"csv:{path}")
    message = str(info.value)
    assert message.startswith(str(path)), message  # names the file
    assert expected in message, message
    assert "\n" not in message


def test_csv_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "data.csv"
    with pytest.raises(DatasetError, match="no such file") as info:
        load(f"csv:{path}")
    assert str(info.value) == f"{path}: no such file"
    with pytest.raises(DatasetError, match="is a folder, not a file"):
        load(f"csv:{tmp_path}")  # a folder
    with pytest.raises(DatasetError, match="no file given"):
        load("csv:")


def test_csv_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,label\n1,caf\xe9\n2,x\n".encode("latin-1"))
    with pytest.raises(DatasetError, match="not a UTF-8 text CSV file"):
        load_csv(str(path))


# -- NPZ --------------------------------------------------------------------------------------
def test_npz_happy_path(tmp_path: Path) -> None:
    path = tmp_path / "pairs.npz"
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    np.savez(path, x=x, y=np.array(["cat", "dog", "cat", "dog", "emu", "emu"]), extra=np.ones(1))
    data = load(f"npz:{path}")
    assert data.name == "pairs" and data.x.dtype == np.float64
    np.testing.assert_array_equal(data.x, x)
    assert data.class_names == ("cat", "dog", "emu") and data.y.tolist() == [0, 1, 0, 1, 2, 2]


def _npz(tmp_path: Path, **arrays: np.ndarray) -> Path:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


def _not_a_zip(tmp_path: Path) -> Path:
    path = tmp_path / "bad.npz"
    path.write_text("x,y\n1,2\n")
    return path


def _plain_npy(tmp_path: Path) -> Path:
    path = tmp_path / "bad.npz"
    with path.open("wb") as fh:
        np.save(fh, np.zeros((4, 2)))
    return path


NPZ_CASES = {
    "not a zip": (_not_a_zip, "not a .npz archive"),
    "a plain .npy": (_plain_npy, "not a .npz archive"),
    "missing y": (
        lambda t: _npz(t, x=np.zeros((4, 2)), labels=np.zeros(4)),
        "missing array(s) y (found: x, labels); expected 'x' and 'y'",
    ),
    "missing both": (lambda t: _npz(t, a=np.zeros(2)), "missing array(s) x, y"),
    "length mismatch": (
        lambda t: _npz(t, x=np.zeros((4, 2)), y=np.zeros(3)),
        "'x' must be (n, d) and 'y' (n,) with n, d >= 1, got (4, 2) and (3,)",
    ),
    "1-D x": (lambda t: _npz(t, x=np.zeros(4), y=np.zeros(4)), "got (4,) and (4,)"),
    "2-D y": (lambda t: _npz(t, x=np.zeros((4, 2)), y=np.zeros((4, 1))), "and (4, 1)"),
    "empty": (lambda t: _npz(t, x=np.zeros((0, 2)), y=np.zeros(0)), "got (0, 2) and (0,)"),
    "text x": (
        lambda t: _npz(t, x=np.array([["1", "2"], ["3", "4"]]), y=np.array([0, 1])),
        "'x' must be numeric, got dtype <U1",
    ),
    "object x": (
        lambda t: _npz(t, x=np.array([[1, None]], dtype=object), y=np.array([0])),
        "holds Python objects",
    ),
    "NaN": (
        lambda t: _npz(t, x=np.array([[0.0, 1.0], [np.nan, 2.0]]), y=np.array([0, 1])),
        "x[1, 0] is not finite (nan)",
    ),
    "single class": (
        lambda t: _npz(t, x=np.zeros((3, 2)), y=np.array([7, 7, 7])),
        "'y' holds a single class ('7'); need at least two",
    ),
}


@pytest.mark.parametrize("case", sorted(NPZ_CASES))
def test_bad_npz_is_one_clear_error(tmp_path: Path, case: str) -> None:
    make, expected = NPZ_CASES[case]
    path = make(tmp_path)
    with pytest.raises(DatasetError) as info:
        load_npz(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message, message
    assert "\n" not in message


def test_npz_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load(f"npz:{tmp_path / 'none.npz'}")


# -- Dataset invariants -----------------------------------------------------------------------
def test_dataset_checks_its_arrays() -> None:
    with pytest.raises(DatasetError, match=r"x must be \(n, d\)"):
        Dataset("d", np.zeros(4), np.zeros(4, dtype=np.int64), ("a", "b"))
    with pytest.raises(DatasetError, match="non-finite value at row 1, col 0"):
        Dataset("d", np.array([[0.0], [np.inf]]), np.array([0, 1]), ("a", "b"))
    with pytest.raises(DatasetError, match=r"single class \('b'\); classification needs"):
        Dataset("d", np.zeros((2, 1)), np.array([1, 1]), ("a", "b"))


def test_labels_to_ints() -> None:
    y, names = labels_to_ints(["10", "9", "10", "b"])
    assert names == ("10", "9", "b") and y.tolist() == [0, 1, 0, 2]  # text: sorted as text
    y, names = labels_to_ints(np.array([3, 1, 2, 1]))
    assert names == ("1", "2", "3") and y.tolist() == [2, 0, 1, 0]


# -- split ------------------------------------------------------------------------------------
def test_split_is_deterministic_by_seed_and_stratified() -> None:
    data = load("wine")
    a, b, c = split(data, seed=3), split(data, seed=3), split(data, seed=4)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.y_test, c.y_test) or not np.allclose(a.mean, c.mean)
    assert a.x_test.shape[0] == 36 and a.x_train.shape[0] == 142  # ceil(0.2 * 178)
    overall = np.bincount(data.y) / data.y.size
    for part in (a.y_train, a.y_test):
        share = np.bincount(part, minlength=3) / part.size
        assert np.abs(share - overall).max() < 0.03
    assert a.class_names == data.class_names and a.n_classes == 3


def test_split_partitions_the_rows() -> None:
    data = load("iris")
    parts = split(data, seed=1, test_fraction=0.3)
    rows = np.vstack([parts.x_train, parts.x_test]) * parts.scale + parts.mean
    original = {tuple(np.round(r, 6)) for r in data.x}
    restored = [tuple(np.round(r, 6)) for r in rows]
    assert len(restored) == 150 and set(restored) == original
    assert parts.x_test.shape[0] == 45


def test_standardisation_is_fitted_on_the_training_rows_only() -> None:
    rng = np.random.default_rng(0)
    n = 120
    x = np.column_stack([np.arange(n, dtype=float), rng.normal(3.0, 2.0, size=(n, 2))])
    data = Dataset("ids", x, np.arange(n) % 3, ("a", "b", "c"))  # column 0 identifies a row
    parts = split(data, seed=2)
    assert np.allclose(parts.x_train.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(parts.x_train.std(axis=0), 1.0)
    test_ids = np.rint(parts.x_test[:, 0] * parts.scale[0] + parts.mean[0]).astype(int)
    assert len(set(test_ids)) == 24
    # blow up the test rows only: the statistics and the training part must not change
    x_changed = x.copy()
    x_changed[test_ids, 1:] *= 1000.0
    changed = split(Dataset("ids", x_changed, data.y, data.class_names), seed=2)
    np.testing.assert_array_equal(changed.mean, parts.mean)
    np.testing.assert_array_equal(changed.scale, parts.scale)
    np.testing.assert_array_equal(changed.x_train, parts.x_train)
    assert np.abs(changed.x_test[:, 1:]).max() > 100 * np.abs(parts.x_test[:, 1:]).max()
    expected = (x[:3] - parts.mean) / parts.scale
    np.testing.assert_allclose(parts.standardise(x[:3]), expected)


def test_constant_columns_do_not_divide_by_zero() -> None:
    x = np.column_stack([np.ones(20), np.arange(20.0)])
    parts = split(Dataset("c", x, np.arange(20) % 2, ("a", "b")), seed=0)
    assert np.isfinite(parts.x_train).all() and np.all(parts.x_train[:, 0] == 0)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_bad_test_fraction(fraction: float) -> None:
    with pytest.raises(DatasetError, match=r"test fraction must be in \(0, 1\)"):
        split(load("iris"), test_fraction=fraction)


def test_too_small_to_stratify() -> None:
    data = Dataset("tiny", np.arange(5.0)[:, None], np.array([0, 0, 0, 0, 1]), ("a", "b"))
    with pytest.raises(DatasetError, match=r"too small for a stratified split .* \[4, 1\]"):
        split(data)


# -- the measured vowels (../shared/data, absent on a user's checkout) ------------------------
VOWELS = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "vowels"
    / "hillenbrand_women_7vowels.csv"
)


@pytest.mark.skipif(not VOWELS.is_file(), reason=f"measured data not present ({VOWELS})")
def test_vowels_csv() -> None:
    data = load(f"csv:{VOWELS}")
    assert data.x.shape == (258, 12)
    assert data.class_names == ("ae", "ah", "aw", "er", "ih", "iy", "uw")
    assert np.bincount(data.y).tolist() == [37] * 6 + [36]
    parts = split(data, seed=0)
    assert parts.x_test.shape == (52, 12)
