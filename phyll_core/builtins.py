"""The core's own systems, losses, learning rules and datasets, registered through the same
hooks as any plugin (this module is registered as the plugin ``phyll-core``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from phyll_core.hookspecs import hookimpl
from phyll_core.params import Param
from phyll_core.specs import DatasetSpec, LossSpec, RuleSpec, SystemSpec

SEED = Param("seed", "int", 0, "seed of the system's random choices")

PHYSICS_PARAMS = (
    Param(
        "physics",
        "str",
        "none",
        "train the systems' physical controls in situ: none (frozen), spsa (interval"
        " controls), search (greedy flips; binary or interval), auto (spsa or search)",
        choices=("none", "spsa", "search", "auto"),
    ),
    Param("physics_lr", "float", 0.02, "SPSA Adam step (fraction of the domain)", low=1e-9),
    Param(
        "physics_perturbation",
        "float",
        0.05,
        "SPSA c / search proposal std (fraction of the domain)",
        low=1e-9,
    ),
    Param("physics_flips", "int", 1, "components changed per search proposal", low=1),
    Param("physics_every", "int", 1, "update the controls every N batches", low=1),
    Param("physics_directions", "int", 1, "SPSA estimates averaged per update", low=1),
    Param(
        "physics_accept",
        "bool",
        False,
        "SPSA: keep a step only if it lowers the batch's loss (one more pass)",
    ),
)
"""Rule parameters of in-situ control training (:mod:`phyll_core.engine.controls`)."""
NEGATIVES = Param(
    "negatives",
    "str",
    "hardest",
    "wrong label of negatives: highest current goodness, or random (published)",
    choices=("hardest", "random"),
)


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    register(
        SystemSpec(
            "identity",
            "phyll_core.builtin_systems:Identity",  # imported when used
            "No physics: y = x on [0, 1]^dim (the digital reference).",
            (Param("dim", "int", 20, "input and output width", low=1),),
        )
    )
    register(
        SystemSpec(
            "random-features",
            "phyll_core.builtin_systems:RandomFeatures",
            "Fixed seeded random projection followed by an elementwise nonlinearity.",
            (
                Param("inputs", "int", 20, "input width", low=1),
                Param("outputs", "int", 20, "output width", low=1),
                Param(
                    "nonlinearity",
                    "str",
                    "tanh",
                    "elementwise nonlinearity",
                    choices=("tanh", "abs", "cos", "sigmoid"),
                ),
                Param("scale", "float", 3.0, "gain before the nonlinearity", low=0.0),
                SEED,
            ),
        )
    )


def _sklearn(name: str) -> Callable[..., Any]:
    def loader(argument: str | None) -> Any:
        from phyll_core.datasets import load_sklearn

        return load_sklearn(name)

    return loader


def _circles(argument: str | None) -> Any:
    from phyll_core.datasets import load_circles

    return load_circles()


def _mnist1d(argument: str | None) -> Any:
    from phyll_core.mnist1d import load_mnist1d

    return load_mnist1d()


def _vowels(argument: str | None) -> Any:
    from phyll_core.datasets import load_vowels

    return load_vowels()


def _csv(argument: str | None, label_column: str = "label") -> Any:
    from phyll_core.datasets import load_csv

    return load_csv(argument or "", label_column=label_column)


def _npz(argument: str | None) -> Any:
    from phyll_core.datasets import load_npz

    return load_npz(argument or "")


@hookimpl
def register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    register(DatasetSpec("digits", _sklearn("digits"), "8x8 handwritten digits, 10 classes."))
    register(DatasetSpec("iris", _sklearn("iris"), "Iris flowers, 4 features, 3 classes."))
    register(DatasetSpec("wine", _sklearn("wine"), "Wine cultivars, 13 features, 3 classes."))
    register(
        DatasetSpec(
            "circles",
            _circles,
            "Two noisy concentric circles (1,000 samples): not linearly separable.",
        )
    )
    register(
        DatasetSpec(
            "mnist1d",
            _mnist1d,
            "MNIST-1D (Greydanus 2020): 5,000 rows, 40 features, 10 classes; hard for linear"
            " models (needs the mnist1d extra).",
        )
    )
    register(
        DatasetSpec(
            "vowels",
            _vowels,
            "Hillenbrand vowels (258 samples, 12 formants, 7 classes), shipped with phyll.",
        )
    )
    register(
        DatasetSpec(
            "csv",
            _csv,
            "A CSV file with a header: csv:PATH (label column via --label-column).",
            takes_argument=True,
            params=(Param("label_column", "str", "label", "name of the label column"),),
        )
    )
    register(
        DatasetSpec(
            "npz", _npz, "A NumPy .npz file with arrays x (n, d) and y (n,): npz:PATH.", True
        )
    )


def _lazy(module: str, attr: str) -> Callable[..., Any]:
    """A factory that imports ``module.attr`` only when called."""

    def factory(**kw: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module), attr)(**kw)

    factory.__name__ = attr
    return factory


@hookimpl
def register_losses(register: Callable[[LossSpec], None]) -> None:
    losses = "phyll_core.engine.losses"
    register(
        LossSpec(
            "cosine",
            "goodness",
            _lazy(losses, "CosineGoodness"),
            "cos(|a|, p) with p a fixed random unit vector per block (published PhyLL).",
        )
    )
    register(
        LossSpec("sum-squares", "goodness", _lazy(losses, "SumSquares"), "sum(a^2) (Hinton's FF).")
    )
    register(
        LossSpec("mean-squares", "goodness", _lazy(losses, "MeanSquares"), "mean(a^2).")
    )
    register(
        LossSpec(
            "softplus-delta",
            "objective",
            _lazy(losses, "SoftplusDelta"),
            "mean softplus(-theta (g_pos - g_neg)) (published PhyLL).",
            (Param("theta", "float", 4.0, "sharpness of the contrast", low=0.0),),
        )
    )
    register(
        LossSpec(
            "ff-threshold",
            "objective",
            _lazy(losses, "FFThreshold"),
            "softplus(-(g_pos - tau)) + softplus(g_neg - tau) (Hinton's threshold).",
            (Param("tau", "float", 0.5, "goodness threshold"),),
        )
    )


@hookimpl
def register_learning_rules(register: Callable[[RuleSpec], None]) -> None:
    rules = "phyll_core.engine.phyll_rules"
    register(
        RuleSpec(
            "phyll",
            _lazy(rules, "PhyLL"),
            "Supervised PhyLL: local contrastive training from two physical passes per block.",
            (NEGATIVES, *PHYSICS_PARAMS),
        )
    )
    register(
        RuleSpec(
            "phyll-insitu",
            _lazy("phyll_core.engine.insitu_rule", "PhyLLInSitu"),
            "PhyLL that also trains the systems' physical controls in situ (physics=auto).",
            (NEGATIVES, attrs.evolve(PHYSICS_PARAMS[0], default="auto"), *PHYSICS_PARAMS[1:]),
        )
    )
    register(
        RuleSpec(
            "phyll-unsupervised",
            _lazy(rules, "PhyLLUnsupervised"),
            "PhyLL against synthetic negatives, then a linear softmax readout.",
            (
                Param(
                    "negatives", "str", "mask", "synthetic negatives", choices=("mask", "shuffle")
                ),
                Param("smoothness", "float", 2.0, "mask smoothing (features)", low=0.0),
                *PHYSICS_PARAMS,
            ),
        )
    )
    register(
        RuleSpec(
            "backprop",
            _lazy("phyll_core.engine.backprop", "Backprop"),
            "End-to-end backprop through a digital MLP of the same widths (no physics).",
            uses_physics=False,
        )
    )
