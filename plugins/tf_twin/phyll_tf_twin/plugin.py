"""Hook implementations of phyll-tf-twin (entry point ``phyll`` -> ``tf-twin``).

Registers the system ``twin``, the learning rules ``pat`` and ``in-silico`` and the ``phyll
twin`` commands. Importing this module imports neither TensorFlow nor NumPy: every factory
imports what it needs when it is called, so ``phyll --help``, ``phyll plugins`` and ``phyll
systems`` stay fast. When TensorFlow is not installed the items are still registered (so
``phyll rules`` shows them), the factories raise a PluginError with the install command, and
the plugin reports the missing dependency as its error in ``phyll plugins``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from phyll_core.hookspecs import hookimpl
from phyll_core.params import Param
from phyll_core.specs import RuleSpec, SystemSpec

if TYPE_CHECKING:
    import typer


def _require_tensorflow() -> None:
    from phyll_core.errors import PluginError
    from phyll_tf_twin._tf import INSTALL_HINT, tensorflow_available

    if not tensorflow_available():
        raise PluginError(INSTALL_HINT)


def _twin_system(**params: Any) -> Any:
    _require_tensorflow()
    from phyll_tf_twin.system import TwinSystem

    return TwinSystem(**params)


def _rule(class_name: str) -> Callable[..., Any]:
    def factory(**params: Any) -> Any:
        _require_tensorflow()
        from phyll_tf_twin import rules

        return getattr(rules, class_name)(**params)

    return factory


TWIN_PARAMS = (
    Param("twin", "str", "", "saved twin MODEL.keras of the real system (empty: fit one first)"),
    Param(
        "twin_samples", "int", 2000,
        "queries of the real system to fit a twin when no 'twin' is given (counted)", low=2,
    ),
    Param("twin_hidden", "str", "100,200,100", "widths of a twin fitted by the rule"),
    Param("twin_epochs", "int", 100, "maximum epochs of a twin fitted by the rule", low=1),
)


@hookimpl
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    register(
        SystemSpec(
            "twin",
            _twin_system,
            "A fitted TensorFlow digital twin (phyll twin fit) used as the physical system.",
            (Param("path", "str", "", "twin model file MODEL.keras", required=True),),
        )
    )
    _require_tensorflow()  # after registering: the items stay listed, the error is shown


@hookimpl
def register_learning_rules(register: Callable[[RuleSpec], None]) -> None:
    register(
        RuleSpec(
            "pat",
            _rule("PhysicsAware"),
            "Physics-aware training: forward through the real system, gradients through a twin.",
            TWIN_PARAMS,
        )
    )
    register(
        RuleSpec(
            "in-silico",
            _rule("InSilico"),
            "Trained end to end on a twin only, then run on the real system (reality gap).",
            TWIN_PARAMS,
        )
    )


@hookimpl
def register_commands(app: typer.Typer) -> None:
    from phyll_tf_twin.cli import app as twin_app

    app.add_typer(twin_app, name="twin")
