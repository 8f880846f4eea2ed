"""The test plugin's system and dataset (imported only when used)."""

from __future__ import annotations

import attrs
import numpy as np

from phyll_core import Interval, PhysicalSystem
from phyll_core.datasets import Dataset


@attrs.define(kw_only=True, eq=False)
class SquareLaw(PhysicalSystem):
    """``y = (x @ M)**2``: a fixed seeded Gaussian mix read by square-law detectors."""

    name = "testplugin-square"
    inputs: int = 6
    outputs: int = 4
    seed: int = 0
    _mix: np.ndarray = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self._mix = rng.standard_normal((self.inputs, self.outputs))

    @property
    def input_dim(self) -> int:
        return self.inputs

    @property
    def output_dim(self) -> int:
        return self.outputs

    @property
    def domain(self) -> Interval:
        return Interval(0.0, 1.0)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return (x @ self._mix) ** 2


def load_xor() -> Dataset:
    """200 points in four noisy clusters; the class is the XOR of the quadrant signs."""
    rng = np.random.default_rng(0)
    centres = rng.integers(0, 2, size=(200, 2))
    x = centres * 2.0 - 1.0 + 0.2 * rng.standard_normal((200, 2))
    y = (centres[:, 0] ^ centres[:, 1]).astype(np.int64)
    return Dataset("testplugin-xor", x, y, ("same", "different"))
