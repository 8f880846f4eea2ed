"""Accuracy floor: PhyLL trains through the optical system alone (no skip connection)."""

from __future__ import annotations

import pytest

engine = pytest.importorskip("phyll_core.engine")


def test_circles_are_learnt_through_the_optics_alone() -> None:
    # skip=False: the digital layer sees only the camera, so the accuracy measures the
    # physics (circles are not linearly separable in the raw features)
    summary = engine.train(
        engine.TrainConfig(
            system="optical", dataset="circles", blocks=1, epochs=5, eval_every=5, skip=False
        )
    )
    assert summary["test_accuracy"] >= 0.95
    assert summary["physical_queries"] > 0
