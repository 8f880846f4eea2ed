"""The measured acoustic-cavity pairs shipped with the plugin (``--pairs-source
acoustic-cavity``): exact storage, licence, package data, the CLI; and a quiet TensorFlow
import."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from phyll_tf_twin.builtin_pairs import (
    SOURCES,
    decode_decimal,
    encode_decimal,
    load_builtin_pairs,
)

PLUGIN = Path(__file__).resolve().parents[1]
DATA = PLUGIN / "phyll_tf_twin" / "data"


def test_shipped_pairs_have_the_documented_shape_and_range() -> None:
    pairs = load_builtin_pairs("acoustic-cavity")
    assert pairs.inputs.shape == (8000, 20) and pairs.outputs.shape == (8000, 20)
    assert pairs.inputs.dtype == np.float64 and pairs.outputs.dtype == np.float64
    assert not pairs.inputs[0].any()  # row 0 is the all-zero drive
    assert pairs.inputs.min() >= 0.0 and pairs.inputs.max() < 1.0
    assert pairs.outputs.min() >= 0.0 and 1.5 < pairs.outputs.max() < 2.5
    assert pairs.source["kind"] == "builtin-pairs" and pairs.source["total_rows"] == 8000


def test_shipped_pairs_equal_the_published_csv_bit_for_bit(acoustic_cavity: Path) -> None:
    pairs = load_builtin_pairs("acoustic-cavity")
    x = np.loadtxt(acoustic_cavity / "inputs.csv", delimiter=",")
    y = np.loadtxt(acoustic_cavity / "outputs.csv", delimiter=",")
    assert np.array_equal(pairs.inputs, x) and np.array_equal(pairs.outputs, y)
    # float32 storage would not have been exact
    assert not np.array_equal(x.astype(np.float32).astype(np.float64), x)


def test_decimal_codec_round_trips_text_exactly() -> None:
    cells = [["0", "0.45096", "6.7092e-05", "1.9"], ["-0.0014679", "12", "3e2", "0.1"]]
    m, k = encode_decimal(cells)
    values = decode_decimal(m, k)
    assert np.array_equal(values, np.array([[float(c) for c in row] for row in cells]))


def test_rows_and_unknown_source() -> None:
    part = load_builtin_pairs("acoustic-cavity", "7000:")
    assert part.rows == 1000 and part.source["rows"] == [7000, 8000]
    from phyll_core.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="did you mean 'acoustic-cavity'"):
        load_builtin_pairs("acoustic-cavty")


def test_licence_citation_and_package_data() -> None:
    text = (DATA / "LICENSE-acoustic-cavity.txt").read_text(encoding="utf-8")
    assert "Copyright (c) 2023 Ali Momeni" in text
    assert "Permission is hereby granted, free of charge" in text and "Science 382, 1297" in text
    config = tomllib.loads((PLUGIN / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["phyll_tf_twin"]
    import fnmatch

    for name, (filename, _) in SOURCES.items():
        assert (DATA / filename).is_file(), name
        assert any(fnmatch.fnmatch(f"data/{filename}", p) for p in patterns)
    assert any(fnmatch.fnmatch("data/LICENSE-acoustic-cavity.txt", p) for p in patterns)


def test_fit_and_evaluate_on_the_shipped_pairs(cli, tmp_path: Path) -> None:
    out = tmp_path / "cavity.keras"
    fit = cli("twin", "fit", "--pairs-source", "acoustic-cavity", "--rows", "0:2000",
              "--hidden", "32", "--epochs", "3", "--out", out, "-q", "--json")
    assert fit.code == 0, fit.err
    summary = fit.json()
    assert summary["source"]["name"] == "acoustic-cavity" and summary["train_rows"] == 1800
    ev = cli("twin", "evaluate", out, "--pairs-source", "acoustic-cavity", "--rows", "7000:",
             "--json")
    assert ev.code == 0, ev.err
    result = ev.json()
    assert result["rows"] == 1000 and result["rmse"] < result["output_std"]


def test_pairs_options_exclude_each_other(cli, tmp_path: Path, pairs_csv) -> None:
    res = cli("twin", "fit", "--pairs-source", "acoustic-cavity", "--pairs", *pairs_csv,
              "--out", tmp_path / "m.keras")
    assert res.code != 0
    assert "give one of --pairs" in res.err and "Traceback" not in res.err


QUIET = """
import os, sys
from phyll_tf_twin._tf import _filtered_stderr, tensorflow
with _filtered_stderr():  # noise is dropped, anything else passes through
    os.write(2, b"I0000 00:00:1796114322.497682   11393 port.cc:153] oneDNN custom ops\\n")
    os.write(2, b"a real problem\\n")
tf = tensorflow()
print(tf.constant(2.0).numpy() * 2)
"""


def test_tensorflow_import_prints_no_log_noise() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL",)}
    proc = subprocess.run([sys.executable, "-c", QUIET], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "4.0"
    assert proc.stderr.strip() == "a real problem", proc.stderr
