"""The baselines that need a differentiable twin: physics-aware training (``pat``) and in-silico
training (``in-silico``).

Both train the same physical network end to end on the softmax cross-entropy of a linear head:
block ``k`` computes ``z = [P_k(enc(adapt(h))), h]`` (skip on) and ``a = W_k [z, 1]``, the next
block gets ``h = a``, and ``logits = W_head [a_K, 1]``. ``adapt`` and ``enc`` are the core's (zero
padding or a fixed random projection, then ``|v| / max_j |v_j|`` into an interval domain, or the
sign into bits), so PhyLL, PAT and in-silico run the very same network on the very same physics;
the inputs carry no label slots. Adam (the core's, one learning rate: ``lr`` of block 0) makes
``inner_steps`` steps per batch.

- ``pat`` (Wright et al., Nature 601, 549, 2022): every step sends the batch through the **real**
  systems (one physical pass per block, so ``inner_steps`` passes per block and batch), and
  back-propagates through the **twin**: ``P = T(e) + stop_gradient(P_real - T(e))``, whose
  value is the real output and whose Jacobian is the twin's.
- ``in-silico``: training uses only the twin (``P = T(e)``, no physical query); prediction runs
  on the real systems, so the reality gap (twin error, drift since the twin was fitted) shows in
  the accuracy.

The twin is ``twin=MODEL.keras`` or, without it, one twin per distinct system fitted from
``twin_samples`` queries of that system (uniform in its domain, counted as physical queries) at
the first training step. Its weights are part of :meth:`state_dict`, so a resumed run neither
refits nor re-queries. Binary domains use a straight-through gradient for the sign quantiser
(identity for ``|v| <= 1``, zero beyond). Prediction method ``direct`` runs the real systems;
``twin`` runs the twins instead (the accuracy the twin promises).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import log_softmax, softmax

from phyll_core.domain import Binary, Interval
from phyll_core.engine.network import SPAN, PhysicalLayer
from phyll_core.engine.optim import Adam
from phyll_core.engine.rule import LearningRule, Problem
from phyll_core.errors import PhyllError
from phyll_core.system import PhysicalSystem
from phyll_tf_twin import _tf
from phyll_tf_twin.fit import build_model
from phyll_tf_twin.twin import FitOptions, Twin

_TINY = 1e-12


def _twin_flops(twin: Twin) -> float:
    """Multiply-adds (x2) of one twin forward pass per sample."""
    return 2.0 * sum(w.size for w in twin.model.get_weights() if w.ndim == 2)


class _TwinRule(LearningRule):
    """Shared network, twins, forward passes and state of ``pat`` and ``in-silico``."""

    methods = ("direct", "twin")
    uses_real_forward = True

    def __init__(
        self,
        twin: str = "",
        twin_samples: int = 2000,
        twin_hidden: str = "100,200,100",
        twin_epochs: int = 100,
    ) -> None:
        super().__init__()
        self.twin_path = twin
        self.fit_options = FitOptions(hidden=twin_hidden, epochs=twin_epochs)
        self.twin_samples = int(twin_samples)
        self.layers: list[PhysicalLayer] = []
        self.params: dict[str, np.ndarray] = {}
        self.opt = Adam()
        self.twins: dict[int, Twin] = {}  # by id of the system
        self._grad_fn: Any = None

    # -- building -----------------------------------------------------------------------------
    def init(self, problem: Problem) -> None:
        self.problem = problem
        rng = problem.rng(1)
        width = problem.n_features
        self.layers, self.params = [], {}
        for k in range(problem.blocks):
            layer = PhysicalLayer.build(
                problem.system(k),
                width,
                problem.rng(1, k),
                problem.project,
                encoder=problem.encoder,
                standardise=problem.standardise,
                whiten=problem.whiten,
                reduce=problem.reduces,
            )
            self.layers.append(layer)
            z_width = layer.out_width + (width if problem.skip else 0)
            self.params[f"W{k}"] = np.hstack(
                [rng.standard_normal((problem.width, z_width)) / np.sqrt(z_width),
                 np.zeros((problem.width, 1))]
            )
            width = problem.width
        self.params["head"] = np.hstack(
            [rng.standard_normal((problem.n_classes, width)) / np.sqrt(width),
             np.zeros((problem.n_classes, 1))]
        )
        self.opt = Adam(lr=problem.lr_of(0), weight_decay=problem.weight_decay)
        self.opt.init(self.params)
        self.twins = {}
        self._grad_fn = None
        if self.twin_path:
            self._load_twin_file()

    def _systems(self) -> list[PhysicalSystem]:
        seen: dict[int, PhysicalSystem] = {}
        for layer in self.layers:
            seen.setdefault(id(layer.system), layer.system)
        return list(seen.values())

    def _check(self, twin: Twin, system: PhysicalSystem, what: str) -> None:
        if (twin.input_dim, twin.output_dim) != (system.input_dim, system.output_dim):
            raise PhyllError(
                f"{what} maps {twin.input_dim} -> {twin.output_dim} values but system"
                f" '{system.name}' maps {system.input_dim} -> {system.output_dim}"
            )
        if twin.domain.kind != system.domain.kind:
            raise PhyllError(
                f"{what} takes {twin.domain.describe()} inputs but system '{system.name}'"
                f" takes {system.domain.describe()}"
            )

    def _load_twin_file(self) -> None:
        twin = Twin.load(self.twin_path)
        for system in self._systems():
            self._check(twin, system, f"twin {self.twin_path}")
            self.twins[id(system)] = twin

    def _ensure_twins(self) -> None:
        """Fit the missing twins from queries of their systems (first training step)."""
        from phyll_tf_twin.data import sample_system
        from phyll_tf_twin.fit import fit_twin

        assert self.problem is not None
        for j, system in enumerate(self._systems()):
            if id(system) in self.twins:
                continue
            pairs = sample_system(system, self.twin_samples, seed=self.problem.seed * 1000 + j)
            options = FitOptions(**{**self.fit_options.to_json(), "seed": self.problem.seed})
            twin = fit_twin(pairs, system.domain, options)
            rows_seen = twin.meta["epochs_run"] * twin.meta["train_rows"]
            self.flops += 3.0 * _twin_flops(twin) * rows_seen  # forward + backward
            self.twins[id(system)] = twin

    def twin_of(self, k: int) -> Twin:
        return self.twins[id(self.layers[k].system)]

    # -- numpy forward through the real systems ----------------------------------------------
    def _calibrate(self, x: np.ndarray) -> None:
        """Fix each physical layer's encoder and output statistics from the first batch (see
        :mod:`phyll_core.engine.network`) through the twins: ``in-silico`` never queries the
        real system while training (``pat`` calibrates inside its first real forward pass)."""
        assert self.problem is not None
        h = x
        for k, layer in enumerate(self.layers):
            layer.calibrate_with(h, self.twin_of(k).predict)
            p = layer.standardised(self.twin_of(k).predict(layer.encode(h)))
            z = np.hstack([p, h]) if self.problem.skip else p
            w = self.params[f"W{k}"]
            h = z @ w[:, :-1].T + w[:, -1]

    def _forward_real(
        self, x: np.ndarray, calibrate: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Logits and the real physical outputs of every block (standardised); ``calibrate``
        fixes the layers' statistics from these rows if not done yet (no extra query)."""
        assert self.problem is not None
        h, phys = x, []
        for k, layer in enumerate(self.layers):
            p = layer.forward(h, calibrate=calibrate)
            phys.append(p)
            z = np.hstack([p, h]) if self.problem.skip else p
            w = self.params[f"W{k}"]
            h = z @ w[:, :-1].T + w[:, -1]
            self.flops += 2.0 * z.shape[0] * w.size
        head = self.params["head"]
        self.flops += 2.0 * h.shape[0] * head.size
        return h @ head[:, :-1].T + head[:, -1], phys

    # -- TensorFlow forward through the twins (differentiable) -------------------------------
    def _tf_forward(self, tf: Any, params: dict[str, Any], x: Any, phys: list[Any] | None) -> Any:
        assert self.problem is not None
        h = x
        for k, layer in enumerate(self.layers):
            v = h
            if layer.projection is not None:
                v = tf.matmul(v, tf.constant(layer.projection))
            missing = layer.system.input_dim - v.shape[1]
            if missing > 0:
                v = tf.pad(v, [[0, 0], [0, missing]])
            e = _tf_encode(tf, v, layer)
            p = tf.cast(self.twin_of(k).model(tf.cast(e, tf.float32), training=False), tf.float64)
            if layer.standardise:
                p = (p - layer.stats["out_mean"]) / layer.stats["out_std"]
            if phys is not None:  # value of the real system, Jacobian of the twin
                p = p + tf.stop_gradient(phys[k] - p)
            z = tf.concat([p, h], axis=1) if self.problem.skip else p
            w = params[f"W{k}"]
            h = tf.matmul(z, w[:, :-1], transpose_b=True) + w[:, -1]
        head = params["head"]
        return tf.matmul(h, head[:, :-1], transpose_b=True) + head[:, -1]

    def _compiled_gradients(self) -> Any:
        """``(params, x, y, phys) -> (loss, grads)`` as one TensorFlow graph (traced once per
        batch shape and per kind of ``phys``: real outputs for ``pat``, ``None`` otherwise)."""
        if self._grad_fn is None:
            tf = _tf.tensorflow()

            @tf.function(reduce_retracing=True, autograph=False)
            def grads(params: dict[str, Any], x: Any, y: Any, phys: Any) -> Any:
                with tf.GradientTape() as tape:
                    tape.watch(params)
                    logits = self._tf_forward(tf, params, x, phys)
                    loss = tf.reduce_mean(
                        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
                    )
                return loss, tape.gradient(loss, params)

            self._grad_fn = grads
        return self._grad_fn

    def _gradients(
        self, x: np.ndarray, y: np.ndarray, phys: list[np.ndarray] | None
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Mean cross-entropy and its gradient for every digital parameter."""
        loss, grads = self._compiled_gradients()(self.params, x, y, phys)
        n = x.shape[0]
        digital = sum(v.size for v in self.params.values())
        twins = sum(_twin_flops(self.twin_of(k)) for k in range(len(self.layers)))
        self.flops += 6.0 * n * digital + 3.0 * n * twins
        return float(loss), {k: g.numpy() for k, g in grads.items()}

    # -- the LearningRule contract -----------------------------------------------------------
    def step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        assert self.problem is not None
        self._ensure_twins()
        if not self.uses_real_forward and not all(layer.calibrated for layer in self.layers):
            self._calibrate(x)
        loss = float("nan")
        for _ in range(self.problem.inner_steps):
            phys = self._forward_real(x, calibrate=True)[1] if self.uses_real_forward else None
            loss, grads = self._gradients(x, y.astype(np.int64), phys)
            self.opt.update(self.params, grads)
        return {"loss": loss}

    def predict(self, x: np.ndarray, method: str) -> np.ndarray:
        if method == "twin":
            if len(self.twins) < len(self._systems()):
                raise PhyllError("no twin yet: train at least one step first")
            tf = _tf.tensorflow()
            params = {k: tf.constant(v) for k, v in self.params.items()}
            return np.argmax(self._tf_forward(tf, params, tf.constant(x), None).numpy(), axis=1)
        return np.argmax(self._forward_real(x)[0], axis=1)

    def loss_on_real(self, x: np.ndarray, y: np.ndarray) -> float:
        """Cross-entropy of the network run on the real systems (one physical pass)."""
        logits = self._forward_real(x)[0]
        return -float(log_softmax(logits, axis=1)[np.arange(y.size), y].mean())

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities on the real systems."""
        return softmax(self._forward_real(x)[0], axis=1)

    def state_dict(self) -> dict[str, np.ndarray]:
        out = dict(self.params)
        for k, layer in enumerate(self.layers):
            out.update(layer.state(f"block{k}/"))
        out.update({f"opt/{k}": v for k, v in self.opt.state.items()})
        for j, system in enumerate(self._systems()):
            twin = self.twins.get(id(system))
            if twin is None:
                continue
            out[f"twin{j}/mean"] = np.asarray(twin.meta["input_normalisation"]["mean"])
            out[f"twin{j}/std"] = np.asarray(twin.meta["input_normalisation"]["std"])
            for i, w in enumerate(twin.model.get_weights()):
                out[f"twin{j}/w{i}"] = w
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for k in self.params:
            if k not in state:
                raise KeyError(f"missing array '{k}'")
            value = np.array(state[k], dtype=np.float64)
            if value.shape != self.params[k].shape:
                raise ValueError(
                    f"array '{k}' has shape {value.shape}, expected {self.params[k].shape}"
                )
            self.params[k] = value
        self.opt.state = {k[4:]: np.array(v) for k, v in state.items() if k.startswith("opt/")}
        for k, layer in enumerate(self.layers):
            layer.load(state, f"block{k}/")
        for j, system in enumerate(self._systems()):
            if f"twin{j}/mean" in state:
                self.twins[id(system)] = self._twin_from_state(state, j, system)

    def _twin_from_state(
        self, state: dict[str, np.ndarray], j: int, system: PhysicalSystem
    ) -> Twin:
        from phyll_tf_twin.data import domain_to_json

        mean, std = state[f"twin{j}/mean"], state[f"twin{j}/std"]
        count = sum(k.startswith(f"twin{j}/w") for k in state)
        weights = [state[f"twin{j}/w{i}"] for i in range(count)]
        hidden = [w.shape[1] for w in weights[:-2:2]]
        model = build_model(system.input_dim, system.output_dim, hidden, mean, std)
        try:
            model.set_weights(weights)
        except ValueError as exc:
            raise ValueError(f"twin{j} weights do not fit: {exc}") from None
        meta = {
            "input_dim": system.input_dim,
            "output_dim": system.output_dim,
            "domain": domain_to_json(system.domain),
            "input_normalisation": {"mean": mean.tolist(), "std": std.tolist()},
            "source": {"kind": "checkpoint"},
        }
        return Twin(model, meta)

    def describe(self) -> dict[str, Any]:
        twins = []
        for system in self._systems():
            twin = self.twins.get(id(system))
            if twin is not None:
                twins.append(
                    {
                        "system": system.name,
                        "source": twin.meta.get("source"),
                        "validation_rmse": twin.meta.get("validation_rmse"),
                    }
                )
        return {"twins": twins}


def _tf_encode(tf: Any, v: Any, layer: PhysicalLayer) -> Any:
    """The encoder of ``layer`` (:mod:`phyll_core.engine.network`) in TensorFlow,
    differentiable (binary domains: straight-through, identity gradient on [-1, 1])."""
    domain = layer.system.domain
    if layer.encoder == "offset":  # centred and scaled: the mean maps to 0
        v = (v - layer.stats["enc_mean"]) / (2.0 * SPAN * layer.stats["enc_std"])
    if isinstance(domain, Binary):
        hard = tf.cast(v > 0, v.dtype)
        soft = tf.clip_by_value(v, -1.0, 1.0)
        return hard + soft - tf.stop_gradient(soft)
    if isinstance(domain, Interval):
        if layer.encoder == "offset":
            x = tf.clip_by_value(0.5 + v, 0.0, 1.0)
        else:
            u = tf.abs(v)
            peak = tf.reduce_max(u, axis=1, keepdims=True)
            x = tf.clip_by_value(u / tf.maximum(peak, _TINY), 0.0, 1.0)
        return domain.low + (domain.high - domain.low) * x
    raise PhyllError(f"no encoder for domain {domain!r}")


class PhysicsAware(_TwinRule):
    """Physics-aware training: real forward pass, backward pass through the twin."""

    name = "pat"
    uses_real_forward = True


class InSilico(_TwinRule):
    """In-silico training: forward and backward through the twin; deployed on the real system."""

    name = "in-silico"
    uses_real_forward = False
