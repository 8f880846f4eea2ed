"""Training configuration: every hyper-parameter of a run, with the defaults of ``phyll train``."""

from __future__ import annotations

import math
from typing import Any

import attrs

from phyll_core.errors import PhyllError

MAX_SEED = 2**32 - 1  # the seeds the data split accepts (NumPy's legacy seeding range)


ENCODERS = ("offset", "magnitude")  # see phyll_core.engine.network
WHITEN = 0.0
"""The default of ``--whiten``: the fraction of the standardised physical outputs' variance kept
by whitened principal components, 0 for none (plain per-output standardisation). Off by
measurement (docs/training.md, "Whitened outputs"): 0.95 lifts mnist1d through the fibre from
50.2 to 55.7 % (5 seeds), but on circles it keeps 2-6 of 20 components, drops the nonlinear
ones and costs 0.5-2.5 points through acoustic and optical."""
REDUCE: bool | None = None
"""The default of ``--reduce``: ``None`` is on with the skip connection and off without it. On,
a system with more outputs than inputs (the fibre's 225 camera pixels behind 20 SLM blocks)
enters ``z`` through as many whitened principal components of its standardised outputs as it
has inputs, and the block's digital projection is that much narrower. By measurement
(docs/training.md, "Reduced outputs"), with the skip connection: mnist1d through the fibre
from 50.2 to 55.7 % (5 seeds), circles through the fibre and the lens still 100 %, digits
96.0 -> 96.2 %; without it, where the physics is the block's only view of its input, digits
through the fibre falls from 91.3 to 86.5 % (identity 87.3 %), so every column stays. Systems
with no more outputs than inputs are unchanged."""
DITHER = 0.0
"""The default of ``--dither``: off. ``--dither D`` adds, in training passes, Gaussian noise of
``D`` input steps' standard deviation to the encoded inputs of a system that reads them to
within a step (:attr:`~phyll_core.system.PhysicalSystem.input_step` > 0: the microwave's 2-bit
levels). A regulariser whose worth depends on the task, hence off by measurement
(docs/training.md, "Dithered inputs"): on mnist1d it lifts the microwave by 2.2 points (10
seeds; 1.5 under identity), but on circles, whose two inputs need their precision, it costs
1.8 points, and without the skip connection PhyLL no longer learns digits through the
microwave."""
KERNELS = ("auto", "numpy", "numba")
"""Inner-step kernels (``--kernel``): ``numba`` compiles the published loss's inner steps
(:mod:`phyll_core.engine.fused_numba`, the ``fast`` extra), ``numpy`` (the default) runs them in
NumPy, ``auto`` is numba when it is installed (:func:`phyll_core.engine.fused.resolve_kernel`).
NumPy is the default by measurement (docs/results.md, "Engine inner steps compiled with numba"):
importing numba and loading the compiled kernel costs about 0.25 s a process (about 1.2 s more
on a cold cache), more than it saves on a run of the published vowel configuration."""


def _tuple_of_str(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _tuple_of_float(value: Any) -> tuple[float, ...]:
    if isinstance(value, int | float):
        return (float(value),)
    return tuple(float(v) for v in value)


def _positive(instance: Any, attribute: Any, value: int) -> None:
    if value < 1:
        raise PhyllError(f"{attribute.name.replace('_', '-')} must be >= 1, got {value}")


@attrs.define
class TrainConfig:
    """Hyper-parameters of one training run (the defaults are those of ``phyll train``).

    ``system`` names one system shared by every block or one per block; ``params`` are the
    systems' ``NAME=VALUE`` parameters; ``lr`` is one learning rate for every block or one per
    block; ``batch_size`` 0 means the whole training set, in batches of at most 1,024 rows.
    ``labels`` ``"digital"`` (default) routes the label slots around block 0's physics (they
    reach the digital projection directly), ``"physical"`` sends them through it (as
    published); measured in docs/training.md ("The physical layer").
    """

    system: tuple[str, ...] = attrs.field(default=("random-features",), converter=_tuple_of_str)
    params: dict[str, Any] = attrs.field(factory=dict)
    dataset: str = "circles"
    dataset_options: dict[str, Any] = attrs.field(factory=dict)
    rule: str = "phyll"
    rule_params: dict[str, Any] = attrs.field(factory=dict)
    loss: str = "cosine"
    objective: str = "softplus-delta"
    theta: float = 4.0
    blocks: int = attrs.field(default=2, validator=_positive)
    width: int = attrs.field(default=64, validator=_positive)
    epochs: int = attrs.field(default=60, validator=_positive)
    inner_steps: int = attrs.field(default=10, validator=_positive)
    lr: tuple[float, ...] = attrs.field(default=(1e-2,), converter=_tuple_of_float)
    weight_decay: float = 0.0
    batch_size: int = 0
    seed: int = 0
    test_fraction: float = 0.2
    predict: str | None = None
    skip: bool = True
    project: bool = True
    encoder: str = "offset"
    standardise: bool = True
    whiten: float = WHITEN
    reduce: bool | None = REDUCE
    dither: float = DITHER
    labels: str = "digital"
    patience: int = 0
    eval_every: int = 0
    dtype: str = "float64"
    kernel: str = "numpy"

    @property
    def eval_interval(self) -> int:
        """Epochs between evaluations: ``eval_every``, or with 0 (the default) every epoch for
        runs of up to 10 epochs and about 10 evaluations otherwise (evaluation through the
        physics costs as much as a training epoch; measured in docs/results.md). The last
        epoch is always evaluated, with every prediction method."""
        return self.eval_every or max(1, round(self.epochs / 10))

    def __attrs_post_init__(self) -> None:
        if not self.system:
            raise PhyllError("give at least one --system")
        if len(self.system) not in (1, self.blocks):
            raise PhyllError(
                f"give one --system for all blocks or one per block ({self.blocks}),"
                f" got {len(self.system)}"
            )
        if len(self.lr) not in (1, self.blocks) or not all(0 < v < math.inf for v in self.lr):
            shown = ",".join(f"{v:g}" for v in self.lr)
            raise PhyllError(f"--lr needs 1 or {self.blocks} positive finite values, got {shown}")
        for name in ("theta", "weight_decay", "test_fraction", "dither"):
            if not math.isfinite(getattr(self, name)):
                flag = name.replace("_", "-")
                raise PhyllError(f"--{flag} must be finite, got {getattr(self, name)}")
        if not 0 <= self.seed <= MAX_SEED:
            raise PhyllError(f"--seed must be a whole number in 0..{MAX_SEED}, got {self.seed}")
        if self.batch_size < 0 or self.patience < 0 or self.weight_decay < 0:
            raise PhyllError("batch size, patience and weight decay must be >= 0")
        if self.dither < 0:
            raise PhyllError(f"--dither must be >= 0 (input steps; 0: off), got {self.dither}")
        if self.eval_every < 0:
            raise PhyllError(f"--eval-every must be >= 0 (0: automatic), got {self.eval_every}")
        if self.dtype not in ("float64", "float32"):
            raise PhyllError(f"--dtype must be float64 or float32, got {self.dtype!r}")
        if self.kernel not in KERNELS:
            raise PhyllError(
                f"--kernel must be one of {', '.join(KERNELS)}, got {self.kernel!r}"
            )
        if not 0.0 <= self.whiten <= 1.0:
            raise PhyllError(f"--whiten must be a fraction in [0, 1], got {self.whiten}")
        if self.labels not in ("physical", "digital"):
            raise PhyllError(f"--labels must be physical or digital, got {self.labels!r}")
        if self.encoder not in ENCODERS:
            raise PhyllError(
                f"--encoder must be one of {', '.join(ENCODERS)}, got {self.encoder!r}"
            )

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        """The configuration of ``to_json``; a configuration written before ``labels``
        existed trained with the labels through the physics, one written before ``whiten``
        without whitening, one written before ``reduce`` with every output column, one
        written before ``dither`` without dithering, and they keep doing so."""
        data = {"labels": "physical", "whiten": 0.0, "reduce": False, "dither": 0.0, **data}
        known = {a.name for a in attrs.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise PhyllError(f"unknown configuration keys {sorted(unknown)}")
        return cls(**data)
