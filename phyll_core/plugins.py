"""Plugin loading: the core's built-ins, then every entry point of the group ``phyll``.

Loading is fault-isolated: a plugin that fails to import, whose hook implementation does not
match the specs, that raises inside a hook, or that registers a name another plugin already has,
is recorded with its error (shown by ``phyll plugins``), reported in one line on stderr, and
everything else keeps working. ``PHYLL_LOAD_PLUGINS=a,b`` loads only those distributions
(empty: none besides the core's built-ins).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib import metadata
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from phyll_core import hookspecs
from phyll_core.errors import PhyllError
from phyll_core.registry import Registry
from phyll_core.specs import DatasetSpec, LossSpec, RuleSpec, SystemSpec

if TYPE_CHECKING:
    import typer

GROUP = "phyll"
CORE = "phyll-core"
_REGISTER_HOOKS: dict[str, tuple[str, type]] = {
    "register_systems": ("systems", SystemSpec),
    "register_losses": ("losses", LossSpec),
    "register_learning_rules": ("rules", RuleSpec),
    "register_datasets": ("datasets", DatasetSpec),
}


@attrs.define
class PluginInfo:
    """What ``phyll plugins`` shows for one plugin."""

    name: str
    version: str
    hooks: list[str] = attrs.field(factory=list)
    errors: list[str] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def core_version() -> str:
    try:
        return metadata.version(CORE)
    except metadata.PackageNotFoundError:
        return "0+unknown"


class Host:
    """The plugin manager and the registries filled from it."""

    def __init__(self, warn: Callable[[str], None] | None = None) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.systems: Registry[SystemSpec] = Registry("system")
        self.losses: Registry[LossSpec] = Registry("loss")
        self.rules: Registry[RuleSpec] = Registry("learning rule")
        self.datasets: Registry[DatasetSpec] = Registry("dataset")
        self._warn = warn or _stderr_warning
        self._versions: dict[str, str] = {}
        self._command_apps: list[typer.Typer] = []

    # -- loading ----------------------------------------------------------------------------
    def load(self) -> Host:
        """Register the core's built-ins and every selected entry-point plugin, then fill the
        registries. Never raises for a broken plugin."""
        from phyll_core import builtins

        self._add_plugin(builtins, CORE, core_version())
        allowed = _allowed_distributions()
        for ep in _entry_points():
            dist = ep.dist.name if ep.dist is not None else ep.name
            version = ep.dist.version if ep.dist is not None else "?"
            if allowed is not None and _normalise(dist) not in allowed:
                continue
            try:
                module = ep.load()
            except Exception as exc:  # any import failure is the plugin's
                self._fail(PluginInfo(dist, version), f"failed to import: {_one_line(exc)}")
                continue
            self._add_plugin(module, dist, version)
        self._fill_registries()
        return self

    def _add_plugin(self, module: Any, name: str, version: str) -> None:
        info = self.plugins.get(name) or PluginInfo(name, version)
        self.plugins[name] = info
        self._versions[name] = version
        try:
            self.pm.register(module, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self._fail(info, f"does not match the hook specs: {_one_line(exc)}")
            return
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            self._fail(info, f"implements an unknown hook: {_one_line(exc)}")
            return
        info.hooks = sorted(
            h.name for h in self.pm.get_hookcallers(module) or [] if h.name.startswith("reg")
        )

    def _fill_registries(self) -> None:
        for hook_name, (attr, spec_type) in _REGISTER_HOOKS.items():
            registry: Registry[Any] = getattr(self, attr)
            # registration order: the core's built-ins first, then plugins by entry-point name,
            # so on a duplicate name the earlier item is kept (a plugin cannot shadow the core)
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                info = self.plugins[impl.plugin_name]
                register = self._register_callback(registry, spec_type, info)
                try:
                    impl.function(register=register)
                except Exception as exc:  # isolate the plugin's own failure
                    self._fail(info, f"raised in {hook_name}: {_one_line(exc)}")

    def _register_callback(
        self, registry: Registry[Any], spec_type: type, info: PluginInfo
    ) -> Callable[[Any], None]:
        def register(spec: Any) -> None:
            if not isinstance(spec, spec_type):
                raise TypeError(f"register() expects a {spec_type.__name__}, got {spec!r}")
            try:
                registry.add(spec, info.name, info.version)
            except PhyllError as exc:
                self._fail(info, str(exc))

        return register

    def add_commands(self, app: typer.Typer) -> None:
        """Let every plugin add its sub-commands to ``app`` (once per app); failures are
        isolated."""
        if any(done is app for done in self._command_apps):
            return
        self._command_apps.append(app)
        for impl in self.pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(app=app)
            except Exception as exc:  # isolate the plugin's own failure
                info = self.plugins[impl.plugin_name]
                self._fail(info, f"raised in register_commands: {_one_line(exc)}")

    def _fail(self, info: PluginInfo, message: str) -> None:
        self.plugins.setdefault(info.name, info)
        info.errors.append(message)
        self._warn(f"warning: plugin '{info.name}' {message}")

    def version_of(self, plugin: str) -> str:
        return self._versions.get(plugin, "?")


def _entry_points() -> list[metadata.EntryPoint]:
    eps = sorted(metadata.entry_points(group=GROUP), key=lambda e: (e.name, e.value))
    seen: set[tuple[str, str]] = set()
    unique = []
    for ep in eps:  # the same distribution can appear twice on odd sys.path set-ups
        key = (ep.name, ep.value)
        if key not in seen:
            seen.add(key)
            unique.append(ep)
    return unique


def _allowed_distributions() -> set[str] | None:
    raw = os.environ.get("PHYLL_LOAD_PLUGINS")
    if raw is None:
        return None
    return {_normalise(x) for x in raw.split(",") if x.strip()}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


def _stderr_warning(message: str) -> None:
    print(message, file=sys.stderr)


_HOST: Host | None = None


def get_host() -> Host:
    """The process-wide loaded :class:`Host` (loaded on first use)."""
    global _HOST
    if _HOST is None:
        _HOST = Host().load()
    return _HOST


def reset_host() -> None:
    """Forget the loaded plugins (tests, or after installing a plugin in-process)."""
    global _HOST
    _HOST = None
