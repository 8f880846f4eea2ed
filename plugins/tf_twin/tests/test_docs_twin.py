"""The documentation's commands that need TensorFlow (marked ``<!-- docs-test: tf -->``; see
``tests/docs_runner.py`` of the repository) run here, where TensorFlow is installed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[3] / "tests" / "docs_runner.py"
if not RUNNER.is_file():
    pytest.skip(f"{RUNNER} not found (not a repository checkout)", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("docs_runner", RUNNER)
assert _spec is not None and _spec.loader is not None
docs_runner = importlib.util.module_from_spec(_spec)
sys.modules["docs_runner"] = docs_runner  # dataclasses look their module up there
_spec.loader.exec_module(docs_runner)

BLOCKS = [b for b in docs_runner.blocks() if b.needs_tf]
_FOLDERS: dict[Path, Path] = {}


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_documented_twin_commands_run(block, tmp_path_factory: pytest.TempPathFactory) -> None:
    if "skip" in block.marks:
        pytest.skip(f"marked in the docs: {block.marks['skip']}")
    missing = docs_runner.missing_distributions(block.marks)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    if block.page not in _FOLDERS:  # the blocks of a page share one folder, in order
        _FOLDERS[block.page] = tmp_path_factory.mktemp(block.page.stem)
    docs_runner.run_block(block, _FOLDERS[block.page])


def test_there_are_twin_blocks() -> None:
    assert len(BLOCKS) >= 5
