"""Registration, conformance and parameter errors of the ``acoustic`` system."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from phyll_acoustic import AcousticCavity
from phyll_acoustic.plugin import PARAMS

from phyll_core.errors import ParameterError
from phyll_core.factory import build_system
from phyll_core.testing import check_system


@pytest.mark.parametrize(
    "variant",
    [{}, {"cavity": "chaotic"}, {"nonlinearity": "poly"}, {"nonlinearity": "none", "noise": 0.0}],
)
def test_conformance(variant: dict[str, object]) -> None:
    check_system(lambda seed: AcousticCavity(seed=seed, **variant))  # type: ignore[arg-type]


def test_registered_through_the_entry_point() -> None:
    sys = build_system("acoustic")
    assert isinstance(sys, AcousticCavity)
    assert (sys.input_dim, sys.output_dim) == (20, 20)
    assert sys.domain.describe() == "[0, 1]"
    assert sys.can_perturb
    assert sys.params["seed"] == 0
    sys = build_system("acoustic", ["speakers=2", "cavity=chaotic", "seed=4"])
    assert (sys.speakers, sys.cavity, sys.seed) == (2, "chaotic", 4)


def test_declared_defaults_equal_the_class_defaults() -> None:
    fields = {f.name: f for f in attrs.fields(AcousticCavity) if f.init}
    assert {p.name for p in PARAMS} == set(fields)
    for p in PARAMS:
        assert fields[p.name].default == p.default, p.name


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"speakers": 8}, "speakers"),  # 20 inputs -> 3 tones each: only 7 speakers play
        ({"sources": "0.1,0.1"}, "sources"),
        ({"sources": "a,b,c;1,2,3"}, "sources"),
        ({"microphone": "5,0.1,0.1"}, "inside the room"),
        ({"bin_low": 900.0, "bin_high": 800.0}, "bin_high"),
        ({"tone_start": 1000.0, "tone_spacing": 1.0001}, "common base"),
        ({"room_length": 0.0}, "room_length"),
        ({"absorption": -0.1}, "absorption"),
        ({"noise": -1.0}, "noise"),
        ({"temperature": -300.0}, "absolute zero"),
        ({"nonlinearity": "cubic"}, "nonlinearity"),
        ({"cavity": "sphere"}, "cavity"),
        ({"time_samples": 10}, "time_samples"),
        ({"outputs": 13, "microphones": 4}, "multiple of microphones"),
        ({"microphones": 2, "microphone": "0.1,0.1,0.1"}, "microphone"),
        ({"room_length": 50.0, "room_width": 40.0, "room_height": 30.0}, "modes"),
    ],
)
def test_bad_parameters_raise_one_line_parameter_errors(
    params: dict[str, object], match: str
) -> None:
    with pytest.raises(ParameterError, match=match) as info:
        AcousticCavity(**params)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_cli_parameters_are_checked_against_the_schema() -> None:
    with pytest.raises(ParameterError, match="did you mean 'speakers'"):
        build_system("acoustic", ["speaker=3"])
    with pytest.raises(ParameterError, match="absorption"):
        build_system("acoustic", ["absorption=2"])


def test_other_sizes_work() -> None:
    # unset microphones: the most (<= 4) that divide the outputs with a bin per tone (T = 3)
    for outputs, mics, used in ((12, None, 4), (13, None, 1), (6, None, 2), (6, 3, 3)):
        sys = AcousticCavity(inputs=7, outputs=outputs, speakers=3, noise=0.0, microphones=mics)
        assert sys.microphone_positions.shape == (used, 3)
        y = sys.forward(np.random.default_rng(0).uniform(size=(5, 7)))
        assert y.shape == (5, outputs)
        assert (y >= 0).all()
    # one loudspeaker with 20 tones: one microphone reads a bin on every tone
    single = AcousticCavity(speakers=1, noise=0.0)
    assert single.microphone_positions.shape == (1, 3)
    assert set(single.tone_frequencies) <= set(single.bin_frequencies)
