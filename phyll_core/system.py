"""The PhysicalSystem contract: the one boundary between phyll and a piece of physics.

A backend author subclasses :class:`PhysicalSystem` and writes physics only: the properties
``input_dim``, ``output_dim`` and ``domain`` and the method ``_forward`` (plus ``_perturb`` if
the system can drift). The public :meth:`PhysicalSystem.forward` validates every input (shape,
finiteness, domain) before the physics sees it, counts the query, and validates every output
(shape, finiteness) before phyll uses it.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import attrs
import numpy as np

from phyll_core.domain import Domain
from phyll_core.errors import (
    PhyllError,
    PhysicalInputError,
    PhysicalOutputError,
    PhysicalSystemError,
)


@attrs.define
class QueryCounter:
    """How often a system was queried: ``calls`` forward calls carrying ``samples`` rows."""

    calls: int = 0
    samples: int = 0

    def add(self, n: int) -> None:
        self.calls += 1
        self.samples += int(n)

    def reset(self) -> None:
        self.calls = 0
        self.samples = 0


class Dims(NamedTuple):
    """The widths (and input domain) a system has for given parameters, known without
    building it: what :meth:`PhysicalSystem.dims` returns and ``phyll systems`` lists.
    ``domain`` may be ``None`` when it is not known without building."""

    input_dim: int
    output_dim: int
    domain: Domain | None = None


@attrs.frozen
class Controls:
    """What a system's trainable physical controls are: a vector ``theta`` of ``size``
    components, each in ``domain`` (e.g. spare meta-atom bits in ``{0, 1}``, SLM phases in
    ``[0, 2 pi]``). Controls are not inputs: they are the same for every row of a batch and
    stay set until changed. ``description`` says in a few words what they set.

    ``periodic`` (interval domains only): every component is an angle, ``low`` and ``high`` are
    the same setting (``theta`` and ``theta + (high - low)`` act identically, e.g. an SLM phase
    in ``[0, 2 pi]``); the estimators then wrap their steps around the domain instead of
    clipping them at its ends. The conformance suite checks that the ends give the same
    outputs."""

    size: int
    domain: Domain
    description: str = ""
    periodic: bool = False

    def __attrs_post_init__(self) -> None:
        if int(self.size) < 1:
            raise ValueError(f"Controls needs size >= 1, got {self.size}")
        if self.periodic and self.domain.kind != "interval":
            raise ValueError(f"periodic controls need an interval domain, got {self.domain!r}")

    @property
    def shape(self) -> tuple[int]:
        return (int(self.size),)

    def describe(self) -> dict[str, Any]:
        return {
            "size": int(self.size),
            "domain": self.domain.describe(),
            "description": self.description,
            **({"periodic": True} if self.periodic else {}),
        }


@attrs.define(kw_only=True, eq=False)
class PhysicalSystem(abc.ABC):
    """A physical system used as a fixed black box: float (batch, input_dim) in,
    float (batch, output_dim) out, no gradients.

    Subclasses implement ``input_dim``, ``output_dim``, ``domain`` and ``_forward``; they may
    implement ``_perturb(strength, rng)`` to model drift, and set ``name``. All randomness
    (construction, noise) must come from seeds so that the same seed gives the same numbers.
    ``params`` records the parameter values the system was built with (for checkpoints).
    """

    name: ClassVar[str] = "system"
    queries: QueryCounter = attrs.field(factory=QueryCounter, init=False, repr=False)
    params: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False)

    # -- what a backend implements ---------------------------------------------------------
    @property
    @abc.abstractmethod
    def input_dim(self) -> int:
        """Number of input components (columns of the input batch)."""

    @property
    @abc.abstractmethod
    def output_dim(self) -> int:
        """Number of output components (columns of the output batch)."""

    @property
    @abc.abstractmethod
    def domain(self) -> Domain:
        """The set every input component must lie in."""

    @property
    def noisy(self) -> bool:
        """Whether two passes of the same inputs can give different outputs (measurement
        noise). The engine's physical layer then measures each output's noise once, with one
        repeated pass of its calibration rows, and weights the output by its signal fraction
        (docs/training.md, "The physical layer"). Default ``False``: a backend with noise
        returns ``True`` whenever its noise is on, and real hardware always."""
        return False

    @property
    def noise_generator(self) -> np.random.Generator | None:
        """The generator a simulator draws its measurement noise from, or ``None`` (no
        simulated noise: real hardware, noise-free simulators; the default). A simulator that
        returns one must draw all its noise from it and accept a replacement through
        :meth:`use_noise_generator`: the trainer gives evaluation passes their own seeded
        generator, so that when and how often a run is evaluated does not change the noise
        its training passes see (docs/writing-a-backend.md)."""
        return None

    def use_noise_generator(self, rng: np.random.Generator) -> None:
        """Draw measurement noise from ``rng`` from now on. Only called on a system whose
        :attr:`noise_generator` is not ``None``; the default refuses."""
        raise PhyllError(f"system '{self.name}' has no simulated noise to redirect")

    @property
    def input_step(self) -> float:
        """The width of one quantisation step of each input component, in the domain's units:
        the system reads an input only to within this step (a DAC of ``b`` bits on ``[0, 1]``:
        ``2**-b``). Default ``0.0``: the input is read as a continuous value. The engine's
        physical layer dithers training inputs by this step (docs/training.md, "Dithered
        inputs"); an :class:`~phyll_core.domain.Interval` system only, ``0 <= step <=
        high - low``."""
        return 0.0

    @classmethod
    def dims(cls, params: Mapping[str, Any]) -> Dims | None:
        """The ``input_dim``, ``output_dim`` (and ``domain``) that ``cls(**params)`` would
        have, computed from the parameters alone, without building the system (no physics
        set up, nothing heavy imported): ``phyll systems`` and ``phyll systems show`` list
        them this way. ``params`` holds every declared parameter (defaults filled in). The
        default, ``None``, means "not known without building": the listing then builds the
        system. Override it when building is not instant; it may raise
        :class:`~phyll_core.errors.ParameterError` for values that the widths depend on and
        the class rejects, but need not repeat every check of the constructor."""
        return None

    @abc.abstractmethod
    def _forward(self, x: np.ndarray) -> np.ndarray:
        """The physics: map a validated float64 (batch, input_dim) array to
        (batch, output_dim) outputs. Must be vectorised over the batch."""

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        """Change the system as drift would; ``strength`` 0 leaves it unchanged.

        Units (the same for every backend, so that ``phyll compare --drift S`` means the same
        thing everywhere): **strength 1 is the drift a typical laboratory set-up of this kind
        sees in about one hour** of unattended running (for the acoustic cavity a 1 K air
        temperature change, for instance). State the physical meaning of strength 1 in your
        docstring; a strength s is s such hours' worth (larger strengths need not be linear).
        ``phyll_core.testing.drift_response`` measures the resulting relative change of the
        outputs, and ``check_system`` reports it."""
        raise NotImplementedError

    @property
    def controls(self) -> Controls | None:
        """The trainable physical controls this system offers, or ``None`` (the default).
        A system that declares controls also implements ``_get_controls`` and
        ``_set_controls``."""
        return None

    def _get_controls(self) -> np.ndarray:
        """The current controls, float64 of shape ``controls.shape``."""
        raise NotImplementedError

    def _set_controls(self, theta: np.ndarray) -> None:
        """Apply validated controls (float64, ``controls.shape``, inside ``controls.domain``);
        later forward calls use them. Not a query."""
        raise NotImplementedError

    # -- what phyll calls -----------------------------------------------------------------
    def get_controls(self) -> np.ndarray:
        """A copy of the current controls (an empty array for a system without controls)."""
        if self.controls is None:
            return np.zeros(0)
        return np.array(self._get_controls(), dtype=np.float64, copy=True)

    def set_controls(self, theta: Any) -> None:
        """Set the controls to ``theta``, validated first like an input: a wrong shape, NaN/inf
        or a value outside ``controls.domain`` raises :class:`PhysicalInputError` and leaves the
        controls unchanged. An empty ``theta`` is accepted by a system without controls."""
        arr = self.validate_controls(theta)
        if self.controls is not None:
            self._set_controls(arr)

    def validate_controls(self, theta: Any) -> np.ndarray:
        """Return ``theta`` as a float64 array of ``controls.shape`` or raise
        PhysicalInputError."""
        spec = self.controls
        try:
            arr = np.array(theta, dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            raise PhysicalInputError(
                f"system '{self.name}' expects numeric controls; got {type(theta).__name__}"
            ) from None
        if spec is None:
            if arr.size == 0:
                return np.zeros(0)
            raise PhysicalInputError(f"system '{self.name}' has no controls to set")
        if arr.shape != spec.shape:
            raise PhysicalInputError(
                f"system '{self.name}' expects controls of shape {spec.shape} in"
                f" {spec.domain.describe()}; got shape {arr.shape}"
            )
        if not np.isfinite(arr).all():
            raise PhysicalInputError(f"system '{self.name}' expects finite controls")
        bad = spec.domain.outside(arr)
        if bad.any():
            i = int(np.argmax(bad))
            raise PhysicalInputError(
                f"system '{self.name}' expects controls in {spec.domain.describe()}; got"
                f" {arr[i]:g} at index {i} ({int(bad.sum())} values outside)"
            )
        return arr

    @property
    def can_perturb(self) -> bool:
        """True when the subclass implements ``_perturb``."""
        return type(self)._perturb is not PhysicalSystem._perturb

    def forward(self, x: Any) -> np.ndarray:
        """Query the system with a batch ``x`` of shape (batch, input_dim).

        Raises :class:`PhysicalInputError` for a wrong shape, NaN/inf or values outside the
        domain (nothing is sent to the physics then), :class:`PhysicalOutputError` when
        the backend returns a wrong shape or non-finite values, and
        :class:`PhysicalSystemError` when it raises anything but a PhyllError. Returns float64
        outputs.
        """
        arr = self.validate_input(x)
        self.queries.add(arr.shape[0])
        try:
            y = self._forward(arr)
        except PhyllError:
            raise
        except Exception as exc:  # one clear line naming the system, not "a bug in phyll"
            raise PhysicalSystemError(
                f"system '{self.name}' failed in its forward pass: {type(exc).__name__}: {exc}"
            ) from exc
        return self.validate_output(y, arr.shape[0])

    __call__ = forward

    def perturb(self, strength: float, rng: np.random.Generator | int | None = None) -> None:
        """Apply drift of the given ``strength`` (>= 0) using ``rng`` (a Generator or seed)."""
        if not self.can_perturb:
            raise NotImplementedError(f"system '{self.name}' does not model drift (no perturb)")
        if not np.isfinite(strength) or strength < 0:
            raise ValueError(f"perturb strength must be finite and >= 0, got {strength!r}")
        self._perturb(float(strength), np.random.default_rng(rng))

    def validate_input(self, x: Any) -> np.ndarray:
        """Return ``x`` as a float64 (batch, input_dim) array or raise PhysicalInputError."""
        def expected() -> str:
            return f"float array of shape (batch, {self.input_dim}) in {self.domain.describe()}"

        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise PhysicalInputError(
                f"system '{self.name}' expects a {expected()}; got {type(x).__name__} that is"
                " not numeric"
            ) from None
        if arr.ndim != 2 or arr.shape[1] != self.input_dim or arr.shape[0] == 0:
            raise PhysicalInputError(
                f"system '{self.name}' expects a {expected()}; got shape {arr.shape}"
            )
        if not np.isfinite(arr).all():
            finite = np.isfinite(arr)
            row, col = np.argwhere(~finite)[0]
            raise PhysicalInputError(
                f"system '{self.name}' expects finite inputs; got {arr[row, col]} at row {row},"
                f" column {col}"
            )
        bad = self.domain.outside(arr)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise PhysicalInputError(
                f"system '{self.name}' expects inputs in {self.domain.describe()}; got"
                f" {arr[row, col]:g} at row {row}, column {col} ({int(bad.sum())} values outside)"
            )
        return arr

    def validate_output(self, y: Any, batch: int) -> np.ndarray:
        """Return the backend's output as float64 or raise PhysicalOutputError."""
        try:
            out = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            raise PhysicalOutputError(
                f"system '{self.name}' returned a non-numeric output ({type(y).__name__})"
            ) from None
        if out.shape != (batch, self.output_dim):
            raise PhysicalOutputError(
                f"system '{self.name}' returned shape {out.shape}; the contract says"
                f" ({batch}, {self.output_dim})"
            )
        if not np.isfinite(out).all():
            bad = ~np.isfinite(out)
            row, col = np.argwhere(bad)[0]
            raise PhysicalOutputError(
                f"system '{self.name}' returned {int(bad.sum())} non-finite output values"
                f" (NaN or inf); the first, {out[row, col]}, at row {row}, column {col}"
            )
        return out

    def status(self) -> dict[str, Any]:
        """Extra live facts a backend wants shown by ``phyll probe`` (e.g. a drift estimate of
        real hardware); empty by default. Values must be JSON-able."""
        return {}

    def describe(self) -> dict[str, Any]:
        """Dimensions, domain and parameter values, as plain JSON-able data."""
        return {
            "name": self.name,
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "domain": self.domain.describe(),
            "perturb": self.can_perturb,
            "controls": self.controls.describe() if self.controls is not None else None,
            "params": dict(self.params),
        }


class SeededNoise:
    """Mixin for a simulator that draws all its measurement noise from one seeded generator,
    the attribute ``_noise_rng`` (which the simulator declares and seeds): gives it
    :attr:`PhysicalSystem.noise_generator` (while :attr:`PhysicalSystem.noisy`) and
    :meth:`PhysicalSystem.use_noise_generator`. List it before the system's base class."""

    __slots__ = ()

    if TYPE_CHECKING:
        _noise_rng: np.random.Generator

        @property
        def noisy(self) -> bool: ...

    @property
    def noise_generator(self) -> np.random.Generator | None:
        """``_noise_rng`` while the noise is on, else ``None``."""
        return self._noise_rng if self.noisy else None

    def use_noise_generator(self, rng: np.random.Generator) -> None:
        """Draw the noise from ``rng`` from now on."""
        self._noise_rng = rng  # type: ignore[misc]  # the simulator's own attrs slot
