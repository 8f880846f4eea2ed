from __future__ import annotations

from pathlib import Path

import pytest

VOWELS = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "vowels"
    / "hillenbrand_women_7vowels.csv"
)


@pytest.fixture
def vowels() -> str:
    if not VOWELS.is_file():
        pytest.skip(f"measured data not available ({VOWELS} is absent)")
    return f"csv:{VOWELS}"


def train_and_resume(config, folder: Path, at: int = 2):
    """``(full, resumed)``: ``config`` trained to the end in one go, and trained to epoch
    ``at``, checkpointed into ``folder``, loaded and trained to the end."""
    from phyll_core.engine import Run
    from phyll_core.engine.checkpoint import load_checkpoint, save_checkpoint

    full = Run(config)
    full.train()
    part = Run(config)
    part.train(at)
    save_checkpoint(part, folder)
    resumed = load_checkpoint(folder)
    resumed.train()
    return full, resumed
