"""Input values -> metasurface bits."""

from __future__ import annotations

import numpy as np
from phyll_microwave import MicrowaveCavity, from_bits, levels, to_bits


def test_levels_are_equal_width_bins() -> None:
    x = np.array([0.0, 0.24, 0.25, 0.49, 0.5, 0.74, 0.75, 0.99, 1.0])
    assert levels(x, 2).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 3]
    assert levels(np.array([0.0, 0.5, 1.0]), 1).tolist() == [0, 1, 1]


def test_bits_are_most_significant_first() -> None:
    bits = to_bits(np.array([[0.0, 0.3, 0.6, 1.0]]), 2)
    assert bits.astype(int).tolist() == [[0, 0, 0, 1, 1, 0, 1, 1]]
    assert bits.dtype == bool


def test_round_trip_of_levels() -> None:
    x = np.random.default_rng(0).uniform(0, 1, size=(50, 7))
    for b in (1, 2, 3, 5):
        assert np.array_equal(from_bits(to_bits(x, b), b), levels(x, b))


def test_binary_mode_takes_configurations_directly() -> None:
    system = MicrowaveCavity(encoding="binary", frequencies=4)
    on = np.random.default_rng(1).integers(0, 2, size=(3, 40)).astype(float)
    assert np.array_equal(system.configuration(on), on.astype(bool))
    assert np.array_equal(system.forward(on), np.abs(system.channel(on.astype(bool))))


def test_levels_mode_equals_binary_mode_on_the_same_bits() -> None:
    x = np.random.default_rng(2).uniform(0, 1, size=(4, 20))
    levels_system = MicrowaveCavity(frequencies=4)
    binary_system = MicrowaveCavity(frequencies=4, encoding="binary")
    bits = to_bits(x, 2).astype(float)
    assert np.array_equal(levels_system.forward(x), binary_system.forward(bits))
