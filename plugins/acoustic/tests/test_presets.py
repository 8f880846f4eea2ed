"""Preset ``measured``: the simulator's response statistics are those of the measured cavity;
presets only fill in unset parameters; several microphones."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest
from phyll_acoustic import AcousticCavity
from phyll_acoustic.presets import PRESETS
from phyll_acoustic.stats import summary

from phyll_core.factory import build_system

MEASURED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "acoustic_cavity"


def check_measured_statistics(stats: dict[str, object]) -> None:
    """The statistics the measured cavity shows (../shared/data/README.md)."""
    assert stats["active_inputs"] == 12
    assert (stats["period"], stats["channel_residues"]) == (5, [0, 1, 2])
    assert stats["near_zero_outputs"] == 8
    assert stats["correlated_pairs"] == 0
    assert 0.03 <= stats["nonlinearity"] <= 0.06  # type: ignore[operator]
    assert 0.97 <= stats["mix_r2_min"] <= stats["mix_r2_max"] <= 0.999  # type: ignore[operator]


@pytest.mark.parametrize("seed", [0, 1])
def test_measured_preset_has_the_measured_statistics(seed: int) -> None:
    system = AcousticCavity(preset="measured", seed=seed)
    x = np.random.default_rng(seed + 10).uniform(size=(4096, 20))
    stats = summary(x, system.forward(x), zero_output=system.forward(np.zeros((64, 20))))
    check_measured_statistics(stats)
    assert stats["zero_drive"] < 0.02  # the zero drive reads the noise floor only


def test_measured_file_has_the_statistics_the_preset_copies() -> None:
    if not (MEASURED / "inputs.csv").is_file():
        pytest.skip(f"{MEASURED} not found (the measured cavity is not shipped)")
    x = np.loadtxt(MEASURED / "inputs.csv", delimiter=",")
    y = np.loadtxt(MEASURED / "outputs.csv", delimiter=",")
    measured = summary(x, y)
    check_measured_statistics(measured)
    assert measured["zero_drive"] < 0.02
    simulated = summary(x, AcousticCavity(preset="measured").forward(x))
    for key in ("active_inputs", "period", "channel_residues", "near_zero_outputs", "pcs_90"):
        assert simulated[key] == measured[key], key
    assert simulated["nonlinearity"] == pytest.approx(measured["nonlinearity"], abs=0.01)


def test_presets_fill_only_unset_parameters_and_explicit_values_win() -> None:
    defaults = {f.name: f.default for f in attrs.fields(AcousticCavity) if f.init}
    for name, values in PRESETS.items():
        for key in values:
            assert defaults[key] in (None, ""), f"preset {name} sets {key}, which has a default"
    system = build_system("acoustic", ["preset=measured"])
    assert system.params["preset"] == "measured"
    assert system.output_dim == 20 and system.microphone_positions.shape == (4, 3)
    np.testing.assert_allclose(system.bin_frequencies[:5], [1500, 1750, 2000, 2250, 2500])
    mine = build_system("acoustic", ["preset=measured", "microphones=2", "bin_low=1250"])
    assert mine.microphone_positions.shape == (2, 3)  # type: ignore[attr-defined]
    np.testing.assert_allclose(mine.bin_frequencies[:10], np.linspace(1250.0, 2500.0, 10))
    mic = "0.2,0.2,0.2;0.6,0.4,0.3;0.1,0.5,0.4;0.7,0.1,0.1"
    placed = AcousticCavity(preset="measured", microphone=mic)
    np.testing.assert_allclose(placed.microphone_positions[1], [0.6, 0.4, 0.3])


def test_each_microphone_reads_what_it_would_read_alone() -> None:
    src = "0.1,0.1,0.1;0.7,0.1,0.1;0.1,0.5,0.1;0.7,0.5,0.4"
    mics = ["0.4,0.3,0.25", "0.2,0.5,0.1", "0.75,0.05,0.45"]
    both = AcousticCavity(noise=0.0, sources=src, microphone=";".join(mics), outputs=60)
    assert both.output_dim == 60 and both.microphone_positions.shape == (3, 3)
    x = np.random.default_rng(0).uniform(size=(30, 20))
    y = both.forward(x)
    f = both.tone_frequencies
    for m, pos in enumerate(mics):
        alone = AcousticCavity(noise=0.0, sources=src, microphone=pos, microphones=1)
        np.testing.assert_allclose(
            both.bin_frequencies[m * 20 : (m + 1) * 20], alone.bin_frequencies
        )
        # the same physics up to the one normalisation constant of H (RMS over all microphones)
        ratio = both.transfer_function(f, m) / alone.transfer_function(f)
        np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-9)
        np.testing.assert_allclose(
            y[:, m * 20 : (m + 1) * 20], ratio.flat[0].real * alone.forward(x), rtol=1e-4, atol=1e-6
        )
