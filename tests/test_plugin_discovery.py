"""Discovery through a real installed package: tests/plugin_pkg (``phyll-testplugin``), which
the tox env ``core`` pip-installs (locally: ``pip install tests/plugin_pkg``)."""

from __future__ import annotations

from importlib import metadata

import numpy as np
import pytest

try:
    TESTPLUGIN_VERSION = metadata.version("phyll-testplugin")
except metadata.PackageNotFoundError:
    TESTPLUGIN_VERSION = ""

pytestmark = pytest.mark.skipif(
    not TESTPLUGIN_VERSION,
    reason="phyll-testplugin is not installed (pip install tests/plugin_pkg; tox -e core does)",
)

HOOKS = ["register_commands", "register_datasets", "register_systems"]
ONLY_IT = {"PHYLL_LOAD_PLUGINS": "phyll-testplugin"}  # faster, and independent of other plugins


@pytest.fixture(autouse=True)
def _wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich folds long cells in narrow tables


def test_version_is_the_declared_one() -> None:
    assert TESTPLUGIN_VERSION == "0.3.1"


def _row(rows: list[dict], name: str) -> dict:
    found = [r for r in rows if r["name"] == name]
    assert found, f"'{name}' not listed; got {[r['name'] for r in rows]}"
    return found[0]


def test_plugins_lists_it_in_a_fresh_process(phyll_subprocess) -> None:
    res = phyll_subprocess("plugins", "--json")
    assert res.code == 0, res.err
    row = _row(res.json(), "phyll-testplugin")
    assert row == {
        "name": "phyll-testplugin",
        "version": TESTPLUGIN_VERSION,
        "hooks": HOOKS,
        "ok": True,
        "errors": [],
    }
    assert _row(res.json(), "phyll-core")["ok"]


def test_plugins_table_shows_name_version_and_hooks(cli) -> None:
    res = cli("plugins")
    assert res.code == 0, res.err
    line = next(ln for ln in res.out.splitlines() if "phyll-testplugin" in ln)
    assert TESTPLUGIN_VERSION in line
    assert "register_commands" in res.out


def test_systems_lists_its_system_with_plugin_and_version(phyll_subprocess) -> None:
    res = phyll_subprocess("systems", "--json", env=ONLY_IT)
    assert res.code == 0, res.err
    row = _row(res.json(), "testplugin-square")
    assert row == {
        "name": "testplugin-square",
        "input_dim": 6,
        "output_dim": 4,
        "domain": "[0, 1]",
        "plugin": "phyll-testplugin",
        "version": TESTPLUGIN_VERSION,
        "description": "Square-law detector of a seeded random mix (test plugin).",
    }
    assert {"identity", "random-features"} <= {r["name"] for r in res.json()}


def test_systems_table_names_it(cli) -> None:
    res = cli("systems")
    assert res.code == 0, res.err
    assert "testplugin-square" in res.out and "phyll-testplugin" in res.out


def test_systems_show_builds_it_with_params(cli) -> None:
    res = cli("systems", "show", "testplugin-square", "--param", "inputs=3", "--json")
    assert res.code == 0, res.err
    row = res.json()
    assert (row["input_dim"], row["output_dim"], row["plugin"]) == (3, 4, "phyll-testplugin")
    assert {p["name"]: p["value"] for p in row["params"]} == {"inputs": 3, "outputs": 4, "seed": 0}


def test_its_dataset_is_listed_and_loads(cli) -> None:
    from phyll_core.datasets import load

    res = cli("datasets", "--json")
    assert _row(res.json(), "testplugin-xor")["plugin"] == "phyll-testplugin"
    data = load("testplugin-xor")
    assert data.x.shape == (200, 2) and set(np.unique(data.y)) == {0, 1}


def test_its_command_runs(phyll_subprocess) -> None:
    res = phyll_subprocess("testplugin-hello", "--name", "tester", env=ONLY_IT)
    assert res.code == 0, res.err
    assert res.out.strip() == "hello tester from phyll-testplugin"


def test_its_command_is_in_the_help(cli) -> None:
    res = cli("--help")
    assert res.code == 0 and "testplugin-hello" in res.out


def test_its_system_passes_the_conformance_suite() -> None:
    from phyll_core.factory import build_system
    from phyll_core.testing import check_system

    check_system(lambda seed: build_system("testplugin-square", {"seed": seed}))


def test_phyll_load_plugins_can_exclude_it(phyll_subprocess) -> None:
    res = phyll_subprocess("systems", "--json", env={"PHYLL_LOAD_PLUGINS": ""})
    assert res.code == 0, res.err
    names = {r["name"] for r in res.json()}
    assert "testplugin-square" not in names and "identity" in names
    # names are matched like distribution names: case, '_' and '-' do not matter
    res = phyll_subprocess("plugins", "--json", env={"PHYLL_LOAD_PLUGINS": " Phyll_TestPlugin "})
    assert sorted(r["name"] for r in res.json()) == ["phyll-core", "phyll-testplugin"]
