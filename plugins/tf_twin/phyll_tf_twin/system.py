"""The ``twin`` system: a fitted twin used as a physical system (``--system twin --param
path=MODEL``), so that PhyLL trains "on the measured hardware" as the published experiments
did after measuring it."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from phyll_core.domain import Domain
from phyll_core.system import PhysicalSystem
from phyll_tf_twin.twin import Twin


@attrs.define(kw_only=True, eq=False)
class TwinSystem(PhysicalSystem):
    """The twin saved at ``path`` (or the already loaded ``twin``) as a PhysicalSystem.

    Widths and input domain come from the twin's metadata. A query is one call of the Keras
    model on the whole batch (float32 inside, float64 out); the twin is deterministic and does
    not drift (no ``perturb``).
    """

    name = "twin"
    path: str = ""
    twin: Twin | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.twin is None:
            from phyll_core.errors import ParameterError

            if not self.path:
                raise ParameterError(
                    "system 'twin' needs the model file: --param path=MODEL.keras"
                    " (fit one with `phyll twin fit`)"
                )
            self.twin = Twin.load(self.path)

    @property
    def model(self) -> Twin:
        assert self.twin is not None
        return self.twin

    @property
    def input_dim(self) -> int:
        return self.model.input_dim

    @property
    def output_dim(self) -> int:
        return self.model.output_dim

    @property
    def domain(self) -> Domain:
        return self.model.domain

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(x)

    def status(self) -> dict[str, Any]:
        meta = self.model.meta
        return {
            "twin validation RMSE": meta.get("validation_rmse"),
            "twin source": meta.get("source", {}).get("kind"),
        }
