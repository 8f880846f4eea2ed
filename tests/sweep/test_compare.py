"""``phyll compare --systems``: identity always included, mean ± std per prediction method, the
gain over identity; compare on Dask (``--workers``) gives the numbers of this process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.sweep.conftest import phyll_command


def test_compare_systems_includes_identity_and_reports_the_gain(
    cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    args = ["compare", "--systems", "random-features", "-d", "iris", "--seeds", "3", "-e", "4",
            "-p", "scale=2", "--out", str(out)]
    result = cli(*args, "--json")
    assert result.code == 0, result.err
    payload = result.json()
    systems = {s["system"]: s for s in payload["systems"]}
    assert list(systems) == ["identity", "random-features"]
    ident, rf = systems["identity"], systems["random-features"]
    for method in ("goodness", "readout"):
        assert len(rf["per_seed"][method]) == 3
        gain = rf["gain_over_identity"][method]
        diffs = [a - b for a, b in zip(rf["per_seed"][method], ident["per_seed"][method],
                                       strict=True)]
        assert gain["mean"] == pytest.approx(sum(diffs) / 3)
        assert rf["accuracy"][method]["mean"] == pytest.approx(
            sum(rf["per_seed"][method]) / 3
        )
        assert rf["accuracy"][method]["mean"] > 0.6
    assert ident["gain_over_identity"]["goodness"]["mean"] == 0.0
    # the physical layer's options are recorded with the numbers
    assert (payload["whiten"], payload["reduce"], payload["dither"]) == (0.0, None, 0.0)
    assert (out / "results.json").is_file() and (out / "systems.png").is_file()
    assert len(list((out / "runs").glob("*.json"))) == 6
    # the same per-seed numbers as phyll train (the parameter reaches only the system that
    # declares it)
    single = cli("train", "-s", "random-features", "-d", "iris", "-e", "4", "--seed", "1",
                 "-p", "scale=2", "--json", "--out", str(tmp_path / "train")).json()
    expected = single["accuracy_by_method"]["goodness"]["test_accuracy"]
    assert rf["per_seed"]["goodness"][1] == expected
    # a rerun with --out resumes: nothing is trained again
    again = cli(*args)
    assert again.code == 0, again.err
    assert "done" not in again.err
    assert "gain over identity" in " ".join(again.out.split())


def test_compare_systems_refuses_a_parameter_no_system_declares(cli: Any) -> None:
    result = cli("compare", "--systems", "random-features", "-p", "nope=1", "--seeds", "1")
    assert result.code == 1
    assert "declares" in result.err_lines[-1] and "nope" in result.err_lines[-1]


def test_compare_on_dask_equals_this_process(cli: Any) -> None:
    import subprocess

    from tests.sweep.conftest import env

    args = ["compare", "--rules", "phyll,backprop", "-d", "iris", "--seeds", "2", "-e", "3",
            "--drift", "0.5", "--json"]
    here = cli(*args).json()
    proc = subprocess.run(phyll_command(*args, "--workers", "1"), capture_output=True,
                          text=True, env=env(), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    there = json.loads(proc.stdout)
    for a, b in zip(here["rules"], there["rules"], strict=True):
        assert a["rule"] == b["rule"]
        for key in ("test_accuracy", "accuracy_before_drift", "accuracy_after_drift"):
            assert a[key] == b[key], (a["rule"], key)
        assert a["physical_queries"] == b["physical_queries"]
