"""Hook specifications of phyll (pluggy project and entry-point group ``phyll``).

A plugin is a module listed under the entry-point group ``phyll`` that implements some of the
hooks below with ``@phyll_core.hookimpl``. The ``register_*`` hooks receive a ``register``
callback; the plugin calls it once per item with a spec object (see :mod:`phyll_core.specs`).
Hooks are called lazily, once per process; they must be cheap and import nothing heavy
(import TensorFlow and friends inside the factories instead).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from phyll_core.specs import DatasetSpec, LossSpec, RuleSpec, SystemSpec

hookspec = pluggy.HookspecMarker("phyll")
hookimpl = pluggy.HookimplMarker("phyll")


@hookspec
def register_systems(register: Callable[[SystemSpec], None]) -> None:
    """Call ``register(SystemSpec(...))`` for each physical system this plugin provides."""


@hookspec
def register_losses(register: Callable[[LossSpec], None]) -> None:
    """Call ``register(LossSpec(...))`` for each goodness function or objective provided."""


@hookspec
def register_learning_rules(register: Callable[[RuleSpec], None]) -> None:
    """Call ``register(RuleSpec(...))`` for each learning rule this plugin provides."""


@hookspec
def register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    """Call ``register(DatasetSpec(...))`` for each dataset source this plugin provides."""


@hookspec
def register_commands(app: typer.Typer) -> None:
    """Add typer sub-commands or sub-apps to the ``phyll`` CLI ``app`` (e.g. ``phyll twin``)."""
