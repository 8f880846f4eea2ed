"""Input domains of physical systems: a closed interval or binary configurations."""

from __future__ import annotations

import abc

import attrs
import numpy as np


class Domain(abc.ABC):
    """The set of values a physical system accepts in each input component."""

    kind: str

    @abc.abstractmethod
    def outside(self, x: np.ndarray) -> np.ndarray:
        """Boolean mask of the entries of ``x`` that lie outside the domain."""

    @abc.abstractmethod
    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Draw uniformly distributed float64 values from the domain."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Short human-readable form, e.g. ``[0, 1]`` or ``{0, 1}``."""


@attrs.frozen
class Interval(Domain):
    """Every component in the closed interval ``[low, high]``."""

    low: float = 0.0
    high: float = 1.0
    kind = "interval"

    def __attrs_post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"Interval needs finite low < high, got [{self.low}, {self.high}]")

    def outside(self, x: np.ndarray) -> np.ndarray:
        return (x < self.low) | (x > self.high)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=shape)

    def describe(self) -> str:
        return f"[{self.low:g}, {self.high:g}]"


@attrs.frozen
class Binary(Domain):
    """Every component exactly 0 or 1 (e.g. the bits of a 1-bit metasurface)."""

    kind = "binary"

    def outside(self, x: np.ndarray) -> np.ndarray:
        return (x != 0) & (x != 1)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.integers(0, 2, size=shape).astype(np.float64)

    def describe(self) -> str:
        return "{0, 1}"
