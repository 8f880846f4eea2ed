"""A small, fast accuracy floor: PhyLL through the microwave system learns circles."""

from __future__ import annotations

import numpy as np
import pytest


def test_physical_features_alone_separate_circles() -> None:
    """Without the skip connection a block sees only |H(f)|, so the accuracy above chance
    (0.5; the two classes are concentric, not linearly separable) comes from the physics.
    Measured: 0.715 (seed 0); a system whose output ignored its input would give about 0.5."""
    engine = pytest.importorskip("phyll_core.engine")
    config = engine.TrainConfig(
        system="microwave", dataset="circles", blocks=1, epochs=8, eval_every=8, skip=False
    )
    summary = engine.train(config)
    assert summary["test_accuracy"] >= 0.65, summary["test_accuracy"]
    assert summary["physical_queries"] > 0


def test_dithered_training_is_reproducible_and_resumes_exactly(tmp_path) -> None:
    """``--dither`` draws its noise from the run's seeded generator: a run resumed from a
    checkpoint ends with the same weights as one trained in one go, and the noise does change
    the training (the 2-bit levels are read to within 1/4)."""
    engine = pytest.importorskip("phyll_core.engine")
    from phyll_microwave import MicrowaveCavity

    from phyll_core.engine.checkpoint import load_checkpoint, save_checkpoint

    assert MicrowaveCavity(bits=2).input_step == 0.25
    assert MicrowaveCavity(encoding="binary").input_step == 0.0
    config = engine.TrainConfig(
        system="microwave", dataset="circles", width=8, epochs=3, eval_every=3, dither=1.0
    )
    full = engine.Run(config)
    full.train()
    part = engine.Run(config)
    part.train(1)
    save_checkpoint(part, tmp_path / "ckpt")
    resumed = load_checkpoint(tmp_path / "ckpt")
    resumed.train()
    plain = engine.Run(engine.TrainConfig(**{**config.to_json(), "dither": 0.0}))
    plain.train()
    a, b, c = (r.rule.state_dict()["block1/W"] for r in (full, resumed, plain))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
