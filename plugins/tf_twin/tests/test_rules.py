"""The ``pat`` and ``in-silico`` learning rules: exact gradients, accuracy floors, the reality
gap, query counting, state round trip."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import SYSTEM, SYSTEM_PARAMS
from phyll_tf_twin import _tf
from phyll_tf_twin.fit import fit_twin
from phyll_tf_twin.rules import InSilico, PhysicsAware, _tf_encode
from phyll_tf_twin.system import TwinSystem
from phyll_tf_twin.twin import FitOptions, Twin

from phyll_core.domain import Binary, Interval
from phyll_core.engine import Problem, TrainConfig
from phyll_core.engine.network import PhysicalLayer
from phyll_core.engine.trainer import Run


@pytest.fixture(scope="module")
def other_twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A twin of a *different* random-features system (another seed): a wrong twin."""
    from phyll_tf_twin.data import query_system

    pairs, domain = query_system(SYSTEM, {**SYSTEM_PARAMS, "seed": 4}, 2000, seed=0)
    twin = fit_twin(pairs, domain, FitOptions(hidden=(64, 64), epochs=60, batch_size=32))
    return twin.save(tmp_path_factory.mktemp("other") / "other.keras")


def config(rule: str, twin: Path | None = None, **kw) -> TrainConfig:
    base = {"system": SYSTEM, "params": dict(SYSTEM_PARAMS), "dataset": "circles",
            "rule": rule, "rule_params": {"twin": str(twin)} if twin else {}, "epochs": 20,
            "width": 16, "seed": 0}
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("encoder", ["offset", "magnitude"])
@pytest.mark.parametrize("domain", [Interval(0.0, 1.0), Interval(-1.0, 2.0), Binary()])
def test_the_tensorflow_encoder_is_the_cores(domain, encoder) -> None:
    tf = _tf.tensorflow()
    v = np.random.default_rng(0).standard_normal((16, 8))
    v[3] = 0.0  # an all-zero row must not divide by zero
    system = SimpleNamespace(domain=domain, input_dim=8, name="stub")
    layer = PhysicalLayer(system, 8, None, encoder, standardise=False)
    if encoder == "offset":
        layer.stats = {"enc_mean": v.mean(axis=0), "enc_std": v.std(axis=0)}
    assert np.allclose(_tf_encode(tf, tf.constant(v), layer).numpy(), layer.encode(v))


def test_pat_gradient_is_exact_when_the_twin_is_the_system(small_twin: Path) -> None:
    """With the twin as the real system, PAT's gradient is the true gradient of the loss."""
    real = TwinSystem(path=str(small_twin))
    problem = Problem(n_features=5, n_classes=3, systems=[real], blocks=2, width=6, seed=1)
    rule = PhysicsAware(twin=str(small_twin))
    rule.init(problem)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((12, 5)), rng.integers(0, 3, 12)
    phys = rule._forward_real(x, calibrate=True)[1]  # fixes the layers' statistics, as step
    loss, grads = rule._gradients(x, y, phys)
    assert loss == pytest.approx(rule.loss_on_real(x, y), rel=1e-5)
    eps = 1e-3
    for name in ("W0", "W1", "head"):
        for index in [tuple(rng.integers(0, s) for s in rule.params[name].shape) for _ in range(3)]:
            saved = rule.params[name][index]
            rule.params[name][index] = saved + eps
            up = rule.loss_on_real(x, y)
            rule.params[name][index] = saved - eps
            down = rule.loss_on_real(x, y)
            rule.params[name][index] = saved
            assert grads[name][index] == pytest.approx((up - down) / (2 * eps), abs=2e-4, rel=2e-2)


@pytest.mark.parametrize("rule", ["pat", "in-silico"])
def test_with_a_faithful_twin_both_rules_learn_circles(rule: str, small_twin: Path) -> None:
    run = Run(config(rule, small_twin))
    run.train()
    result = run.summary()
    assert result["test_accuracy"] >= 0.95, result  # needs the physics: circles are not linear
    assert result["accuracy_by_method"]["twin"]["test_accuracy"] >= 0.95


def test_a_wrong_twin_opens_the_reality_gap_and_pat_narrows_it(other_twin: Path) -> None:
    silico = Run(config("in-silico", other_twin))
    silico.train()
    pat = Run(config("pat", other_twin))
    pat.train()
    s, p = silico.summary()["accuracy_by_method"], pat.summary()["accuracy_by_method"]
    assert s["twin"]["test_accuracy"] >= 0.95  # what the twin promises ...
    assert s["direct"]["test_accuracy"] <= 0.7  # ... is not what the real system delivers
    assert p["direct"]["test_accuracy"] >= s["direct"]["test_accuracy"] + 0.2


def test_a_twin_fitted_by_the_rule_counts_its_queries() -> None:
    run = Run(config("in-silico", None, epochs=2, rule_params={
        "twin_samples": 300, "twin_hidden": "16", "twin_epochs": 3}))
    run.train()
    n = run.data.y_train.size + run.data.y_test.size
    # 300 queries for the twin; in-silico training queries nothing; each evaluation of the
    # 'direct' method sends train and test rows through both blocks
    assert run.physical_queries == 300 + 2 * 2 * n
    (twin,) = run.rule.twins.values()
    assert twin.meta["source"]["kind"] == "system" and twin.meta["source"]["samples"] == 300
    assert run.rule.describe()["twins"][0]["system"] == SYSTEM


def test_pat_queries_the_real_system_at_every_inner_step(small_twin: Path) -> None:
    run = Run(config("pat", small_twin, epochs=1, inner_steps=3, eval_every=5))
    run.train()
    n_train = run.data.y_train.size
    # one epoch: full batch, 3 inner steps x 2 blocks, then the final evaluation
    n = n_train + run.data.y_test.size
    assert run.physical_queries == 3 * 2 * n_train + 2 * n


def test_state_round_trip_restores_network_and_twin_without_queries(small_twin: Path) -> None:
    first = Run(config("in-silico", None, epochs=2, rule_params={
        "twin_samples": 300, "twin_hidden": "16", "twin_epochs": 3}))
    first.train()
    state = first.rule.state_dict()
    second = Run(config("in-silico", None, epochs=2, rule_params={
        "twin_samples": 300, "twin_hidden": "16", "twin_epochs": 3}))
    second.rule.load_state_dict(state)
    x = first.data.x_test
    assert np.array_equal(first.rule.predict(x, "direct"), second.rule.predict(x, "direct"))
    assert np.array_equal(first.rule.predict(x, "twin"), second.rule.predict(x, "twin"))
    before = second.physical_queries
    second.rule.step(first.data.x_train, first.data.y_train, np.random.default_rng(0))
    assert second.physical_queries == before  # the restored twin is not fitted again


def test_a_twin_of_other_widths_is_refused(cli, small_twin: Path) -> None:
    res = cli("train", "--system", "identity", "--rule", "pat", "--rule-param",
              f"twin={small_twin}", "--dataset", "iris", "--epochs", "1", "-q")
    assert res.code == 1 and len(res.err_lines) == 1
    assert "maps 8 -> 8 values but system 'identity' maps 20 -> 20" in res.err


def test_rules_run_from_the_cli(cli, small_twin: Path) -> None:
    res = cli("train", "--system", SYSTEM, *[f"--param={k}={v}" for k, v in SYSTEM_PARAMS.items()],
              "--rule", "pat", "--rule-param", f"twin={small_twin}", "--dataset", "iris",
              "--epochs", "3", "--json", "-q")
    assert res.code == 0, res.err
    out = res.json()
    assert out["rule"] == "pat" and out["predict"] == "direct" and out["digital_flops"] > 0


def test_unknown_prediction_state_is_reported(small_twin: Path) -> None:
    rule = InSilico(twin_samples=10)
    problem = Problem(n_features=2, n_classes=2, systems=[TwinSystem(path=str(small_twin))])
    rule.init(problem)
    with pytest.raises(Exception, match="no twin yet"):
        rule.predict(np.zeros((2, 2)), "twin")
    assert Twin.load(small_twin).input_dim == 8
