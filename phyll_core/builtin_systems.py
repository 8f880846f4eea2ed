"""Systems that ship with the core, so everything runs without a physics plugin."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np

from phyll_core.domain import Domain, Interval
from phyll_core.system import Dims, PhysicalSystem

UNIT = Interval(0.0, 1.0)

NONLINEARITIES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "abs": np.abs,
    "cos": np.cos,
    "sigmoid": lambda u: 0.5 * (1.0 + np.tanh(0.5 * u)),  # overflow-free logistic
}


@attrs.define(kw_only=True, eq=False)
class Identity(PhysicalSystem):
    """``y = x`` on ``[0, 1]^dim``: the "no physics" reference."""

    name = "identity"
    dim: int = attrs.field(default=20, validator=attrs.validators.ge(1))

    @classmethod
    def dims(cls, params: Mapping[str, Any]) -> Dims:
        return Dims(params["dim"], params["dim"], UNIT)

    @property
    def input_dim(self) -> int:
        return self.dim

    @property
    def output_dim(self) -> int:
        return self.dim

    @property
    def domain(self) -> Domain:
        return UNIT

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()


@attrs.define(kw_only=True, eq=False)
class RandomFeatures(PhysicalSystem):
    """``y = f(scale * (x @ M) + b)``: a fixed seeded Gaussian projection ``M``
    (entries N(0, 1/input_dim)) and offset ``b ~ U(-pi, pi)`` (only for ``cos``) followed by
    the elementwise nonlinearity ``f``. ``perturb`` adds ``strength``-scaled Gaussian noise to
    ``M`` (relative to its entries' scale)."""

    name = "random-features"
    inputs: int = attrs.field(default=20, validator=attrs.validators.ge(1))
    outputs: int = attrs.field(default=20, validator=attrs.validators.ge(1))
    nonlinearity: str = attrs.field(
        default="tanh", validator=attrs.validators.in_(tuple(NONLINEARITIES))
    )
    scale: float = 3.0
    seed: int = 0
    _matrix: np.ndarray = attrs.field(init=False, repr=False)
    _offset: np.ndarray = attrs.field(init=False, repr=False)

    @classmethod
    def dims(cls, params: Mapping[str, Any]) -> Dims:
        return Dims(params["inputs"], params["outputs"], UNIT)

    def __attrs_post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self._matrix = rng.standard_normal((self.inputs, self.outputs)) / np.sqrt(self.inputs)
        offset = rng.uniform(-np.pi, np.pi, self.outputs)
        self._offset = offset if self.nonlinearity == "cos" else np.zeros(self.outputs)

    @property
    def input_dim(self) -> int:
        return self.inputs

    @property
    def output_dim(self) -> int:
        return self.outputs

    @property
    def domain(self) -> Domain:
        return UNIT

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return NONLINEARITIES[self.nonlinearity](self.scale * (x @ self._matrix) + self._offset)

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        noise = rng.standard_normal(self._matrix.shape) / np.sqrt(self.inputs)
        self._matrix = self._matrix + strength * noise
