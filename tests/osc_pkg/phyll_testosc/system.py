"""A chain of coupled damped Duffing oscillators driven by the inputs.

Input ``j`` in [0, 1] is the amplitude of a sinusoidal force at frequency ``drive`` on mass
``j``; the chain (springs ``stiffness`` to ground with a seeded relative ``disorder``, nearest
neighbour springs ``coupling``, cubic springs ``cubic``, damping ``damping``) is integrated for
``n_steps`` steps of ``dt`` (semi-implicit Euler, the whole batch at once); the output is each
mass's RMS displacement over the second half of the run. Drift: the stiffnesses change by a
relative 1 % times ``strength`` (a warm-up of the springs over an hour, say).
"""

from __future__ import annotations

import attrs
import numpy as np

from phyll_core import Interval, PhysicalSystem, param


@attrs.define(kw_only=True, eq=False)
class OscillatorChain(PhysicalSystem):
    """Driven coupled Duffing oscillators; see the module docstring."""

    name = "testosc-chain"
    masses: int = param(6, help="oscillators in the chain (input and output width)", low=1)
    n_steps: int = param(60, help="integration steps", low=20, high=400)
    dt: float = param(0.1, help="time step", gt=0.01, lt=0.5)
    drive: float = param(1.0, help="angular frequency of the drive", gt=0)
    stiffness: float = param(1.0, help="spring to ground", gt=0)
    coupling: float = param(0.5, help="spring between neighbours", low=0)
    cubic: float = param(2.0, help="cubic (Duffing) spring coefficient", low=0)
    damping: float = param(0.2, help="damping rate", low=0)
    disorder: float = param(0.1, help="relative spread of the stiffnesses", low=0, high=0.5)
    seed: int = param(0, help="seed of the stiffness disorder")
    _k: np.ndarray = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self._k = self.stiffness * (1.0 + self.disorder * rng.uniform(-1, 1, self.masses))

    @property
    def input_dim(self) -> int:
        return self.masses

    @property
    def output_dim(self) -> int:
        return self.masses

    @property
    def domain(self) -> Interval:
        return Interval(0.0, 1.0)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        u = np.zeros_like(x)
        v = np.zeros_like(x)
        half = self.n_steps // 2
        power = np.zeros_like(x)
        for step in range(self.n_steps):
            force = x * np.sin(self.drive * step * self.dt) - self._k * u - self.cubic * u**3
            force -= self.damping * v
            if self.masses > 1:
                stretch = np.diff(u, axis=1)
                force[:, :-1] += self.coupling * stretch
                force[:, 1:] -= self.coupling * stretch
            v = v + self.dt * force
            u = u + self.dt * v
            if step >= half:
                power += u**2
        return np.sqrt(power / (self.n_steps - half))

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        self._k = self._k * (1.0 + 0.01 * strength * rng.standard_normal(self.masses))
