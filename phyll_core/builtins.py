"""The core's own systems, losses, learning rules and datasets, registered through the same
hooks as any plugin (this module is registered as the plugin ``phyll-core``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from phyll_core.hookspecs import hookimpl
from phyll_core.params import Param
from phyll_core.specs import DatasetSpec, SystemSpec

SEED = Param("seed", "int", 0, "seed of the system's random choices")


def _identity(**kw: Any) -> Any:
    from phyll_core.builtin_systems import Identity

    return Identity(**kw)


def _random_features(**kw: Any) -> Any:
    from phyll_core.builtin_systems import RandomFeatures

    return RandomFeatures(**kw)


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    register(
        SystemSpec(
            "identity",
            _identity,
            "No physics: y = x on [0, 1]^dim (the digital reference).",
            (Param("dim", "int", 20, "input and output width", low=1),),
        )
    )
    register(
        SystemSpec(
            "random-features",
            _random_features,
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
