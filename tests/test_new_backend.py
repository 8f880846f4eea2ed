"""``phyll new-backend NAME`` writes a skeleton that installs (a real ``pip install`` into a
temporary folder), is listed by ``phyll systems``, and passes its own tests as generated."""

from __future__ import annotations

import configparser
import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from phyll_core.scaffold import names

NAME = "osc-skel"
DIST = "phyll-osc-skel"


def _pip_install(project: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """``pip install --no-deps --target``: without build isolation when this environment can
    build the project itself (no download then), else with it (setuptools from the registry)."""
    args = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
            str(target), str(project)]
    if importlib.util.find_spec("setuptools") is not None:
        import setuptools

        if int(setuptools.__version__.split(".")[0]) >= 69:
            args.insert(4, "--no-build-isolation")
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def skeleton(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from phyll_core.scaffold import generate

    root = tmp_path_factory.mktemp("new-backend")
    project = generate(NAME, root)
    site = root / "site"
    proc = _pip_install(project, site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return project, site


def test_the_command_writes_a_complete_skeleton(cli, tmp_path: Path) -> None:
    res = cli("new-backend", "osc-cli", "--dir", str(tmp_path))
    assert res.code == 0, res.err
    project = tmp_path / "phyll-osc-cli"
    files = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    if (project / ".python-version").exists():  # written on pyenv machines
        files.remove(".python-version")
    assert files == [
        "README.md", "docs/index.md", "phyll_osc_cli/__init__.py", "phyll_osc_cli/plugin.py",
        "phyll_osc_cli/system.py", "pyproject.toml", "tests/test_system.py", "tox.ini",
    ]
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert meta["name"] == "phyll-osc-cli"
    assert meta["entry-points"]["phyll"] == {"osc-cli": "phyll_osc_cli.plugin"}
    assert "wrote" in res.err
    again = cli("new-backend", "osc-cli", "--dir", str(tmp_path))
    assert again.code == 1 and "already exists" in again.err_lines[-1]
    assert [p.name for p in tmp_path.iterdir()] == ["phyll-osc-cli"]  # no half-written folder


@pytest.mark.parametrize("bad", ["Osc", "osc_chain", "1osc", "osc--x", "osc-"])
def test_bad_names_are_refused_in_one_line(cli, tmp_path: Path, bad: str) -> None:
    res = cli("new-backend", bad, "--dir", str(tmp_path))
    assert res.code == 1 and res.err_lines[-1].startswith("error: backend name must be")
    assert list(tmp_path.iterdir()) == []


def test_pyenv_versions_names_the_newest_patch_of_each(tmp_path: Path, monkeypatch) -> None:
    from phyll_core.scaffold import pyenv_versions

    for version in ("3.11.2", "3.11.10", "3.13.0", "3.10.4", "3.12.1-dev"):
        (tmp_path / "versions" / version / "bin").mkdir(parents=True)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    assert pyenv_versions() == ["3.11.10", "3.13.0"]
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    assert pyenv_versions() == []


def test_names() -> None:
    assert names("osc-chain") == {
        "name": "osc-chain", "dist": "phyll-osc-chain", "package": "phyll_osc_chain",
        "classname": "OscChain", "title": "Osc chain backend",
    }


def test_its_tox_ini_has_interpreter_and_core_factors(skeleton: tuple[Path, Path]) -> None:
    project, _ = skeleton
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(project / "tox.ini")
    assert ini["tox"]["env_list"].strip() == "py{311,312,313}-local"
    deps = ini["testenv"]["deps"]
    assert "local: {env:PHYLL_CORE_PATH:" in deps and "release: phyll-core" in deps


def _env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["PHYLL_LOAD_PLUGINS"] = DIST
    return env


def test_it_installs_and_is_listed(skeleton: tuple[Path, Path], phyll_subprocess) -> None:
    _, site = skeleton
    assert (site / "phyll_osc_skel-0.1.0.dist-info").is_dir()
    res = phyll_subprocess("systems", "--json", env={"PHYLL_LOAD_PLUGINS": DIST},
                           pythonpath=[site])
    assert res.code == 0, res.err
    row = {r["name"]: r for r in res.json()}[NAME]
    assert (row["input_dim"], row["output_dim"], row["plugin"]) == (16, 16, DIST)
    plugins = phyll_subprocess("plugins", "--json", env={"PHYLL_LOAD_PLUGINS": DIST},
                               pythonpath=[site])
    assert {r["name"]: r["ok"] for r in plugins.json()}[DIST] is True


def test_it_passes_its_own_tests(skeleton: tuple[Path, Path]) -> None:
    project, site = skeleton
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project, env=_env(site), capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout
