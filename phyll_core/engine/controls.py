"""In-situ training of physical controls from a block's local loss, with forward passes only.

A system may declare trainable controls ``theta`` (:class:`~phyll_core.system.Controls`):
spare meta-atom bits, an SLM phase mask, loudspeaker gains. The local loss of block ``k`` as a
function of its controls is

    L_k(theta) = objective(g(a_pos), g(a_neg)),  a = [P_k(enc(h); theta), h, 1] W_k^T,

with the block's current digital weights ``W_k`` and one batch of positive and negative rows
``h``: evaluating it costs one physical pass of the ``2 n`` rows with ``theta`` set on the real
system and no gradient through the physics. Two estimators use only such evaluations:

``spsa`` (interval controls; Spall 1992, simultaneous perturbation stochastic approximation)
    draw ``delta`` in ``{-1, +1}^p`` (Rademacher), evaluate ``L+ = L(theta + c delta)`` and
    ``L- = L(theta - c delta)`` (clipped to the domain, or wrapped around it for periodic
    controls such as phases), estimate the gradient
    ``g_hat = (L+ - L-) / (2 c) * delta`` (``1/delta_i = delta_i``) and take an Adam step
    ``theta <- clip(theta - lr * m_hat / (sqrt(v_hat) + eps))``. ``c`` and ``lr`` are given as
    fractions of the domain width. Cost: ``2 * 2n`` extra physical rows per update, whatever
    the number ``p`` of controls. ``directions = K`` averages ``K`` such estimates (variance
    ``/ K``, ``2K`` evaluations); ``accept`` measures the loss at the stepped controls (same
    batch, same weights) and keeps the step only if it is below ``L(theta)``, one more
    evaluation (an SPSA step with a descent test: it never raises the batch's loss).

``search`` (binary or interval controls; greedy stochastic local search, a (1+1)-ES)
    propose ``theta'`` = ``theta`` with ``flips`` random components changed (binary: flipped;
    interval: plus Gaussian noise of standard deviation ``c`` times the width, clipped, or
    wrapped when periodic), measure the ``2n`` rows with ``theta'`` and keep it when its loss
    is below that of ``theta``, both *refitted*: from the same weights, each gets the block's
    ``inner_steps`` Adam steps on its own rows (weights adapted to ``theta`` would make almost
    every change look worse).
    ``theta``'s rows come from the block's ordinary passes, so an update costs ``2n`` extra
    rows (and two digital refits).

Each block owns its controls (:class:`BlockControls`): with one system shared by every block,
a block sets its own ``theta`` on the system before each of its passes. Every random choice
comes from a child of the training step's ``rng`` (``rng.spawn``, which leaves the parent's
stream untouched), so a run with trained controls sees the same batches and negatives as the
same run with frozen ones (a paired comparison) and a resumed run continues exactly; the extra
physical rows are counted in :attr:`BlockControls.queries`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import attrs
import numpy as np

from phyll_core.domain import Binary, Interval
from phyll_core.errors import PhyllError
from phyll_core.system import Controls, PhysicalSystem

ESTIMATORS = ("none", "spsa", "search", "auto")
"""Values of the ``physics`` rule parameter: frozen controls, SPSA, greedy stochastic search,
or ``auto`` (SPSA for interval controls, search for binary ones, chosen per block)."""


@attrs.frozen
class ControlSettings:
    """How controls are trained (the ``physics*`` parameters of the PhyLL rules).

    ``lr``: SPSA Adam step, as a fraction of the domain width. ``perturbation``: SPSA's ``c``
    and the search's proposal scale, as a fraction of the domain width. ``flips``: components
    changed per search proposal. ``every``: update the controls on every ``every``-th batch.
    ``directions``: SPSA gradient estimates averaged per update (each two evaluations).
    ``accept``: SPSA keeps a step only when the loss at the new controls, measured on the same
    batch with the same weights, is below the present loss (one more evaluation).
    """

    estimator: str = "none"
    lr: float = 0.02
    perturbation: float = 0.05
    flips: int = 1
    every: int = 1
    directions: int = 1
    accept: bool = False

    def __attrs_post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise PhyllError(
                f"physics must be one of {', '.join(ESTIMATORS)}, got {self.estimator!r}"
            )
        if not (
            self.lr > 0
            and self.perturbation > 0
            and self.flips >= 1
            and self.every >= 1
            and self.directions >= 1
        ):
            raise PhyllError(
                "physics_lr and physics_perturbation must be > 0, physics_flips,"
                " physics_every and physics_directions >= 1"
            )

    @property
    def active(self) -> bool:
        return self.estimator != "none"

    @classmethod
    def from_rule_params(
        cls,
        physics: str = "none",
        physics_lr: float = 0.02,
        physics_perturbation: float = 0.05,
        physics_flips: int = 1,
        physics_every: int = 1,
        physics_directions: int = 1,
        physics_accept: bool = False,
    ) -> ControlSettings:
        """Settings from the rule parameters ``physics``, ``physics_lr``, ... (see
        :data:`phyll_core.builtins.PHYSICS_PARAMS`)."""
        return cls(
            physics,
            physics_lr,
            physics_perturbation,
            physics_flips,
            physics_every,
            physics_directions,
            bool(physics_accept),
        )


def _width(spec: Controls) -> float:
    dom = spec.domain
    return float(dom.high - dom.low) if isinstance(dom, Interval) else 1.0


def _clip(spec: Controls, theta: np.ndarray) -> np.ndarray:
    """``theta`` brought into the domain: clipped to an interval, or wrapped around it when the
    controls are periodic (``low + (theta - low) mod (high - low)``, in ``[low, high)``;
    values inside are unchanged)."""
    dom = spec.domain
    if isinstance(dom, Interval):
        if spec.periodic:
            inside = (theta >= dom.low) & (theta <= dom.high)
            return np.where(inside, theta, dom.low + np.mod(theta - dom.low, dom.high - dom.low))
        return np.clip(theta, dom.low, dom.high)
    return theta


Evaluate = Callable[[np.ndarray], float]
"""``evaluate(theta)``: the block's local loss with controls ``theta`` (physical passes)."""


def spsa_gradient(
    evaluate: Evaluate,
    spec: Controls,
    theta: np.ndarray,
    c: float,
    directions: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float]:
    """SPSA estimate of the gradient of ``evaluate`` at ``theta`` (interval controls), the
    mean of ``directions`` independent two-sided estimates ``(L+ - L-) / (2c) * delta`` along
    Rademacher ``delta`` (``2 * directions`` evaluations; the variance falls as
    ``1 / directions``), and the mean of the evaluated losses. Where the domain clips a
    perturbed component the difference is divided by the span actually stepped; periodic
    controls are wrapped instead (the full span ``2c``)."""
    grad = np.zeros_like(theta)
    mean = 0.0
    for _ in range(directions):
        delta = rng.choice(np.array([-1.0, 1.0]), size=theta.shape)
        up = _clip(spec, theta + c * delta)
        down = _clip(spec, theta - c * delta)
        l_up, l_down = evaluate(up), evaluate(down)
        # 2c, less where the domain clipped a component (never for periodic controls)
        span = np.full_like(theta, 2.0 * c) if spec.periodic else (up - down) * delta
        grad += np.where(span > 0, (l_up - l_down) / np.maximum(span, 1e-300), 0.0) * delta
        mean += 0.5 * (l_up + l_down)
    return grad / directions, mean / directions


class BlockControls:
    """The controls of one block and the estimator training them (see the module docstring)."""

    BETA1, BETA2, EPS = 0.9, 0.999, 1e-8

    def __init__(self, spec: Controls, theta: np.ndarray, settings: ControlSettings) -> None:
        if settings.estimator == "auto":
            estimator = "search" if isinstance(spec.domain, Binary) else "spsa"
            settings = attrs.evolve(settings, estimator=estimator)
        if settings.estimator == "spsa" and isinstance(spec.domain, Binary):
            raise PhyllError(
                "physics=spsa needs interval controls; the system's controls are binary"
                f" ({spec.description or 'bits'}): use physics=search (greedy bit flips)"
            )
        self.spec = spec
        self.settings = settings
        self.theta = np.array(theta, dtype=np.float64, copy=True)
        self.m = np.zeros_like(self.theta)
        self.v = np.zeros_like(self.theta)
        self.t = 0
        self.batches = 0
        self.queries = 0
        self.accepted = 0

    @classmethod
    def for_system(cls, system: PhysicalSystem, settings: ControlSettings) -> BlockControls | None:
        """Controls starting from the system's current setting, or ``None`` when the system
        has none or ``settings`` freezes them."""
        if not settings.active or system.controls is None:
            return None
        return cls(system.controls, system.get_controls(), settings)

    def apply(self, system: PhysicalSystem) -> None:
        """Set this block's controls on ``system`` (before a pass of this block); nothing is
        sent when the system holds them already."""
        if not np.array_equal(system.get_controls(), self.theta):
            system.set_controls(self.theta)

    def due(self) -> bool:
        """Count a batch; True when the controls are to be updated on it."""
        self.batches += 1
        return (self.batches - 1) % self.settings.every == 0

    def update(self, evaluate: Evaluate, current: float, rng: np.random.Generator) -> float:
        """One estimator update from ``evaluate`` (the loss at ``current`` = L(theta) is known
        already); returns the local loss at the new controls as estimated on this batch."""
        if self.settings.estimator == "spsa":
            return self._spsa(evaluate, current, rng)
        return self._search(evaluate, current, rng)

    def _spsa(self, evaluate: Evaluate, current: float, rng: np.random.Generator) -> float:
        width, s = _width(self.spec), self.settings
        grad, mean = spsa_gradient(
            evaluate, self.spec, self.theta, s.perturbation * width, s.directions, rng
        )
        self.t += 1
        self.m = self.BETA1 * self.m + (1 - self.BETA1) * grad
        self.v = self.BETA2 * self.v + (1 - self.BETA2) * grad**2
        m_hat = self.m / (1 - self.BETA1**self.t)
        v_hat = self.v / (1 - self.BETA2**self.t)
        step = s.lr * width * m_hat / (np.sqrt(v_hat) + self.EPS)
        proposal = _clip(self.spec, self.theta - step)
        if not s.accept:
            self.theta = proposal
            return mean
        loss = evaluate(proposal)  # keep the step only if it lowers this batch's loss
        if loss < current:
            self.theta, self.accepted = proposal, self.accepted + 1
            return loss
        return current

    def _search(self, evaluate: Evaluate, current: float, rng: np.random.Generator) -> float:
        k = min(self.settings.flips, self.theta.size)
        idx = rng.choice(self.theta.size, size=k, replace=False)
        proposal = self.theta.copy()
        if isinstance(self.spec.domain, Binary):
            proposal[idx] = 1.0 - proposal[idx]
        else:
            noise = rng.standard_normal(k) * self.settings.perturbation * _width(self.spec)
            proposal[idx] = _clip(self.spec, proposal[idx] + noise)
        loss = evaluate(proposal)
        if loss < current:
            self.theta, self.accepted = proposal, self.accepted + 1
            return loss
        return current

    # -- checkpoints ------------------------------------------------------------------------------
    def state(self, prefix: str) -> dict[str, np.ndarray]:
        """Arrays to resume exactly: controls, Adam moments, counters."""
        return {
            prefix + "theta": self.theta.copy(),
            prefix + "m": self.m.copy(),
            prefix + "v": self.v.copy(),
            prefix + "counters": np.array(
                [self.t, self.batches, self.queries, self.accepted], dtype=np.float64
            ),
        }

    def load(self, state: dict[str, np.ndarray], prefix: str) -> None:
        missing = [k for k in ("theta", "m", "v", "counters") if prefix + k not in state]
        if missing:
            raise KeyError(f"missing array '{prefix + missing[0]}'")
        theta = np.array(state[prefix + "theta"], dtype=np.float64)
        if theta.shape != self.spec.shape or self.spec.domain.outside(theta).any():
            raise ValueError(f"array '{prefix}theta' does not fit the system's controls")
        self.theta = theta
        self.m = np.array(state[prefix + "m"], dtype=np.float64)
        self.v = np.array(state[prefix + "v"], dtype=np.float64)
        t, batches, queries, accepted = (int(v) for v in state[prefix + "counters"])
        self.t, self.batches, self.queries, self.accepted = t, batches, queries, accepted


class ControlledBlock(Protocol):
    """What :func:`control_step` needs of a block (``LocalBlock`` provides it)."""

    controls: BlockControls | None
    params: dict[str, np.ndarray]
    opt: Any
    label_slots: int

    @property
    def system(self) -> PhysicalSystem: ...

    def physics(self, h: np.ndarray) -> np.ndarray: ...

    def z(self, h: np.ndarray, *, phys: np.ndarray | None = None) -> np.ndarray: ...

    def train(self, z_pos: np.ndarray, z_neg: np.ndarray) -> float: ...

    def local_loss(self, z_pos: np.ndarray, z_neg: np.ndarray) -> float: ...


def _snapshot(block: ControlledBlock) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return (
        {k: v.copy() for k, v in block.params.items()},
        {k: np.array(v, copy=True) for k, v in block.opt.state.items()},
    )


def _restore(
    block: ControlledBlock, snap: tuple[dict[str, np.ndarray], dict[str, np.ndarray]]
) -> None:
    params, state = snap
    block.params = {k: v.copy() for k, v in params.items()}
    block.opt.state = {k: np.array(v, copy=True) for k, v in state.items()}


def control_step(
    block: ControlledBlock,
    h_pos: np.ndarray,
    h_neg: np.ndarray,
    z: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
) -> float | None:
    """Update ``block``'s controls on this batch, if due. ``z`` holds the block's ordinary
    ``z(h_pos)``, ``z(h_neg)`` rows at the present controls (measured already, no new pass).
    Each evaluation sends the ``2n`` rows through the system once with the candidate controls
    (``n`` rows when the block's labels are digital: positives and negatives then share their
    physical outputs); the rows sent are added to ``block.controls.queries``. Returns the
    loss estimate after the update, or ``None`` when nothing was done.

    ``spsa`` evaluates the loss with the block's current weights. ``search`` compares refitted
    losses: the weights adapted to the present controls make almost every change look worse,
    so both the present and the proposed setting get the block's ``inner_steps`` Adam steps on
    their own rows from the same starting weights, and the proposal wins if its refitted loss
    is lower (the block then keeps the proposal's refitted weights; otherwise its weights are
    left exactly as they were). The refits are digital work only (counted in the FLOPs)."""
    ctl = block.controls
    if ctl is None or not ctl.due():
        return None
    own = rng.spawn(1)[0]  # the step's stream (batches, negatives) stays as without controls
    system = block.system
    n = h_pos.shape[0]
    both = np.vstack([h_pos, h_neg])
    refit = ctl.settings.estimator == "search"
    snap = _snapshot(block) if refit else None

    def measure(theta: np.ndarray) -> np.ndarray:
        kept, ctl.theta = ctl.theta, theta
        before = system.queries.samples
        try:  # physics() and z() set the block's (candidate) controls first
            if block.label_slots:  # digital labels: positives and negatives share the physics
                phys = block.physics(h_pos)
                return np.vstack([block.z(h_pos, phys=phys), block.z(h_neg, phys=phys)])
            return block.z(both)
        finally:
            ctl.theta = kept
            ctl.queries += system.queries.samples - before

    def evaluate(theta: np.ndarray) -> float:
        rows = measure(theta)
        if snap is not None:
            _restore(block, snap)
            block.train(rows[:n], rows[n:])
        return block.local_loss(rows[:n], rows[n:])

    if snap is None:
        return ctl.update(evaluate, block.local_loss(*z), own)
    block.train(*z)
    current = block.local_loss(*z)
    accepted = ctl.accepted
    loss = ctl.update(evaluate, current, own)
    if ctl.accepted == accepted:
        _restore(block, snap)
    return loss
