"""Build registered items from their names and ``NAME=VALUE`` parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from phyll_core.errors import PluginError
from phyll_core.params import resolve, split_assignments
from phyll_core.plugins import get_host
from phyll_core.system import PhysicalSystem


def _as_mapping(params: Mapping[str, Any] | Iterable[str] | None) -> Mapping[str, Any]:
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return params
    return split_assignments(params)


def build_system(
    name: str, params: Mapping[str, Any] | Iterable[str] | None = None
) -> PhysicalSystem:
    """Build the registered system ``name`` with ``params`` (a mapping, or ``NAME=VALUE``
    strings), checked against its declared schema. The resolved values are kept in
    ``system.params``. A system whose plugin failed, or whose spec is wrong, raises
    :class:`~phyll_core.errors.PluginError` saying which plugin and why."""
    host = get_host()
    entry = host.systems.get(name)
    if entry.spec.lazy:  # first use of a "module:attr" factory: import and check it once
        host.verify(host.systems, name)
        entry = host.systems.get(name)  # a wrong spec is now unavailable: PluginError
    values = resolve(entry.spec.params, _as_mapping(params), owner=f"system '{name}'")
    system = entry.spec.factory(**values)
    if not isinstance(system, PhysicalSystem):
        raise PluginError(
            f"plugin '{entry.plugin}': factory of system '{name}' returned"
            f" {type(system).__name__}, not a PhysicalSystem"
        )
    system.params.update(values)
    return system
