"""Registries: one per kind of item, recording which plugin (and version) contributed what.

An item whose spec failed its checks is not registered but remembered as *unavailable* with
the reason, and the host can tell a registry which plugins failed to load at all: asking for
such a name then raises a :class:`~phyll_core.errors.PluginError` that says which plugin failed
and why, instead of "unknown".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import attrs

from phyll_core.errors import DuplicateNameError, PluginError, UnknownNameError

S = TypeVar("S")


@attrs.frozen
class Entry(Generic[S]):
    """A registered spec together with the plugin distribution and version that gave it."""

    spec: S
    plugin: str
    version: str

    @property
    def name(self) -> str:
        return self.spec.name  # type: ignore[attr-defined,no-any-return]


class Registry(Generic[S]):
    """Items of one kind (``"system"``, ``"loss"``, ...) by name."""

    def __init__(
        self,
        kind: str,
        failed_plugins: Callable[[], list[tuple[str, str, BaseException | None]]] | None = None,
    ) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[S]] = {}
        self._unavailable: dict[str, tuple[str, str, BaseException | None]] = {}
        self._failed_plugins = failed_plugins or list

    def mark_unavailable(
        self, name: str, plugin: str, reason: str, cause: BaseException | None = None
    ) -> None:
        """Record that ``plugin`` offers ``name`` but the item cannot be used (its spec is
        wrong, say); a registered entry of that name from the same plugin is removed."""
        entry = self._entries.get(name)
        if entry is not None and entry.plugin == plugin:
            del self._entries[name]
        self._unavailable.setdefault(name, (plugin, reason, cause))

    def add(self, spec: S, plugin: str, version: str) -> None:
        """Add ``spec``; a name already taken raises DuplicateNameError naming both plugins."""
        name: str = spec.name  # type: ignore[attr-defined]
        if name in self._entries:
            first = self._entries[name]
            if first.plugin == plugin:
                raise DuplicateNameError(
                    f"{self.kind} '{name}' is registered twice by '{plugin}'; keeping the first"
                )
            raise DuplicateNameError(
                f"{self.kind} '{name}' is registered by both '{first.plugin}' and '{plugin}';"
                f" keeping the one from '{first.plugin}'"
            )
        self._entries[name] = Entry(spec, plugin, version)

    def get(self, name: str) -> Entry[S]:
        """The entry called ``name``. An item whose plugin failed raises PluginError saying so;
        other unknown names raise UnknownNameError with a suggestion (and a note naming the
        plugins that failed to load, which might have provided it)."""
        if name in self._entries:
            return self._entries[name]
        if name in self._unavailable:
            plugin, reason, cause = self._unavailable[name]
            raise PluginError(
                f"{self.kind} '{name}' is not available: plugin '{plugin}' {reason}"
                " (see 'phyll plugins'; --debug shows tracebacks)"
            ) from cause
        failed = self._failed_plugins()
        matching = [f for f in failed if _may_provide(f[0], name)]
        if matching:
            plugin, reason, cause = matching[0]
            raise PluginError(
                f"{self.kind} '{name}' is not available: plugin '{plugin}', which looks like"
                f" its provider, {reason} (see 'phyll plugins'; --debug shows the traceback)"
            ) from cause
        error = UnknownNameError(self.kind, name, self._entries)
        if failed:
            names = ", ".join(f"'{f[0]}'" for f in failed)
            error.args = (
                f"{error.args[0]}; note: plugin(s) {names} failed to load (see 'phyll plugins')",
            )
        raise error from None

    def __contains__(self, name: Any) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[S]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def unavailable(self) -> dict[str, tuple[str, str]]:
        """Items that a plugin offered but that cannot be used: name -> (plugin, reason)."""
        return {k: (v[0], v[1]) for k, v in sorted(self._unavailable.items())}


def _may_provide(plugin: str, name: str) -> bool:
    """A failed plugin looks like the provider of ``name`` when their names overlap
    (``phyll-osc`` and ``osc-chain``, ``phyll-osc-importerror`` and ``osc-importerror``)."""
    short = plugin.lower().replace("_", "-").removeprefix("phyll-").split("-")
    item = name.lower().replace("_", "-").split("-")
    n = min(len(short), len(item))
    return bool(short[0]) and short[:n] == item[:n]
