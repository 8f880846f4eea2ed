"""``digits`` is read from scikit-learn's bundled file without importing scikit-learn, and
gives exactly the arrays of ``sklearn.datasets.load_digits``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from phyll_core.datasets import load_digits, sklearn_data_file


def test_digits_equal_sklearn_load_digits() -> None:
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits as sk_load_digits

    ours = load_digits()
    bunch = sk_load_digits()
    assert ours.x.dtype == np.float64 and ours.y.dtype == np.int64
    assert np.array_equal(ours.x, bunch.data) and np.array_equal(ours.y, bunch.target)
    assert ours.class_names == tuple(str(n) for n in bunch.target_names)


def test_digits_do_not_import_sklearn() -> None:
    if sklearn_data_file("digits.csv.gz") is None:
        pytest.skip("scikit-learn's digits file is not installed")
    code = (
        "import sys; from phyll_core.datasets import load; d = load('digits');"
        " print(d.x.shape, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(1797,", "64)", "False"]


def test_missing_file_is_none() -> None:
    assert sklearn_data_file("no-such-file.csv.gz") is None
