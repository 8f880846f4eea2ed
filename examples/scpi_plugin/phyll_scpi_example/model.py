"""``scpi-demo-model``: the example instrument's response function used directly, no hardware."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from phyll_core.domain import Domain, Interval
from phyll_core.system import Dims, PhysicalSystem
from phyll_scpi_example.response import ResponseModel


@attrs.define(kw_only=True, eq=False)
class ResponseSystem(PhysicalSystem):
    """The emulator's physics ``y = |s(x) @ M|`` as an in-process system (the reference that
    training through the emulated instrument is compared with)."""

    name = "scpi-demo-model"
    inputs: int = attrs.field(default=20, validator=attrs.validators.ge(1))
    outputs: int = attrs.field(default=20, validator=attrs.validators.ge(1))
    seed: int = 0
    beta: float = 0.5
    _model: ResponseModel = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._model = ResponseModel(self.inputs, self.outputs, self.seed, self.beta)

    @classmethod
    def dims(cls, params: Mapping[str, Any]) -> Dims:
        return Dims(params["inputs"], params["outputs"], Interval(0.0, 1.0))

    @property
    def input_dim(self) -> int:
        return self.inputs

    @property
    def output_dim(self) -> int:
        return self.outputs

    @property
    def domain(self) -> Domain:
        return Interval(0.0, 1.0)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return self._model(x)
