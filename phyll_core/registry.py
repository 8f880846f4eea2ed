"""Registries: one per kind of item, recording which plugin (and version) contributed what."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import attrs

from phyll_core.errors import DuplicateNameError, UnknownNameError

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

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[S]] = {}

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
        """The entry called ``name``; unknown names raise UnknownNameError with a suggestion."""
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._entries) from None

    def __contains__(self, name: Any) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[S]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return sorted(self._entries)
