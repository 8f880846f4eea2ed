"""The listing commands, ``--json`` keys, and how the CLI reports errors."""

from __future__ import annotations

import pytest

from phyll_core.errors import ParameterError, UnknownNameError

PLUGIN_KEYS = {"name", "version", "hooks", "ok", "errors"}
SYSTEM_KEYS = {"name", "input_dim", "output_dim", "domain", "plugin", "version", "description"}
ITEM_KEYS = {"name", "plugin", "version", "description", "params"}
PARAM_KEYS = {"name", "type", "default", "help"}
PROBE_KEYS = {
    "system", "samples", "samples_per_second", "nonlinearity", "output_mean", "output_std"
}


@pytest.fixture(autouse=True)
def _wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich folds long cells in narrow tables


def by_name(rows: list[dict]) -> dict[str, dict]:
    return {r["name"]: r for r in rows}


# -- --json of every listing ------------------------------------------------------------------
def test_plugins_json(cli) -> None:
    res = cli("plugins", "--json")
    assert res.code == 0, res.err
    rows = res.json()
    assert rows and all(set(r) >= PLUGIN_KEYS for r in rows)
    core = by_name(rows)["phyll-core"]
    assert core["ok"] is True and core["errors"] == []
    assert {"register_systems", "register_datasets"} <= set(core["hooks"])
    from phyll_core import __version__

    assert core["version"] == __version__


def test_systems_json(cli) -> None:
    res = cli("systems", "--json")
    assert res.code == 0, res.err
    rows = by_name(res.json())
    assert all(set(r) >= SYSTEM_KEYS for r in rows.values())
    assert rows["identity"] | {"version": None} == {
        "name": "identity",
        "input_dim": 20,
        "output_dim": 20,
        "domain": "[0, 1]",
        "plugin": "phyll-core",
        "version": None,
        "description": "No physics: y = x on [0, 1]^dim (the digital reference).",
    }
    assert rows["random-features"]["plugin"] == "phyll-core"


def test_systems_show_json_has_every_param_with_its_value(cli) -> None:
    res = cli(
        "systems", "show", "random-features",
        "--param", "nonlinearity=cos", "--param", "inputs=5", "--json",
    )
    assert res.code == 0, res.err
    row = res.json()
    assert SYSTEM_KEYS | {"params"} <= set(row)
    assert (row["input_dim"], row["output_dim"]) == (5, 20)
    params = by_name(row["params"])
    assert set(params) == {"inputs", "outputs", "nonlinearity", "scale", "seed"}
    assert all(PARAM_KEYS | {"value"} <= set(p) for p in params.values())
    assert params["nonlinearity"]["value"] == "cos"
    assert params["nonlinearity"]["default"] == "tanh"
    assert params["nonlinearity"]["choices"] == ["tanh", "abs", "cos", "sigmoid"]
    assert params["inputs"]["value"] == 5
    assert params["scale"]["value"] == params["scale"]["default"] == 3.0


@pytest.mark.parametrize(
    ("command", "expected", "extra"),
    [
        ("datasets", {"digits", "iris", "wine", "circles", "csv", "npz"}, {"usage"}),
        ("rules", {"phyll"}, set()),
        ("losses", {"cosine", "softplus-delta"}, {"kind"}),
    ],
)
def test_item_listings_json(cli, command: str, expected: set[str], extra: set[str]) -> None:
    res = cli(command, "--json")
    assert res.code == 0, res.err
    rows = by_name(res.json())
    assert expected <= set(rows), sorted(rows)
    for row in rows.values():
        assert ITEM_KEYS | extra <= set(row), row
        assert isinstance(row["params"], list)
        assert all(set(p) >= PARAM_KEYS for p in row["params"])


def test_datasets_json_usage_and_params(cli) -> None:
    rows = by_name(cli("datasets", "--json").json())
    assert rows["csv"]["usage"] == "csv:PATH" and rows["circles"]["usage"] == "circles"
    assert by_name(rows["csv"]["params"])["label_column"]["default"] == "label"


def test_probe_json(cli) -> None:
    res = cli("probe", "random-features", "--samples", "256", "--json")
    assert res.code == 0, res.err
    row = res.json()
    assert set(row) >= PROBE_KEYS
    assert row["system"] == "random-features" and row["samples"] == 256
    assert row["samples_per_second"] > 0
    assert -1.0 <= row["output_mean"] <= 1.0 and row["output_std"] > 0


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("plugins",), ["phyll-core", "register_systems"]),
        (("systems",), ["identity", "random-features", "[0, 1]"]),
        (("systems", "show", "identity"), ["dim", "input and output width"]),
        (("datasets",), ["circles", "csv:PATH"]),
        (("rules",), ["phyll"]),
        (("losses",), ["cosine"]),
        (("probe", "identity", "-n", "64"), ["nonlinearity", "samples per second"]),
    ],
)
def test_tables(cli, args: tuple[str, ...], needles: list[str]) -> None:
    res = cli(*args)
    assert res.code == 0, res.err
    for needle in needles:
        assert needle in res.out
    assert not res.out.lstrip().startswith(("[", "{"))


def test_version(cli) -> None:
    from phyll_core import __version__

    res = cli("--version")
    assert (res.code, res.out.strip()) == (0, f"phyll {__version__}")


def test_help_lists_every_core_command(cli) -> None:
    res = cli("--help")
    assert res.code == 0
    for command in ("plugins", "systems", "rules", "losses", "datasets", "probe"):
        assert command in res.out


# -- errors -----------------------------------------------------------------------------------
def assert_one_line_error(res, code: int = 1) -> str:
    assert res.code == code, (res.code, res.out, res.err)
    lines = res.err_lines
    assert len(lines) == 1, res.err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in res.err
    assert res.out == ""
    return lines[0]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("systems", "show", "randm-features"), ["unknown system", "mean 'random-features'"]),
        (("probe", "identiti"), ["unknown system 'identiti'", "did you mean 'identity'"]),
        (("probe", "identity", "--param", "dimm=3"), ["unknown parameter 'dimm'", "'dim'"]),
        (("probe", "identity", "--param", "dim=three"), ["'dim'", "expects int", "'three'"]),
        (("probe", "identity", "--param", "dim=0"), ["'dim'", ">= 1"]),
        (("probe", "identity", "--param", "dim"), ["expected NAME=VALUE", "'dim'"]),
        (("probe", "random-features", "-p", "nonlinearity=relu"), ["must be one of", "tanh"]),
        (("systems", "show", "identity", "--param", "=3"), ["expected NAME=VALUE"]),
    ],
)
def test_user_errors_are_one_line(cli, args: tuple[str, ...], needles: list[str]) -> None:
    line = assert_one_line_error(cli(*args))
    for needle in needles:
        assert needle in line


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("no-such-command",), "No such command"),
        (("probe", "identity", "--samples", "2"), "--samples"),
        (("systems", "show"), "Missing argument"),
        (("plugins", "--jsn"), "--jsn"),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(cli, args: tuple[str, ...], needle: str) -> None:
    line = assert_one_line_error(cli(*args), code=2)
    assert needle in line and "--help" in line


def test_unknown_names_suggest_the_closest_one() -> None:
    from phyll_core.datasets import load
    from phyll_core.factory import build_system

    with pytest.raises(UnknownNameError, match="did you mean 'circles'") as info:
        load("cirles")
    assert info.value.suggestion == "circles"
    with pytest.raises(UnknownNameError, match="did you mean 'random-features'"):
        build_system("random_features")
    with pytest.raises(UnknownNameError) as info:
        build_system("zzzzzz")
    assert "did you mean" not in str(info.value) and info.value.suggestion is None
    assert "known: " in str(info.value) and "identity" in str(info.value)


def test_debug_reraises_in_process(cli) -> None:
    with pytest.raises(UnknownNameError):
        cli("--debug", "probe", "identiti")
    with pytest.raises(ParameterError):
        cli("--debug", "probe", "identity", "--param", "dim=x")


def test_phyll_debug_variable_reraises(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHYLL_DEBUG", "1")
    with pytest.raises(UnknownNameError):
        cli("probe", "identiti")


def test_debug_prints_a_traceback(phyll_subprocess) -> None:
    env = {"PHYLL_LOAD_PLUGINS": ""}
    plain = phyll_subprocess("probe", "identiti", env=env)
    assert plain.code == 1 and len(plain.err_lines) == 1 and "Traceback" not in plain.err
    debug = phyll_subprocess("--debug", "probe", "identiti", env=env)
    assert debug.code != 0
    assert "Traceback" in debug.err and "UnknownNameError" in debug.err
