"""The walkthrough in docs/writing-a-backend.md works as written: its files are extracted,
installed as a distribution (the package plus a dist-info made from its pyproject.toml, as pip
would), its own tests pass, and ``phyll systems`` lists the system."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "writing-a-backend.md"
FILE_BLOCK = re.compile(r"\*\*`(phyll-speckle/[^`]+)`\*\*\n\n```[a-z]*\n(.*?)```", re.S)


def extract(root: Path) -> dict[str, str]:
    files = dict(FILE_BLOCK.findall(DOC.read_text(encoding="utf-8")))
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return files


def install(project: Path, site: Path) -> dict:
    """Copy the package into ``site`` and write the dist-info pip would write."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    for pkg in project.iterdir():
        if (pkg / "__init__.py").is_file():
            shutil.copytree(pkg, site / pkg.name)
    info = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    lines = [f"{k} = {v}" for k, v in meta["entry-points"]["phyll"].items()]
    (info / "entry_points.txt").write_text("[phyll]\n" + "\n".join(lines) + "\n")
    return meta


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("walkthrough")
    files = extract(root)
    assert set(files) == {
        "phyll-speckle/pyproject.toml",
        "phyll-speckle/phyll_speckle/__init__.py",
        "phyll-speckle/phyll_speckle/plugin.py",
        "phyll-speckle/phyll_speckle/system.py",
        "phyll-speckle/tests/test_speckle.py",
    }
    site = root / "site"
    meta = install(root / "phyll-speckle", site)
    return root, site, meta


def _env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["PHYLL_LOAD_PLUGINS"] = "phyll-speckle"
    return env


def test_the_walkthrough_tests_pass(walkthrough: tuple[Path, Path, dict]) -> None:
    root, site, _ = walkthrough
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root / "phyll-speckle",
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout


def test_phyll_systems_lists_it(walkthrough: tuple[Path, Path, dict], phyll_subprocess) -> None:
    _, site, meta = walkthrough
    res = phyll_subprocess("systems", "--json", env={"PHYLL_LOAD_PLUGINS": "phyll-speckle"},
                           pythonpath=[site])
    assert res.code == 0, res.err
    rows = {r["name"]: r for r in res.json()}
    assert rows["speckle"] == {
        "name": "speckle",
        "input_dim": 16,
        "output_dim": 16,
        "domain": "[0, 1]",
        "plugin": "phyll-speckle",
        "version": meta["version"],
        "description": "Phase-encoded light through a scattering medium onto a saturable camera.",
    }
    assert res.err == ""
    # the table shown on the page is what phyll prints
    shown = DOC.read_text(encoding="utf-8")
    row = next(ln for ln in shown.splitlines() if ln.startswith("│ speckle "))
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[:6] == ["speckle", "16", "16", "[0, 1]", "phyll-speckle", meta["version"]]
