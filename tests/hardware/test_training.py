"""Training through the emulated instrument (real loopback socket, PyVISA) reaches the same
accuracy as training on the same response function used directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hw_fakes import needs_emulator

needs_emulator()

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
VOWELS = DATA / "vowels" / "hillenbrand_women_7vowels.csv"


def _train(system: str, params: dict[str, Any], dataset: str, epochs: int) -> dict[str, Any]:
    engine = pytest.importorskip("phyll_core.engine", reason="needs the training engine")
    config = engine.TrainConfig(
        system=system, params=params, dataset=dataset, blocks=2, seed=0, epochs=epochs
    )
    run = engine.Run(config)
    run.train()
    summary = run.summary()
    summary["n_test"] = int(run.data.y_test.size)
    summary["noise_queries"] = sum(b.layer.noise_queries for b in run.rule.blocks)
    return summary


def _compare(emulator: Any, dataset: str, epochs: int, floor: float) -> None:
    emu = emulator()
    direct = _train("scpi-demo-model", {}, dataset, epochs)
    measured = _train("scpi-demo", {"resource": emu.resource}, dataset, epochs)
    # a measured device is noisy: each block's first training pass is measured twice, to fix
    # the signal fraction of its outputs (phyll_core.engine.network); the model is not noisy
    assert direct["noise_queries"] == 0 and measured["noise_queries"] > 0
    assert measured["physical_queries"] == direct["physical_queries"] + measured["noise_queries"]
    assert emu.stats.acquisitions == measured["physical_queries"]  # really went to the device
    # the instrument answers with 10 significant digits: at most one test sample may differ
    gap = abs(measured["test_accuracy"] - direct["test_accuracy"])
    assert gap <= 1.0 / direct["n_test"] + 1e-12, (direct, measured)
    assert direct["test_accuracy"] >= floor and measured["test_accuracy"] >= floor


def test_circles_through_the_instrument(emulator: Any) -> None:
    _compare(emulator, "circles", epochs=2, floor=0.95)


@pytest.mark.skipif(not VOWELS.exists(), reason=f"measured vowels data not found at {VOWELS}")
def test_vowels_through_the_instrument(emulator: Any) -> None:
    _compare(emulator, f"csv:{VOWELS}", epochs=4, floor=0.9)
