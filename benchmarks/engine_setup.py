"""What the engine benchmarks share: the published vowel configuration, the vowels dataset
(built in, or the CSV beside older trees) and where the parts save their JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "engine_speed"
VOWELS_CSV = ROOT.parent / "shared" / "data" / "vowels" / "hillenbrand_women_7vowels.csv"
PUBLISHED = dict(system="identity", blocks=2, width=20, inner_steps=10, epochs=200)
PUBLISHED_CLI = "--system identity --blocks 2 --width 20 --inner-steps 10 --epochs 200"


def vowels() -> str:
    """The built-in ``vowels`` dataset, or the CSV beside the repository on older trees."""
    from phyll_core.plugins import get_host

    try:
        get_host().datasets.get("vowels")
        return "vowels"
    except Exception:
        return f"csv:{VOWELS_CSV}"


def save(part: str, data: dict[str, Any]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{part}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
