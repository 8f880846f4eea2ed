"""Spec objects that plugins hand to the ``register`` callbacks of the hooks.

Each spec names one item (a system, a loss, a learning rule, a dataset), says in one line what it
is, points to a factory that builds it, and declares its parameters with defaults. Factories are
only called when the item is used, so registering is cheap and imports nothing heavy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs

from phyll_core.params import Param

_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")


def _check_name(instance: Any, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"{type(instance).__name__}.name must be lower-case letters, digits, '-', '_' or '.'"
            f" starting with a letter; got {value!r}"
        )


def _check_description(instance: Any, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
        raise ValueError(f"{type(instance).__name__}.description must be one non-empty line")


def _params(value: Any) -> tuple[Param, ...]:
    params = tuple(value)
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate parameter names in {names}")
    return params


@attrs.frozen
class SystemSpec:
    """A physical system: ``factory(**params)`` returns a :class:`~phyll_core.PhysicalSystem`.

    ``params`` declares every keyword the factory accepts (with defaults); the CLI's
    ``--param NAME=VALUE`` is checked against it. Include a ``seed`` parameter when the
    system makes random choices.
    """

    name: str = attrs.field(validator=_check_name)
    factory: Callable[..., Any]
    description: str = attrs.field(validator=_check_description)
    params: tuple[Param, ...] = attrs.field(default=(), converter=_params)


@attrs.frozen
class LossSpec:
    """A goodness function (``kind="goodness"``) or a contrastive objective
    (``kind="objective"``). ``factory(**params)`` returns the object (see phyll_core.engine)."""

    name: str = attrs.field(validator=_check_name)
    kind: str = attrs.field(validator=attrs.validators.in_(("goodness", "objective")))
    factory: Callable[..., Any]
    description: str = attrs.field(validator=_check_description)
    params: tuple[Param, ...] = attrs.field(default=(), converter=_params)


@attrs.frozen
class RuleSpec:
    """A learning rule: ``factory(**params)`` returns a LearningRule (see phyll_core.engine).
    ``params`` are the options set with ``--rule-param NAME=VALUE``."""

    name: str = attrs.field(validator=_check_name)
    factory: Callable[..., Any]
    description: str = attrs.field(validator=_check_description)
    params: tuple[Param, ...] = attrs.field(default=(), converter=_params)
    uses_physics: bool = True


@attrs.frozen
class DatasetSpec:
    """A dataset source. ``loader(argument, **options)`` returns a
    :class:`~phyll_core.datasets.Dataset`; ``argument`` is the part after ``name:`` in
    ``--dataset name:ARG`` (e.g. a path for ``csv:PATH``), ``None`` for plain ``--dataset name``.
    ``takes_argument`` says which form is expected."""

    name: str = attrs.field(validator=_check_name)
    loader: Callable[..., Any]
    description: str = attrs.field(validator=_check_description)
    takes_argument: bool = False
    params: tuple[Param, ...] = attrs.field(default=(), converter=_params)
