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
