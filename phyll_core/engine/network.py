"""The fixed (non-trained) parts of a physical network: label embedding, the adapter from a
block's input to its system's input width, the encoder into the system's domain, the physical
pass itself and the standardisation of its outputs.

Block ``k`` computes ``z = [S_k(P_k(enc_k(h))), h]`` (skip on) or ``z = S_k(P_k(enc_k(h)))``
(skip off), then the trained projection ``a = W_k z + b_k``; the next block gets ``h = a``.

- **Label embedding**: ``C`` slots are prepended to each input row; label ``c`` sets slot ``c``
  to the constant ``m`` (99th percentile of |value| of the standardised training features,
  fixed once) and the others to 0. The neutral label sets every slot to ``m / C``.
- **Adapter**: when ``h`` is narrower than the system's input it is zero-padded (as published);
  when wider, it is multiplied by a fixed seeded Gaussian projection ``R`` (entries
  N(0, 1/width)), or, with ``project=False``, refused.
- **Encoder** into a continuous domain ``[lo, hi]`` (``encoder=``):

  * ``offset`` (default): ``x_j = lo + (hi - lo) clip(1/2 + (v_j - mu_j) / (2 c s_j), 0, 1)``
    with ``c = 3``: each component's mean ``mu_j`` sits at mid-range and +-3 standard deviations
    ``s_j`` span the domain, so sign and scale survive;
  * ``magnitude`` (the first-round encoder): ``x = lo + (hi - lo) |v| / max_j |v_j|`` per row,
    which discards the sign and the row's scale.

  Binary domain: ``x_j = 1[v_j > mu_j]`` with ``offset``, ``1[v_j > 0]`` with ``magnitude``.
- **Output standardisation** (``standardise=True``, default): ``S(y) = g (y - m) / s`` per output
  column, so the physical outputs enter ``z`` on the scale of ``h``. ``g = 1`` for a system
  that is not :attr:`~phyll_core.system.PhysicalSystem.noisy`; for a noisy one, ``g =
  clip(1 - n / s^2, 0, 1)`` is the column's signal fraction, with its noise variance ``n``
  measured once from one repeated pass of the calibration rows (``n = var(y - y') / 2``):
  a column of noise is not blown up to the scale of a column of signal.
- **Output whitening** (``whiten=f``, off by default: ``f = 0``): the standardised outputs
  are rotated onto their principal components, and the fewest components that hold the
  fraction ``f`` of their variance are kept, each scaled to unit variance; the other columns
  of ``S(y)`` are 0 (the layer's width does not change). A regulariser whose worth depends on
  the task: the fibre's 225 pixels on mnist1d (12 components hold 90 % of the variance)
  overfit on their smallest components, while on circles the small components are the
  nonlinear ones (docs/training.md, "Whitened outputs").
- **Reduced outputs** (``reduce=True``, the layer's default; training's default is on with the
  skip connection only, :attr:`phyll_core.engine.rule.Problem.reduces`): a system with more
  outputs than inputs (``output_dim > input_dim``, standardised) enters ``z`` through at most
  ``input_dim`` whitened principal components of its standardised outputs (the fewest that
  hold ``f`` of the variance when ``whiten=f`` is also set); :attr:`PhysicalLayer.out_width` is then
  ``input_dim``, so the block's projection is narrower. The fibre's 225 pixels behind 20 SLM
  blocks are a 20-dimensional field read through a modulus: their leading components carry it,
  the rest made PhyLL on mnist1d train slowly and generalise worse (docs/training.md,
  "Reduced outputs"). A system with no more outputs than inputs is unchanged.
- **Dithered inputs** (``dither=D``, off by default: ``D = 0``): a system that reads its
  inputs only to within a step ``q`` (:attr:`~phyll_core.system.PhysicalSystem.input_step`:
  the microwave's 2-bit levels, ``q = 1/4``) gets, in training passes only, ``x + D q N(0,
  1)`` clipped to the domain, the same noise for a positive row and its negatives. Through
  the microwave on mnist1d PhyLL fits its training split better than identity and
  generalises worse; dithered, it gains 2.2 points (10 seeds), but circles loses the
  precision of its two inputs (docs/training.md, "Dithered inputs"). Predictions are never
  dithered; continuous and binary inputs never are.

The statistics ``mu, s, m, s_out, g`` and the whitening basis are measured once, on the first
batch the layer sees in training (``forward(h, calibrate=True)``), then fixed and stored in
checkpoints: a prediction never depends on the rest of its batch. The measurements behind
these choices are in docs/training.md ("The physical layer").

The output standardisation is measured again when a later training pass finds the system's
outputs off the scale it was fixed for (the system changed under the layer: drift, a
``perturb``): its mean far from the fixed one (:data:`REFRESH_SHIFT`) or its spread far
above the fixed one (:data:`REFRESH_SPREAD`). Without it a
drift step left the outputs 22 standard deviations off (microwave, ``perturb(0.2)``) and
PhyLL with hardest negatives stayed at chance (benchmarks/drift_collapse.py, docs/in-situ.md).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np

from phyll_core.domain import Binary, Domain, Interval
from phyll_core.engine.config import DITHER, ENCODERS, WHITEN
from phyll_core.errors import PhyllError
from phyll_core.system import PhysicalSystem

_TINY = 1e-12
SPAN = 3.0  # the offset encoder maps mean +- SPAN standard deviations onto the domain
REFRESH_SHIFT = 3.0
"""A training pass refreshes the output standardisation when its outputs' mean is further than
this from the fixed mean: RMS over the columns of the standardised mean, in units of the
pass's own standardised spread when that is above 1. Normal training stays far below it (at
most 1.3 over 60 epochs on mnist1d through lens, optical, acoustic and microwave: the second
block's mean moves by up to 3 fixed deviations as the first block learns, its spread grows
with it); a drift step of ``perturb(0.02)`` on the microwave reaches 5.8 and ``perturb(0.2)``
13. ``inf`` never refreshes."""
REFRESH_SPREAD = 6.0
"""... or when its outputs' spread (mean standardised standard deviation over the columns) is
above this: a gain change (normal training: at most 2.7)."""


def _whitening_basis(s: np.ndarray, keep: float, limit: int | None = None) -> np.ndarray:
    """``out x k`` matrix ``V_k / sqrt(l_k)``: the fewest principal components of rows ``s``
    (centred) that hold the fraction ``keep`` of their variance, at most ``limit`` of them,
    each scaled to unit variance. Components with no variance (below ``1e-10`` of the
    largest) are never kept."""
    d = s - s.mean(axis=0)
    lam, vec = np.linalg.eigh(d.T @ d / s.shape[0])  # population covariance, as ``s``'s std
    lam, vec = lam[::-1], vec[:, ::-1]  # largest first
    positive = lam > 1e-10 * max(float(lam[0]), _TINY)
    share = np.cumsum(np.where(positive, lam, 0.0)) / max(float(lam[positive].sum()), _TINY)
    k = min(int(np.searchsorted(share, keep - 1e-12)) + 1, int(positive.sum()))
    k = k if limit is None else min(k, limit)
    return (vec[:, :k] / np.sqrt(lam[:k])).astype(s.dtype)


def embed(x: np.ndarray, labels: np.ndarray | None, n_classes: int, m: float) -> np.ndarray:
    """Prepend ``n_classes`` label slots; ``labels=None`` embeds the neutral label."""
    slots = np.zeros((x.shape[0], n_classes), dtype=x.dtype)
    if labels is None:
        slots[:] = m / n_classes
    else:
        slots[np.arange(x.shape[0]), labels] = m
    return np.hstack([slots, x])


def encode(v: np.ndarray, domain: Domain) -> np.ndarray:
    """The ``magnitude`` encoder: rows of ``v`` into ``domain`` (see the module docstring)."""
    if isinstance(domain, Binary):
        return (v > 0).astype(v.dtype)
    if isinstance(domain, Interval):
        u = np.abs(v)
        u /= np.maximum(u.max(axis=1, keepdims=True), _TINY)  # now in [0, 1]
        if domain.low == 0.0 and domain.high == 1.0:
            return u
        return domain.low + (domain.high - domain.low) * u
    raise PhyllError(f"no encoder for domain {domain!r}")


def encode_offset(v: np.ndarray, mean: np.ndarray, std: np.ndarray, domain: Domain) -> np.ndarray:
    """The ``offset`` encoder with fixed per-component ``mean`` and ``std``."""
    if isinstance(domain, Binary):
        return (v > mean).astype(v.dtype)
    if isinstance(domain, Interval):
        u = np.clip(0.5 + (v - mean) / (2.0 * SPAN * std), 0.0, 1.0)
        if domain.low == 0.0 and domain.high == 1.0:
            return u
        return domain.low + (domain.high - domain.low) * u
    raise PhyllError(f"no encoder for domain {domain!r}")


def _std(values: np.ndarray) -> np.ndarray:
    """Column standard deviations, with constant columns given 1 (they stay constant)."""
    s = values.std(axis=0)
    return np.where(s > 1e-8 * max(1.0, float(np.abs(values).max(initial=0.0))), s, 1.0)


@attrs.define(eq=False)
class PhysicalLayer:
    """Adapter, encoder, system and output standardisation of one block:
    ``forward(h)`` returns ``S(P(enc(adapt(h))))``."""

    system: PhysicalSystem
    in_width: int
    projection: np.ndarray | None = None
    encoder: str = "offset"
    standardise: bool = True
    whiten: float = WHITEN
    reduce: bool = True
    dither: float = DITHER
    stats: dict[str, np.ndarray] = attrs.field(factory=dict)
    refreshes: int = 0  # output standardisations measured again since built (off scale)
    noise_queries: int = 0  # rows of the repeated pass that measured the outputs' noise

    @classmethod
    def build(
        cls,
        system: PhysicalSystem,
        in_width: int,
        rng: np.random.Generator,
        project: bool = True,
        encoder: str = "offset",
        standardise: bool = True,
        whiten: float = WHITEN,
        reduce: bool = True,
        dither: float = DITHER,
    ) -> PhysicalLayer:
        if encoder not in ENCODERS:
            raise PhyllError(f"encoder must be one of {', '.join(ENCODERS)}, got {encoder!r}")
        if not 0.0 <= whiten <= 1.0:
            raise PhyllError(f"whiten must be a fraction in [0, 1], got {whiten}")
        if not 0.0 <= dither < np.inf:
            raise PhyllError(f"dither must be >= 0 (input steps), got {dither}")
        projection = None
        if in_width > system.input_dim:
            if not project:
                raise PhyllError(
                    f"block input width {in_width} exceeds system '{system.name}' input"
                    f" {system.input_dim}; allow the random projection or pick a wider system"
                )
            projection = rng.standard_normal((in_width, system.input_dim)) / np.sqrt(in_width)
        return cls(system, in_width, projection, encoder, standardise, whiten, reduce, dither)

    @property
    def reduced(self) -> bool:
        """Whether the outputs enter ``z`` through at most ``input_dim`` principal components
        (``reduce`` on, outputs standardised and wider than the system's input)."""
        system = self.system
        return self.reduce and self.standardise and system.output_dim > system.input_dim

    @property
    def out_width(self) -> int:
        """Columns of :meth:`forward`: the system's outputs, or its input width when
        :attr:`reduced`."""
        return self.system.input_dim if self.reduced else self.system.output_dim

    @property
    def dither_std(self) -> float:
        """Standard deviation of the training passes' input noise, in the domain's units:
        ``dither`` times the system's :attr:`~phyll_core.system.PhysicalSystem.input_step`
        (0 for a continuous or binary input)."""
        if not isinstance(self.system.domain, Interval):
            return 0.0
        return self.dither * float(self.system.input_step)

    def dither_noise(self, rows: int, rng: np.random.Generator) -> np.ndarray | None:
        """Standard normal noise (rows, input_dim) for :meth:`forward`'s ``noise``, or
        ``None`` when the layer does not dither (:attr:`dither_std` 0: nothing drawn). The
        zero-padded inputs (a block narrower than its system) get none: they carry no data,
        and noise on them would only shake the outputs (circles' 2 features padded to the
        microwave's 20 inputs lost 6 points to it)."""
        if self.dither_std <= 0.0:
            return None
        width = self.system.input_dim
        live = width if self.projection is not None else min(self.in_width, width)
        noise = np.zeros((rows, width))
        noise[:, :live] = rng.standard_normal((rows, live))
        return noise

    def dithered(self, x: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """System inputs ``x`` plus :attr:`dither_std` times ``noise``, clipped to the domain.
        ``noise`` has ``x``'s rows or divides them: it is then repeated down the rows (the
        ``C`` label copies of a scoring pass share their row's noise)."""
        domain = self.system.domain
        if self.dither_std <= 0.0 or not isinstance(domain, Interval):
            return x
        reps = x.shape[0] // noise.shape[0]
        if reps * noise.shape[0] != x.shape[0] or noise.shape[1] != x.shape[1]:
            raise PhyllError(f"dither noise of shape {noise.shape} does not fit inputs {x.shape}")
        if reps > 1:
            noise = np.tile(noise, (reps, 1))
        return np.clip(x + self.dither_std * noise, domain.low, domain.high)

    @property
    def calibrated(self) -> bool:
        """Whether the statistics the layer needs are fixed (always, for a layer that needs
        none: ``magnitude`` encoder without standardisation)."""
        encoder_done = self.encoder != "offset" or "enc_mean" in self.stats
        return encoder_done and (not self.standardise or "out_mean" in self.stats)

    def _fix_encoder(self, v: np.ndarray) -> None:
        """Fix the offset encoder's statistics from adapted rows ``v`` (once)."""
        if self.encoder == "offset" and "enc_mean" not in self.stats:
            self.stats["enc_mean"], self.stats["enc_std"] = v.mean(axis=0), _std(v)

    def _fix_outputs(self, y: np.ndarray) -> None:
        """Fix the output standardisation (and whitening basis) from physical outputs ``y``
        (once)."""
        if self.standardise and "out_mean" not in self.stats:
            self.stats["out_mean"], self.stats["out_std"] = y.mean(axis=0), _std(y)
            self.stats.pop("out_basis", None)
            # a reduced layer needs its basis even from one row (it keeps no component then)
            if self.reduced or (self.whiten > 0 and y.shape[0] > 1):
                limit = self.out_width if self.reduced else None
                basis = _whitening_basis(self._scaled(y), self.whiten or 1.0, limit)
                self.stats["out_basis"] = basis

    def _fix_gain(self, y: np.ndarray, again: np.ndarray) -> None:
        """Fix each output column's signal fraction ``g`` from two passes ``y``, ``again`` of
        the same rows (once; a noisy system only)."""
        noise = 0.5 * np.var(y - again, axis=0)
        total = np.maximum(np.var(y, axis=0), _TINY)
        self.stats["out_gain"] = np.clip(1.0 - noise / total, 0.0, 1.0)

    def adapt(self, h: np.ndarray) -> np.ndarray:
        """``adapt(h)``: projection or zero padding to the system's input width."""
        v = h @ self.projection if self.projection is not None else h
        if v.shape[1] < self.system.input_dim:
            v = np.hstack([v, np.zeros((v.shape[0], self.system.input_dim - v.shape[1]), v.dtype)])
        return v

    def _encode(self, v: np.ndarray) -> np.ndarray:
        if self.encoder == "magnitude":
            return encode(v, self.system.domain)
        if "enc_mean" not in self.stats:
            raise PhyllError("the physical layer is not calibrated yet (train first)")
        return encode_offset(v, self.stats["enc_mean"], self.stats["enc_std"], self.system.domain)

    def encode(self, h: np.ndarray) -> np.ndarray:
        """``enc(adapt(h))``: the system input for block input ``h``."""
        return self._encode(self.adapt(h))

    def _scaled(self, y: np.ndarray) -> np.ndarray:
        """``g (y - m) / s`` per output column."""
        s = (y - self.stats["out_mean"]) / self.stats["out_std"]
        return s * self.stats["out_gain"] if "out_gain" in self.stats else s

    def standardised(self, y: np.ndarray) -> np.ndarray:
        """``S(y)``: physical outputs on a common scale (identity when off), whitened onto
        the kept principal components when the layer has a whitening basis."""
        if not self.standardise:
            return y
        if "out_mean" not in self.stats:
            raise PhyllError("the physical layer is not calibrated yet (train first)")
        s = self._scaled(y)
        basis = self.stats.get("out_basis")
        if basis is None:
            return s
        if basis.shape[1] == self.out_width:  # every column kept (the usual reduced layer)
            return s @ basis
        out = np.zeros((s.shape[0], self.out_width), dtype=s.dtype)
        out[:, : basis.shape[1]] = s @ basis
        return out

    def calibrate_with(self, h: np.ndarray, measure: Callable[[np.ndarray], np.ndarray]) -> None:
        """Fix the statistics from rows ``h`` with ``measure`` standing in for the system
        (e.g. a digital twin's prediction); statistics already fixed are kept."""
        v = self.adapt(h)
        self._fix_encoder(v)
        if self.standardise and "out_mean" not in self.stats:
            self._fix_outputs(np.asarray(measure(self._encode(v))))

    def forward(
        self, h: np.ndarray, calibrate: bool = False, noise: np.ndarray | None = None
    ) -> np.ndarray:
        """One physical pass (counted by the system's query counter), standardised. With
        ``calibrate=True`` on a layer not calibrated yet, the statistics are first fixed from
        these rows (training's first batch): no extra physical pass is needed; on a calibrated
        layer whose outputs are off scale (:meth:`off_scale` above :data:`REFRESH_SHIFT` or
        :data:`REFRESH_SPREAD`) the output standardisation is fixed again from these rows.
        ``noise`` (training passes, from :meth:`dither_noise`) dithers the encoded inputs
        (:meth:`dithered`); without it (predictions) the pass is deterministic in ``h``."""
        v = self.adapt(h)
        if calibrate:
            self._fix_encoder(v)
        x = self._encode(v)
        if noise is not None:
            x = self.dithered(x, noise)
        y = self.system.forward(x)
        first = calibrate and self.standardise and "out_mean" not in self.stats
        if first and self.system.noisy and y.shape[0] > 1:  # a repeated pass: the noise
            self._fix_gain(y, self.system.forward(x))
            self.noise_queries += y.shape[0]
        if calibrate:
            shift, spread = self.off_scale(y)
            if shift > REFRESH_SHIFT or spread > REFRESH_SPREAD:  # the system changed
                del self.stats["out_mean"], self.stats["out_std"]  # measured again below
                self.refreshes += 1
            self._fix_outputs(y)
        return self.standardised(y)

    def off_scale(self, y: np.ndarray) -> tuple[float, float]:
        """``(shift, spread)`` of physical outputs ``y`` (the rows of one pass) against the
        fixed output scale: ``spread`` is the mean over columns of their standardised standard
        deviation (0 for one row), ``shift`` the RMS over columns of their standardised mean,
        divided by ``max(1, spread)``. About ``(1/sqrt(n), 1)`` for ``n`` rows of the
        calibration's kind; ``(0, 0)`` when the outputs are not standardised or not yet
        calibrated."""
        if not self.standardise or "out_mean" not in self.stats:
            return 0.0, 0.0
        # moments of d = y - m by two matrix-vector products (np.mean/np.std along axis 0
        # cost 15 % of a vowels epoch): mean(s) = mean(d) / sd, var(s) = var(d) / sd^2
        d = y - self.stats["out_mean"]
        w = np.full(d.shape[0], 1.0 / d.shape[0], dtype=d.dtype)
        mean, mean_sq = w @ d, w @ (d * d)
        sd = self.stats["out_std"]
        shift = float(np.sqrt(np.mean((mean / sd) ** 2)))
        if d.shape[0] < 2:
            return shift, 0.0
        spread = float(np.mean(np.sqrt(np.maximum(mean_sq - mean * mean, 0.0)) / sd))
        return shift / max(1.0, spread), spread

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        """Arrays to checkpoint under ``prefix``: the projection, the fixed statistics and the
        count of refreshes."""
        out = {prefix + "layer/" + k: v for k, v in self.stats.items()}
        out[prefix + "refreshes"] = np.asarray(self.refreshes)
        if self.projection is not None:
            out[prefix + "projection"] = self.projection
        return out

    def load(self, state: dict[str, np.ndarray], prefix: str) -> None:
        """Restore what :meth:`state` wrote (statistics absent: not calibrated yet; no count of
        refreshes, from a checkpoint written before it was kept: 0)."""
        key = prefix + "layer/"
        self.stats = {k[len(key) :]: np.asarray(v) for k, v in state.items() if k.startswith(key)}
        self.refreshes = int(state.get(prefix + "refreshes", 0))
        if self.projection is not None:
            if prefix + "projection" not in state:
                raise KeyError(f"missing array '{prefix}projection'")
            self.projection = np.asarray(state[prefix + "projection"])
