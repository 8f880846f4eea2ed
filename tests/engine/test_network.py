"""Label embedding, adapter (zero padding / random projection) and domain encoders."""

from __future__ import annotations

import numpy as np
import pytest

from phyll_core.builtin_systems import Identity, RandomFeatures
from phyll_core.domain import Binary, Interval
from phyll_core.engine.network import PhysicalLayer, embed, encode
from phyll_core.errors import PhyllError


def test_embed_sets_label_slot_and_neutral():
    x = np.arange(6.0).reshape(2, 3)
    h = embed(x, np.array([1, 0]), 3, 5.0)
    np.testing.assert_array_equal(h[:, :3], [[0, 5, 0], [5, 0, 0]])
    np.testing.assert_array_equal(h[:, 3:], x)
    neutral = embed(x, None, 4, 2.0)
    np.testing.assert_allclose(neutral[:, :4], 0.5)


def test_encode_interval_scales_each_row_by_its_own_peak():
    v = np.array([[1.0, -2.0, 0.0], [0.0, 0.0, 0.0]])
    x = encode(v, Interval(0.0, 1.0))
    np.testing.assert_allclose(x, [[0.5, 1.0, 0.0], [0.0, 0.0, 0.0]])
    # independent of the rest of the batch
    np.testing.assert_allclose(encode(v[:1], Interval(0, 1)), x[:1])
    y = encode(v, Interval(-1.0, 3.0))
    assert y.min() >= -1.0 and y.max() <= 3.0


def test_encode_binary_is_sign_quantiser():
    np.testing.assert_array_equal(encode(np.array([[0.3, -1.0, 0.0]]), Binary()), [[1, 0, 0]])


def test_zero_padding_when_narrower():
    layer = PhysicalLayer.build(
        Identity(dim=5), 3, np.random.default_rng(0), encoder="magnitude", standardise=False
    )
    assert layer.projection is None
    out = layer.forward(np.array([[1.0, -2.0, 0.5]]))
    np.testing.assert_allclose(out, [[0.5, 1.0, 0.25, 0.0, 0.0]])


def test_projection_when_wider_is_fixed_by_seed_and_switchable():
    a = PhysicalLayer.build(Identity(dim=4), 9, np.random.default_rng(7))
    b = PhysicalLayer.build(Identity(dim=4), 9, np.random.default_rng(7))
    assert a.projection is not None and a.projection.shape == (9, 4)
    np.testing.assert_array_equal(a.projection, b.projection)
    with pytest.raises(PhyllError, match="exceeds"):
        PhysicalLayer.build(Identity(dim=4), 9, np.random.default_rng(7), project=False)


def test_offset_encoder_keeps_sign_and_scale_with_fixed_statistics():
    rng = np.random.default_rng(3)
    h = rng.standard_normal((200, 4)) * [1.0, 2.0, 0.5, 3.0] + [0.0, 1.0, -1.0, 0.0]
    layer = PhysicalLayer.build(Identity(dim=4), 4, rng, standardise=False)
    x = layer.forward(h, calibrate=True)
    np.testing.assert_allclose(layer.stats["enc_mean"], h.mean(axis=0))
    # mean -> mid-range, +-3 std -> the ends, monotone in each component (sign kept)
    np.testing.assert_allclose(x, np.clip(0.5 + (h - h.mean(0)) / (6 * h.std(0)), 0, 1))
    flipped = layer.forward(-h[:5] + 2 * h.mean(0))
    np.testing.assert_allclose(flipped, 1.0 - x[:5], atol=1e-12)
    # statistics fixed: a later calibrate call and the rest of the batch change nothing
    layer.forward(h[:10] * 100.0, calibrate=True)
    np.testing.assert_allclose(layer.forward(h[:3]), x[:3])


def test_offset_encoder_binary_domain_thresholds_at_the_mean():
    from phyll_core.engine.network import encode_offset

    v = np.array([[0.0, 2.0], [1.0, -1.0]])
    bits = encode_offset(v, np.array([0.5, 0.0]), np.ones(2), Binary())
    np.testing.assert_array_equal(bits, [[0, 1], [1, 0]])


def test_output_standardisation_is_fixed_and_checkpointed():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((300, 3))
    layer = PhysicalLayer.build(Identity(dim=6), 3, rng)
    y = layer.forward(h, calibrate=True)
    np.testing.assert_allclose(y[:, :3].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y[:, :3].std(axis=0), 1.0, atol=1e-9)
    state = layer.state("block0/")
    other = PhysicalLayer.build(Identity(dim=6), 3, np.random.default_rng(9))
    with pytest.raises(PhyllError, match="not calibrated"):
        other.forward(h[:2])
    other.load(state, "block0/")
    np.testing.assert_array_equal(other.forward(h[:7]), y[:7])


def _correlated(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Rows of 6 columns driven by 2 strong and 1 weak source: 3 principal components
    (uniform sources: the offset encoder clips nothing, the encoded rows stay of rank 3)."""
    sources = rng.uniform(-1.0, 1.0, (rows, 3)) * np.array([3.0, 2.0, 0.3])
    return sources @ rng.standard_normal((3, 6))


def test_outputs_are_whitened_onto_the_components_that_hold_the_variance():
    rng = np.random.default_rng(0)
    h = _correlated(rng, 2000)
    layer = PhysicalLayer.build(Identity(dim=6), 6, rng, whiten=0.95)
    y = layer.forward(h, calibrate=True)
    basis = layer.stats["out_basis"]
    assert basis.shape == (6, 2)  # the weak source holds < 5 % of the variance: dropped
    np.testing.assert_allclose(np.cov(y[:, :2], rowvar=False, ddof=0), np.eye(2), atol=1e-9)
    np.testing.assert_array_equal(y[:, 2:], 0.0)  # the layer keeps its width
    # fixed once: a prediction does not depend on the rest of its batch
    np.testing.assert_allclose(layer.forward(h[:3]), y[:3], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(layer.forward(h[:3], calibrate=True), layer.forward(h[:3]))
    assert PhysicalLayer.build(Identity(dim=6), 6, rng, whiten=0.999).forward(
        h, calibrate=True
    ).any(axis=0).sum() == 3  # all three sources
    other = PhysicalLayer.build(Identity(dim=6), 6, np.random.default_rng(4), whiten=0.95)
    other.load(layer.state("block0/"), "block0/")  # checkpointed with the other statistics
    np.testing.assert_array_equal(other.forward(h[:7]), layer.forward(h[:7]))


def test_whitening_off_is_the_plain_standardisation():
    rng = np.random.default_rng(1)
    h = _correlated(rng, 500)
    layer = PhysicalLayer.build(Identity(dim=6), 6, rng, whiten=0.0)
    y = layer.forward(h, calibrate=True)
    assert "out_basis" not in layer.stats
    np.testing.assert_allclose(y, (h - h.mean(axis=0)) / h.std(axis=0), atol=1e-9)
    with pytest.raises(PhyllError, match="whiten"):
        PhysicalLayer.build(Identity(dim=6), 6, rng, whiten=1.5)


def test_outputs_wider_than_the_input_are_reduced_to_its_width():
    rng = np.random.default_rng(3)
    h = rng.uniform(-1.0, 1.0, (1500, 4))
    wide = RandomFeatures(inputs=4, outputs=12, seed=1)
    layer = PhysicalLayer.build(wide, 4, rng)  # reduce is on by default
    assert layer.reduced and layer.out_width == 4
    y = layer.forward(h, calibrate=True)
    assert y.shape == (1500, 4) and layer.stats["out_basis"].shape == (12, 4)
    np.testing.assert_allclose(np.cov(y, rowvar=False, ddof=0), np.eye(4), atol=1e-9)
    s = (wide.forward(layer.encode(h)) - layer.stats["out_mean"]) / layer.stats["out_std"]
    scores = (s - s.mean(axis=0)) @ np.linalg.svd(s - s.mean(axis=0), full_matrices=False)[2][:4].T
    resid = y @ np.linalg.pinv(y) @ scores - scores  # the top four components' scores lie in y
    assert np.abs(resid).max() < 1e-8  # the top four principal components, nothing else
    np.testing.assert_allclose(layer.forward(h[:3]), y[:3], rtol=0, atol=1e-12)
    fewer = PhysicalLayer.build(wide, 4, rng, whiten=0.6).forward(h, calibrate=True)
    assert fewer.shape == (1500, 4) and 0 < fewer.any(axis=0).sum() < 4  # whiten: fewer kept
    for layer in (
        PhysicalLayer.build(wide, 4, rng, reduce=False),
        PhysicalLayer.build(wide, 4, rng, standardise=False),  # nothing to rotate
    ):
        assert not layer.reduced and layer.forward(h, calibrate=True).shape == (1500, 12)
        assert "out_basis" not in layer.stats
    assert not PhysicalLayer.build(Identity(dim=4), 4, rng).reduced  # as wide as its input


def test_a_reduced_run_resumes_exactly_and_old_configurations_keep_every_output(tmp_path):
    from phyll_core.engine import TrainConfig
    from tests.engine.conftest import train_and_resume

    config = TrainConfig(
        dataset="circles", params={"outputs": "40"}, width=16, epochs=4, eval_every=100
    )
    full, resumed = train_and_resume(config, tmp_path / "ckpt")
    a, b = full.rule.state_dict(), resumed.rule.state_dict()
    assert a["block1/layer/out_basis"].shape == (40, 20)  # 40 outputs of 20 inputs
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    # z = [20 components, block input] and the bias: circles' 2 features and 2 label slots
    assert a["block0/W"].shape == (16, 20 + 4 + 1) and a["block1/W"].shape == (16, 20 + 16 + 1)
    old = {k: v for k, v in config.to_json().items() if k != "reduce"}
    assert TrainConfig.from_json(old).reduce is False  # written before reduce existed


@pytest.mark.parametrize(
    ("skip", "reduce", "phys"), [(True, None, 20), (False, None, 40), (False, True, 20)]
)
def test_wide_outputs_are_reduced_by_default_with_the_skip_connection_only(skip, reduce, phys):
    from phyll_core.engine import TrainConfig
    from phyll_core.engine.trainer import Run

    config = TrainConfig(
        dataset="circles", params={"outputs": "40"}, width=16, epochs=1, skip=skip, reduce=reduce
    )
    run = Run(config)
    run.train()
    digital = 16 if skip else 0  # block 1: its input, or (skip off) nothing digital
    assert run.rule.blocks[1].params["W"].shape == (16, phys + digital + 1)


class _Drifted(Identity):
    """Identity after a drift: the outputs mixed and moved (``y = 10 x[::-1] + 5``)."""

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return 10.0 * x[:, ::-1] + 5.0


def test_whitening_is_measured_again_with_the_scale_when_the_outputs_drift():
    rng = np.random.default_rng(2)
    h = _correlated(rng, 1000)
    layer = PhysicalLayer.build(Identity(dim=6), 6, rng, whiten=0.95)
    layer.forward(h, calibrate=True)
    before = layer.stats["out_basis"].copy()
    layer.system = _Drifted(dim=6)  # the system changed under the trained layer
    layer.forward(h, calibrate=True)
    assert layer.refreshes == 1
    assert not np.allclose(layer.stats["out_basis"], before)
    restored = PhysicalLayer.build(_Drifted(dim=6), 6, rng, whiten=0.95)
    restored.load(layer.state("block1/"), "block1/")  # the count is checkpointed
    assert restored.refreshes == 1
    old = {k: v for k, v in layer.state("block1/").items() if not k.endswith("refreshes")}
    restored.load(old, "block1/")  # written before the count was kept
    assert restored.refreshes == 0


class _Noisy(Identity):
    """Identity whose outputs past the first ``signal`` carry only fresh noise (seeded)."""

    def __init__(self, dim: int, signal: int) -> None:
        super().__init__(dim=dim)
        self.signal, self.rng = signal, np.random.default_rng(5)

    @property
    def noisy(self) -> bool:
        return True

    def _forward(self, x: np.ndarray) -> np.ndarray:
        y = x.copy()
        y[:, self.signal :] = self.rng.standard_normal((x.shape[0], x.shape[1] - self.signal))
        return y


def test_noisy_outputs_are_weighted_by_their_measured_signal_fraction():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((2000, 4))
    system = _Noisy(dim=4, signal=2)
    layer = PhysicalLayer.build(system, 4, rng, project=False)
    y = layer.forward(h, calibrate=True)
    assert system.queries.samples == 2 * 2000 and layer.noise_queries == 2000  # one repeat
    gain = layer.stats["out_gain"]
    np.testing.assert_allclose(gain[:2], 1.0)  # the same reading twice: all signal
    assert np.all(gain[2:] < 0.1)  # noise columns are damped, not scaled up to unit variance
    np.testing.assert_allclose(y.std(axis=0), np.minimum(gain, 1.0), rtol=0.05, atol=0.01)
    assert np.all(np.abs(layer.forward(h[:5])[:, 2:]) < 1.0)
    layer.forward(h, calibrate=True)  # calibrated: no further repeat
    assert layer.noise_queries == 2000
    other = PhysicalLayer.build(_Noisy(dim=4, signal=2), 4, rng, project=False)
    other.load(layer.state("block0/"), "block0/")
    np.testing.assert_array_equal(other.stats["out_gain"], gain)


def test_a_system_without_noise_is_measured_once_and_unweighted():
    rng = np.random.default_rng(0)
    system = Identity(dim=4)
    layer = PhysicalLayer.build(system, 4, rng, project=False)
    layer.forward(rng.standard_normal((50, 4)), calibrate=True)
    assert system.queries.samples == 50 and "out_gain" not in layer.stats


def test_synthetic_negatives_of_the_unsupervised_rule():
    from phyll_core.engine.phyll_rules import PhyLLUnsupervised

    x = np.random.default_rng(0).standard_normal((50, 16))
    shuffled = PhyLLUnsupervised("shuffle").synthetic(x, np.random.default_rng(1))
    np.testing.assert_array_equal(np.sort(shuffled, axis=0), np.sort(x, axis=0))
    assert not np.array_equal(shuffled, x)
    mixed = PhyLLUnsupervised("mask").synthetic(x, np.random.default_rng(1))
    from_x = np.isclose(mixed, x)
    from_other = np.array([[np.any(np.isclose(mixed[i, j], x[:, j])) for j in range(16)]
                           for i in range(50)])
    assert from_other.all() and 0.2 < from_x.mean() < 0.9
    again = PhyLLUnsupervised("mask").synthetic(x, np.random.default_rng(1))
    np.testing.assert_array_equal(mixed, again)


def test_a_whitened_run_resumes_exactly_and_old_configurations_stay_unwhitened(tmp_path):
    from phyll_core.engine import TrainConfig
    from tests.engine.conftest import train_and_resume

    config = TrainConfig(dataset="circles", width=16, epochs=4, whiten=0.9, eval_every=100)
    full, resumed = train_and_resume(config, tmp_path / "ckpt")
    a, b = full.rule.state_dict(), resumed.rule.state_dict()
    assert set(a) == set(b) and any(k.endswith("layer/out_basis") for k in a)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    old = {k: v for k, v in config.to_json().items() if k != "whiten"}
    assert TrainConfig.from_json(old).whiten == 0.0  # written before whitening existed
    with pytest.raises(PhyllError, match="whiten"):
        TrainConfig(whiten=-0.1)
