"""Dithered inputs: training passes of a system with a quantised input get noise of a few
input steps; predictions, continuous inputs and binary inputs never do."""

from __future__ import annotations

import numpy as np
import pytest

from phyll_core.builtin_systems import Identity
from phyll_core.domain import Binary, Domain
from phyll_core.engine.network import PhysicalLayer
from phyll_core.errors import PhyllError


class _Levels(Identity):
    """Identity read through a 2-bit DAC: each input to the centre of one of 4 bins."""

    @property
    def input_step(self) -> float:
        return 0.25

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return (np.minimum(np.floor(x * 4), 3) + 0.5) / 4


class _Bits(_Levels):
    @property
    def domain(self) -> Domain:
        return Binary()

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return x.astype(float)


def _calibrated(
    system: Identity, dither: float, rows: int = 400
) -> tuple[PhysicalLayer, np.ndarray]:
    rng = np.random.default_rng(0)
    layer = PhysicalLayer.build(system, system.input_dim, rng, dither=dither)
    h = rng.standard_normal((rows, system.input_dim))
    layer.forward(h, calibrate=True)
    return layer, h


def test_training_noise_is_dither_times_the_input_step_and_predictions_are_exact():
    layer, h = _calibrated(_Levels(dim=3), 2.0)
    assert layer.dither_std == 0.5
    exact = layer.forward(h)
    noise = layer.dither_noise(h.shape[0], np.random.default_rng(5))
    assert noise is not None and noise.shape == h.shape
    noisy = layer.forward(h, noise=noise)
    again = layer.forward(h, noise=layer.dither_noise(h.shape[0], np.random.default_rng(5)))
    np.testing.assert_array_equal(noisy, again)  # same seed, same numbers
    assert np.mean(noisy != exact) > 0.3  # many inputs moved to another bin
    np.testing.assert_array_equal(layer.forward(h), exact)  # predictions stay undithered
    x = layer.dithered(layer.encode(h), noise)
    assert x.min() >= 0.0 and x.max() <= 1.0  # clipped to the domain


def test_the_label_copies_of_a_row_share_its_noise():
    layer, h = _calibrated(_Levels(dim=3), 1.0, rows=50)
    noise = layer.dither_noise(50, np.random.default_rng(1))
    assert noise is not None
    tiled = layer.forward(np.tile(h, (3, 1)), noise=noise)
    np.testing.assert_array_equal(tiled, np.tile(layer.forward(h, noise=noise), (3, 1)))
    with pytest.raises(PhyllError, match="does not fit"):
        layer.forward(h[:7], noise=noise)


@pytest.mark.parametrize("system", [Identity(dim=3), _Bits(dim=3)])
def test_continuous_and_binary_inputs_are_never_dithered(system):
    layer, h = _calibrated(system, 1.0)
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    assert layer.dither_std == 0.0 and layer.dither_noise(h.shape[0], rng) is None
    assert rng.bit_generator.state == state  # nothing drawn: the run's numbers are unchanged
    assert Identity(dim=2).input_step == 0.0  # the contract's default


def test_identity_is_unchanged_by_dithering_and_bad_values_are_refused():
    from phyll_core.engine import TrainConfig
    from phyll_core.engine.trainer import Run

    def trained(dither: float) -> dict[str, np.ndarray]:
        config = TrainConfig(dataset="circles", system="identity", width=8, epochs=2, dither=dither)
        run = Run(config)
        run.train()
        return run.rule.state_dict()

    plain, dithered = trained(0.0), trained(1.0)
    for key in plain:  # identity reads continuous inputs: not one number moves
        np.testing.assert_array_equal(plain[key], dithered[key], err_msg=key)
    with pytest.raises(PhyllError, match="dither"):
        TrainConfig(dither=-1.0)
    old = {k: v for k, v in TrainConfig(dither=1.0).to_json().items() if k != "dither"}
    assert TrainConfig.from_json(old).dither == 0.0  # written before dithering existed
    with pytest.raises(PhyllError, match="dither"):
        PhysicalLayer.build(Identity(dim=2), 2, np.random.default_rng(0), dither=-0.5)


def test_zero_padded_inputs_get_no_noise():
    rng = np.random.default_rng(0)
    layer = PhysicalLayer.build(_Levels(dim=5), 2, rng, dither=1.0)  # 2 columns padded to 5
    noise = layer.dither_noise(10, rng)
    assert noise is not None and noise.shape == (10, 5)
    assert np.all(noise[:, 2:] == 0) and np.all(noise[:, :2] != 0)
