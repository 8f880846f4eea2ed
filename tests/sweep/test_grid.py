"""The grid: expansion, seeds, names, TOML equal to the command line, keys, dry run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from phyll_core.errors import PhyllError
from phyll_core.sweep.grid import GridInput, build_grid, make_spec, parse_seeds, read_toml


@pytest.fixture(autouse=True)
def _core_plugins(core_host: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from phyll_core import plugins

    monkeypatch.setattr(plugins, "_HOST", core_host)


def test_seeds_forms() -> None:
    assert parse_seeds(3) == [0, 1, 2]
    assert parse_seeds("3") == [0, 1, 2]
    assert parse_seeds("2:5") == [2, 3, 4]
    assert parse_seeds("1,4,4") == [1, 4]
    assert parse_seeds([7, 1]) == [7, 1]
    for bad in ("x", "5:2", -1, "1.5"):
        with pytest.raises(PhyllError):
            parse_seeds(bad)


def test_expansion_counts_and_parameters_go_to_the_systems_that_declare_them() -> None:
    grid = build_grid(
        GridInput(
            systems=["identity", "random-features"],
            datasets=["circles", "iris"],
            seeds=[0, 1, 2],
            axes={"width": ["16", "32"], "scale": ["1", "3"], "epochs": ["4"]},
        )
    )
    runs = grid.runs()
    # identity declares no `scale`: its two scale values are one run
    assert len(runs) == 2 * (1 + 2) * 2 * 3
    assert len({r.key for r in runs}) == len(runs)
    for run in runs:
        config = run.config()
        assert config.epochs == 4
        if config.system == ("identity",):
            assert config.params == {}
        else:
            assert config.params["scale"] in (1, 3)
            assert isinstance(config.params["scale"], int)
    assert grid.varying == ["dataset", "system", "width", "param.scale", "seed"]


def test_unknown_names_are_refused_with_a_suggestion() -> None:
    with pytest.raises(PhyllError, match="did you mean 'width'"):
        build_grid(GridInput(axes={"widht": ["3"]}))
    with pytest.raises(PhyllError, match="no system of this sweep declares parameter 'scale'"):
        build_grid(GridInput(systems=["identity"], axes={"param.scale": ["3"]}))
    with pytest.raises(PhyllError, match="expects int"):
        build_grid(GridInput(axes={"epochs": ["many"]}))
    with pytest.raises(PhyllError, match="unknown"):
        build_grid(GridInput(systems=["no-such-system"]))


def test_key_fills_defaults_and_an_invalid_configuration_is_marked() -> None:
    assert make_spec({"epochs": 60}).key == make_spec({}).key
    assert make_spec({"epochs": 5}).key != make_spec({}).key
    bad = make_spec({"blocks": 0})
    assert bad.error and "blocks" in bad.error


def test_a_field_added_later_keeps_the_keys_of_stores_written_before_it() -> None:
    # the keys these runs had before `dither` existed (commit 1d84219)
    assert make_spec({"dataset": "circles", "seed": 3}).key == "bc69ad09006e656f"
    old = make_spec({"system": ["microwave"], "dataset": "mnist1d"})
    assert old.key == "a950279030884363"
    assert make_spec({"system": ["microwave"], "dataset": "mnist1d", "dither": 1.0}).key != old.key


def test_toml_equals_the_command_line(tmp_path: Path) -> None:
    spec = tmp_path / "sweep.toml"
    spec.write_text(
        """
out = "results"
systems = ["identity", "random-features"]
datasets = ["circles"]
seeds = "0:2"

[grid]
epochs = 3
lr = [0.01, 0.03]
skip = [true, false]

[grid.param]
scale = [1.0, 3.0]
"""
    )
    from_file = read_toml(spec)
    assert from_file.out == "results"
    cli = GridInput(
        systems=["identity", "random-features"],
        datasets=["circles"],
        seeds=parse_seeds("0:2"),
        axes={"epochs": ["3"], "lr": ["0.01", "0.03"], "skip": ["true", "false"],
              "param.scale": ["1.0", "3.0"]},
    )
    a = [r.key for r in build_grid(from_file).runs()]
    b = [r.key for r in build_grid(cli).runs()]
    assert a == b and len(a) == 2 * 2 * 2 + 2 * 2 * 2 * 2


def test_bad_toml_is_one_readable_error(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text("systems = [\n")
    with pytest.raises(PhyllError, match="not valid TOML"):
        read_toml(spec)
    spec.write_text("sytems = ['identity']\n")
    with pytest.raises(PhyllError, match="unknown keys"):
        read_toml(spec)


def test_dry_run_prints_the_runs_and_their_count(cli: Any) -> None:
    result = cli(
        "sweep", "--systems", "identity,random-features", "--datasets", "circles,iris",
        "--seeds", "0:3", "--grid", "width=8,16", "--dry-run",
    )
    assert result.code == 0, result.err
    lines = result.out.strip().splitlines()
    assert lines[-1] == "24 run(s)"
    assert len(lines) == 25
    as_json = cli(
        "sweep", "--systems", "identity", "--seeds", "2", "--dry-run", "--json"
    ).json()
    assert as_json["runs"] == 2


def test_sweep_without_out_is_a_one_line_error(cli: Any) -> None:
    result = cli("sweep", "--systems", "identity", "--workers", "0")
    assert result.code == 1
    assert result.err_lines == ["error: give --out DIR (or `out = \"DIR\"` in the sweep file)"]


def test_the_sweep_file_of_the_docs_is_valid(tmp_path: Path, cli: Any) -> None:
    import re

    doc = Path(__file__).resolve().parents[2] / "docs" / "sweeps.md"
    block = re.search(r"```toml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    assert block is not None
    spec = tmp_path / "sweep.toml"
    spec.write_text(block.group(1))
    assert read_toml(spec).out == "sweeps/widths"
    result = cli("sweep", str(spec), "--dry-run")
    assert result.code == 0, result.err
    # identity: 2 datasets x 2 widths x 2 negatives x 3 seeds; random-features also x 2 scales
    assert result.out.strip().splitlines()[-1] == f"{24 + 48} run(s)"


def test_unknown_group_by_is_refused_before_running(cli: Any, tmp_path: Path) -> None:
    result = cli("sweep", "--systems", "identity", "--out", str(tmp_path), "--group-by", "sytem")
    assert result.code == 1
    assert result.err_lines[0].startswith("error: --group-by: unknown column(s) ['sytem']")
    assert not (tmp_path / "runs").exists()
