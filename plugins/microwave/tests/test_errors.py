"""Bad parameters and inputs raise one-line PhyllError subclasses."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_microwave import MicrowaveCavity

from phyll_core.errors import ParameterError, PhyllError, PhysicalInputError
from phyll_core.factory import build_system


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"atoms": 41}, "multiple of bits"),
        ({"bits": 0}, "bits must be"),
        ({"encoding": "gray"}, "encoding must be"),
        ({"solver": "lu"}, "solver must be"),
        ({"f_min": 1.2, "f_max": 1.0}, "f_min <= f_max"),
        ({"f_min": 1.0, "f_max": 1.0}, "frequencies=1"),
        ({"f_on": 2.0, "f_off": 2.0}, "must differ"),
        ({"atoms": 200, "height": 4.0}, "meta-atoms spaced"),
        ({"inputs": 20, "atoms": 30}, "inputs=20 needs atoms=40"),
        ({"inputs": 300}, "more than 400"),
        ({"inputs": -1}, "inputs must be"),
        ({"stirrers": 60}, "cannot place 60 stirrers"),
        ({"wall_spacing": 0.8}, "wall_spacing"),
        ({"width": 3.0}, "at least 4 x 4"),
        ({"noise": -1.0}, "noise"),
        ({"frequencies": 0}, "frequencies"),
    ],
)
def test_bad_parameters(params: dict[str, object], match: str) -> None:
    with pytest.raises(ParameterError, match=match) as exc:
        MicrowaveCavity(**params)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(
    "items",
    [["atoms=x"], ["encoding=gray"], ["solver=lu"], ["bits=9"], ["atom=40"], ["noise=-1"]],
)
def test_bad_cli_parameters(items: list[str]) -> None:
    with pytest.raises(ParameterError):
        build_system("microwave", items)


def test_bad_inputs() -> None:
    system = MicrowaveCavity(frequencies=3)
    with pytest.raises(PhysicalInputError, match="microwave"):
        system.forward(np.full((2, 20), 1.5))
    with pytest.raises(PhysicalInputError, match="microwave"):
        system.forward(np.zeros((2, 40)))
    with pytest.raises(PhysicalInputError, match="configurations must have shape"):
        system.channel(np.zeros((2, 39), dtype=bool))
    binary = MicrowaveCavity(frequencies=3, encoding="binary")
    with pytest.raises(PhyllError):
        binary.forward(np.full((1, 40), 0.5))
