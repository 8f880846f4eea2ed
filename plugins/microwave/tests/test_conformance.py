"""The phyll conformance suite, and the plugin's registration with phyll."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_microwave import MicrowaveCavity

from phyll_core.factory import build_system
from phyll_core.plugins import get_host
from phyll_core.testing import check_system


@pytest.mark.parametrize(
    "params",
    [{}, {"encoding": "binary"}, {"noise": 0.01, "bits": 1, "atoms": 20}],
    ids=["default", "binary", "noisy-1bit"],
)
def test_conformance(params: dict[str, object]) -> None:
    check_system(lambda seed: MicrowaveCavity(seed=seed, **params))


def test_registered_through_the_entry_point() -> None:
    host = get_host()
    assert host.systems.get("microwave").plugin == "phyll-microwave"
    assert host.plugins["phyll-microwave"].ok


def test_build_system_resolves_parameters() -> None:
    system = build_system("microwave", ["atoms=12", "bits=3", "frequencies=5", "seed=4"])
    assert isinstance(system, MicrowaveCavity)
    assert (system.input_dim, system.output_dim) == (4, 5)
    assert system.params["atoms"] == 12 and system.params["solver"] == "woodbury"
    y = system.forward(np.full((3, 4), 0.5))
    assert y.shape == (3, 5) and np.all(y >= 0)


def test_default_dimensions(cavity: MicrowaveCavity) -> None:
    assert (cavity.input_dim, cavity.output_dim) == (20, 20)
    assert cavity.domain.describe() == "[0, 1]"
    binary = MicrowaveCavity(encoding="binary")
    assert (binary.input_dim, binary.domain.describe()) == (40, "{0, 1}")


def test_probe_cli_reports_a_nonlinear_system(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from phyll_core.cli.app import main

    try:
        main(["probe", "microwave", "--samples", "600", "--json"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    result = json.loads(capsys.readouterr().out)
    assert result["system"] == "microwave"
    assert result["nonlinearity"] >= 0.05
