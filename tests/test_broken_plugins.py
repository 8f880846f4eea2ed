"""Broken plugins must not break the CLI or the other plugins.

Discovery is real: each plugin below is a throwaway distribution written into a temporary
folder (a module plus ``<name>-<version>.dist-info`` with ``METADATA`` and
``entry_points.txt``), put on ``PYTHONPATH`` of a fresh ``python -m phyll_core`` process.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

HEADER = """\
from phyll_core import Param, SystemSpec, hookimpl


def _identity(**kw):
    from phyll_core.builtin_systems import Identity

    return Identity(**kw)


def system(name):
    return SystemSpec(name, _identity, "A test system.", (Param("dim", "int", 3, "width"),))
"""

# distribution name -> module body (after HEADER)
PLUGINS: dict[str, str] = {
    "phyll-tb-good": """
        @hookimpl
        def register_systems(register):
            register(system("tb-good"))
    """,
    "phyll-tb-importerror": """
        import phyll_tb_no_such_dependency  # noqa: F401
    """,
    "phyll-tb-raising": """
        @hookimpl
        def register_systems(register):
            raise RuntimeError("simulated failure inside the hook")
    """,
    "phyll-tb-badsig": """
        @hookimpl
        def register_systems(register, extra_argument):
            register(system("tb-badsig"))
    """,
    "phyll-tb-unknownhook": """
        @hookimpl
        def register_sytems(register):  # typo: not a phyll hook
            register(system("tb-unknownhook"))
    """,
    "phyll-tb-dup-a": """
        @hookimpl
        def register_systems(register):
            register(system("tb-shared"))
    """,
    "phyll-tb-dup-b": """
        @hookimpl
        def register_systems(register):
            register(system("tb-shared"))
            register(system("tb-dup-b-own"))
    """,
    "phyll-tb-shadow": """
        @hookimpl
        def register_systems(register):
            register(system("identity"))
    """,
    "phyll-tb-badcmd": """
        @hookimpl
        def register_commands(app):
            raise ValueError("simulated failure while adding commands")
    """,
    "phyll-tb-wrongspec": """
        from phyll_core import DatasetSpec

        @hookimpl
        def register_systems(register):
            register(DatasetSpec("tb-wrongspec", _identity, "Not a system."))
    """,
    "phyll-tb-needsparam": """
        @hookimpl
        def register_systems(register):
            register(SystemSpec("tb-needsparam", _identity, "Needs a path.",
                                (Param("path", "str", None, "a file", required=True),)))
    """,
}

# distribution -> text its error (in `phyll plugins` and in the stderr warning) must contain
EXPECTED_ERRORS: dict[str, tuple[str, ...]] = {
    "phyll-tb-importerror": ("failed to import", "phyll_tb_no_such_dependency"),
    "phyll-tb-raising": ("raised in register_systems", "simulated failure inside the hook"),
    "phyll-tb-badsig": ("does not match the hook specs", "extra_argument"),
    "phyll-tb-unknownhook": ("unknown hook", "register_sytems"),
    "phyll-tb-dup-b": ("system 'tb-shared'", "'phyll-tb-dup-a'", "'phyll-tb-dup-b'"),
    "phyll-tb-shadow": ("system 'identity'", "'phyll-core'", "'phyll-tb-shadow'"),
    "phyll-tb-badcmd": ("raised in register_commands", "simulated failure while adding"),
    "phyll-tb-wrongspec": ("raised in register_systems", "register() expects a SystemSpec"),
}
HEALTHY = ["phyll-tb-good", "phyll-tb-dup-a", "phyll-tb-needsparam"]
VERSION = "1.2.3"


def module_name(dist: str) -> str:
    return dist.replace("-", "_")


def write_distribution(root: Path, dist: str, body: str, version: str = VERSION) -> None:
    """Write an importable module and a dist-info folder declaring its ``phyll`` entry point."""
    module = module_name(dist)
    (root / f"{module}.py").write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    info = root / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[phyll]\n{dist} = {module}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    for dist, body in PLUGINS.items():
        write_distribution(root, dist, body)
    return root


ALL_TB = ",".join(PLUGINS)


@pytest.fixture(scope="module")
def listed(site: Path, phyll_subprocess) -> dict:
    """``plugins --json`` and ``systems --json`` with every throwaway plugin (and only those)."""
    run_phyll = phyll_subprocess
    env = {"PHYLL_LOAD_PLUGINS": ALL_TB}
    return {
        "plugins": run_phyll("plugins", "--json", env=env, pythonpath=[site]),
        "systems": run_phyll("systems", "--json", env=env, pythonpath=[site]),
    }


@pytest.mark.parametrize("command", ["plugins", "systems"])
def test_cli_still_works(listed: dict, command: str) -> None:
    res = listed[command]
    assert res.code == 0, res.err
    assert isinstance(res.json(), list)
    assert "Traceback" not in res.err


def test_healthy_plugins_and_builtins_are_listed(listed: dict) -> None:
    plugins = {r["name"]: r for r in listed["plugins"].json()}
    for name in ["phyll-core", *HEALTHY]:
        assert plugins[name]["ok"], plugins[name]
        assert plugins[name]["errors"] == []
    assert plugins["phyll-tb-good"]["version"] == VERSION
    assert plugins["phyll-tb-good"]["hooks"] == ["register_systems"]
    systems = {r["name"]: r for r in listed["systems"].json()}
    assert {"identity", "random-features", "tb-good", "tb-shared"} <= set(systems)
    assert systems["tb-good"]["plugin"] == "phyll-tb-good"
    assert systems["tb-good"]["input_dim"] == 3


@pytest.mark.parametrize("dist", sorted(EXPECTED_ERRORS))
def test_broken_plugin_is_listed_with_its_error(listed: dict, dist: str) -> None:
    plugins = {r["name"]: r for r in listed["plugins"].json()}
    assert dist in plugins, f"{dist} missing from {sorted(plugins)}"
    row = plugins[dist]
    assert row["ok"] is False
    assert row["version"] == VERSION
    assert len(row["errors"]) == 1, row["errors"]
    for fragment in EXPECTED_ERRORS[dist]:
        assert fragment in row["errors"][0], row["errors"][0]


@pytest.mark.parametrize("dist", sorted(EXPECTED_ERRORS))
def test_broken_plugin_warns_in_one_line_on_stderr(listed: dict, dist: str) -> None:
    for command in ("plugins", "systems"):
        lines = [ln for ln in listed[command].err_lines if f"plugin '{dist}'" in ln]
        assert len(lines) == 1, listed[command].err
        assert lines[0].startswith(f"warning: plugin '{dist}' ")
        for fragment in EXPECTED_ERRORS[dist]:
            assert fragment in lines[0]


def test_stderr_holds_only_the_warnings(listed: dict) -> None:
    for command in ("plugins", "systems"):
        lines = listed[command].err_lines
        assert all(ln.startswith("warning: plugin '") for ln in lines), lines
        assert len(lines) == len(EXPECTED_ERRORS)


def test_items_of_a_failing_plugin_are_not_half_registered(listed: dict) -> None:
    systems = {r["name"]: r for r in listed["systems"].json()}
    assert "tb-badsig" not in systems
    assert "tb-unknownhook" not in systems
    # the first registration of a duplicated name wins; the core's built-in cannot be shadowed
    assert systems["tb-shared"]["plugin"] == "phyll-tb-dup-a"
    assert systems["identity"]["plugin"] == "phyll-core"
    assert systems["tb-dup-b-own"]["plugin"] == "phyll-tb-dup-b"


def test_other_commands_still_work(site: Path, phyll_subprocess) -> None:
    res = phyll_subprocess(
        "probe", "tb-good", "--samples", "16", "--json",
        env={"PHYLL_LOAD_PLUGINS": ALL_TB}, pythonpath=[site],
    )
    assert res.code == 0, res.err
    assert res.json()["samples"] == 16


def test_all_plugins_load_when_the_variable_is_unset(site: Path, phyll_subprocess) -> None:
    res = phyll_subprocess("plugins", "--json", pythonpath=[site])
    assert res.code == 0, res.err
    names = {r["name"] for r in res.json()}
    assert set(PLUGINS) | {"phyll-core"} <= names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ["phyll-core"]),
        ("phyll-tb-good,phyll-tb-dup-a", ["phyll-core", "phyll-tb-dup-a", "phyll-tb-good"]),
        (" PHYLL_TB_GOOD , ", ["phyll-core", "phyll-tb-good"]),
    ],
)
def test_phyll_load_plugins_limits_loading(
    site: Path, phyll_subprocess, value: str, expected: list[str]
) -> None:
    env = {"PHYLL_LOAD_PLUGINS": value}
    res = phyll_subprocess("plugins", "--json", env=env, pythonpath=[site])
    assert res.code == 0, res.err
    assert sorted(r["name"] for r in res.json()) == expected
    assert res.err_lines == []  # broken plugins left out are never imported


def test_a_system_that_needs_parameters_is_listed_with_a_note(listed: dict) -> None:
    row = {r["name"]: r for r in listed["systems"].json()}["tb-needsparam"]
    assert (row["input_dim"], row["output_dim"], row["domain"]) == (None, None, None)
    assert "parameter 'path' of system 'tb-needsparam' is required" in row["note"]
    assert row["plugin"] == "phyll-tb-needsparam"
