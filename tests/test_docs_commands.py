"""Every console command of docs/ and README.md runs as written on a fresh folder (see
:mod:`docs_runner` for the markers that skip, shorten or expect an error). Blocks that need
TensorFlow run in phyll-tf-twin's tests; blocks of plugins not installed here are skipped."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import docs_runner

BLOCKS = [b for b in docs_runner.blocks() if not b.needs_tf]
_FOLDERS: dict[Path, Path] = {}


@pytest.fixture
def page_folder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    block = request.node.callspec.params["block"]
    if block.page not in _FOLDERS:
        _FOLDERS[block.page] = tmp_path_factory.mktemp(block.page.stem)
    return _FOLDERS[block.page]


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_documented_commands_run(block: docs_runner.Block, page_folder: Path) -> None:
    if "skip" in block.marks:
        pytest.skip(f"marked in the docs: {block.marks['skip']}")
    if os.environ.get("PHYLL_DOCS_ONLY_NEEDS") and "needs" not in block.marks:
        pytest.skip("runs in the core envs (PHYLL_DOCS_ONLY_NEEDS is set)")
    missing = docs_runner.missing_distributions(block.marks)
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (the docs tox env installs it)")
    docs_runner.run_block(block, page_folder)


def test_markers_are_known_and_every_page_is_scanned() -> None:
    known = {"skip", "tf", "needs", "expect-error", "quick", "train", "compare"}
    every = docs_runner.blocks()
    assert len(every) > 30
    for block in every:
        assert set(block.marks) <= known, (block.id, block.marks)
        assert block.commands, block.id
    assert any(b.page.name == "README.md" for b in every)
    # docs/results.md holds the benchmark commands behind its figures (minutes each, run from
    # the repository root): left out on purpose, not by accident
    assert all(page.is_file() for page in docs_runner.MEASUREMENTS)
    assert not any(b.page in docs_runner.MEASUREMENTS for b in every)


def test_pip_install_targets_are_checked() -> None:
    docs_runner.check_pip_install('python -m pip install -e ".[plot]" -e plugins/acoustic')
    with pytest.raises(AssertionError, match="no project"):
        docs_runner.check_pip_install("pip install -e plugins/nothing-here")
    with pytest.raises(AssertionError, match="no extra"):
        docs_runner.check_pip_install('pip install -e ".[nope]"')


def test_quick_arguments_go_to_the_long_commands_only() -> None:
    marks = {"quick": "--epochs 2", "compare": "--seeds 1"}
    assert docs_runner.prepare("phyll train --dataset vowels  # demo", marks) == (
        "phyll train --dataset vowels --epochs 2"
    )
    assert docs_runner.prepare("phyll compare -d iris", marks) == (
        "phyll compare -d iris --epochs 2 --seeds 1"
    )
    assert docs_runner.prepare("phyll probe acoustic", marks) == "phyll probe acoustic"
    line = "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && phyll train"
    assert docs_runner.prepare(line, marks) == "phyll train --epochs 2"


def test_every_page_is_in_the_site_navigation() -> None:
    import re

    nav = set(re.findall(r":\s*([\w./-]+\.md)\s*$", (docs_runner.REPO / "mkdocs.yml").read_text(
        encoding="utf-8"), re.M))
    docs = docs_runner.REPO / "docs"
    pages = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")}
    assert pages - nav == set(), "pages missing from mkdocs.yml nav"
    assert nav - pages == set(), "nav entries without a page"
