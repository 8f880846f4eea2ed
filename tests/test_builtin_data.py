"""The shipped ``vowels`` dataset: the documented content, its licence file, the published
linear reference, and the package-data declaration that puts it into a wheel."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import numpy as np
import pytest

from phyll_core.datasets import load, split

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "phyll_core" / "data"
SHARED = REPO.parent / "shared" / "data" / "vowels" / "hillenbrand_women_7vowels.csv"


def test_vowels_is_the_documented_subset() -> None:
    data = load("vowels")
    assert data.name == "vowels"
    assert data.x.shape == (258, 12) and data.x.dtype == np.float64
    assert data.class_names == ("ae", "ah", "aw", "er", "ih", "iy", "uw")
    assert np.bincount(data.y).tolist() == [37, 37, 37, 37, 37, 37, 36]
    assert data.x.min() > 200 and data.x.max() < 4000  # formant frequencies in Hz


@pytest.mark.skipif(not SHARED.is_file(), reason="../shared/data/vowels not present")
def test_vowels_equal_the_reference_file() -> None:
    from phyll_core.datasets import load_csv

    ref = load_csv(str(SHARED))
    data = load("vowels")
    assert np.array_equal(ref.x, data.x) and np.array_equal(ref.y, data.y)


def test_vowels_logistic_regression_reference() -> None:
    """docs/datasets.md quotes about 98.7 % over 10 seeds for a logistic regression."""
    from sklearn.linear_model import LogisticRegression

    data = load("vowels")
    scores = []
    for seed in range(10):
        parts = split(data, seed=seed)
        model = LogisticRegression(max_iter=2000).fit(parts.x_train, parts.y_train)
        scores.append(model.score(parts.x_test, parts.y_test))
    assert np.mean(scores) == pytest.approx(0.987, abs=0.01)


def test_licence_and_citation_ship_beside_the_data() -> None:
    text = (DATA / "LICENSE-vowels.txt").read_text(encoding="utf-8")
    assert "Copyright (c) 2023 Ali Momeni" in text
    assert "Permission is hereby granted, free of charge" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in text
    assert "Hillenbrand" in text and "97, 3099 (1995)" in text


def test_package_data_declaration_covers_every_data_file() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["phyll_core"]
    files = [p.relative_to(REPO / "phyll_core").as_posix() for p in DATA.iterdir() if p.is_file()]
    assert files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert not missing, f"not declared as package data: {missing}"


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_export_round_trips(tmp_path: Path, suffix: str) -> None:
    from phyll_core.export import export_dataset

    data = load("vowels")
    path = export_dataset(data, tmp_path / f"vowels{suffix}", label_column="vowel")
    kind = suffix[1:]
    back = load(f"{kind}:{path}", **({"label_column": "vowel"} if kind == "csv" else {}))
    assert np.array_equal(back.x, data.x) and np.array_equal(back.y, data.y)
    assert back.class_names == data.class_names


def test_export_command(cli, tmp_path: Path) -> None:
    res = cli("datasets", "export", "iris", "--out", str(tmp_path / "iris.csv"))
    assert res.code == 0, res.err
    assert "150 rows, 4 features, 3 classes" in res.err
    assert (tmp_path / "iris.csv").read_text().splitlines()[0].endswith(",label")
    bad = cli("datasets", "export", "iris", "--out", str(tmp_path / "iris.txt"))
    assert bad.code == 1 and bad.err_lines == [
        f"error: {tmp_path / 'iris.txt'}: export writes .csv or .npz files, got '.txt'"
    ]
    listing = cli("datasets", "--json")
    assert "vowels" in [row["name"] for row in listing.json()]
