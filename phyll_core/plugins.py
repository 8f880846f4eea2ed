"""Plugin loading: the core's built-ins, then every entry point of the group ``phyll``.

Loading is fault-isolated: a plugin that fails to import, whose hook implementation does not
match the specs, that raises inside a hook, or that registers a name another plugin already has,
is recorded with its error (shown by ``phyll plugins``), reported in one line on stderr, and
everything else keeps working. ``PHYLL_LOAD_PLUGINS=a,b`` loads only those distributions
(empty: none besides the core's built-ins).

Every spec is checked when it is registered (:func:`~phyll_core.specs.spec_problems`): a wrong
default, bound or parameter name is the plugin's listed error, naming the parameter, and the item
is remembered as unavailable (asking for it says why). Specs with a lazy ``"module:attr"``
factory are checked when first used, or all at once by :meth:`Host.verify` (``phyll systems``
and ``phyll plugins --check`` do; plain ``phyll plugins`` stays light and imports no
physics). The traceback of every failure is kept (``PluginInfo.tracebacks``); the CLI prints
them with ``--debug`` or ``PHYLL_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from importlib import metadata
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from phyll_core import hookspecs
from phyll_core.errors import PhyllError
from phyll_core.registry import Registry
from phyll_core.specs import DatasetSpec, LossSpec, RuleSpec, SystemSpec, spec_problems

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
    #: full tracebacks of the failures that raised (import errors, hooks that raised)
    tracebacks: list[str] = attrs.field(factory=list)
    #: (message, exception) of failures that stopped the plugin from registering anything
    #: (import, hook signature, unknown hook, a hook that raised)
    fatal: list[tuple[str, BaseException | None]] = attrs.field(factory=list, repr=False)

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
        failed = self._fatal_failures
        self.systems: Registry[SystemSpec] = Registry("system", failed)
        self.losses: Registry[LossSpec] = Registry("loss", failed)
        self.rules: Registry[RuleSpec] = Registry("learning rule", failed)
        self.datasets: Registry[DatasetSpec] = Registry("dataset", failed)
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
                info = PluginInfo(dist, version)
                self._fail(info, f"failed to import: {_one_line(exc)}", exc, fatal=True)
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
            self._fail(info, f"does not match the hook specs: {_one_line(exc)}", exc, fatal=True)
            return
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            self._fail(info, f"implements an unknown hook: {_one_line(exc)}", exc, fatal=True)
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
                    self._fail(info, f"raised in {hook_name}: {_one_line(exc)}", exc, fatal=True)

    def _register_callback(
        self, registry: Registry[Any], spec_type: type[Any], info: PluginInfo
    ) -> Callable[[Any], None]:
        def register(spec: Any) -> None:
            if not isinstance(spec, spec_type):
                raise TypeError(f"register() expects a {spec_type.__name__}, got {spec!r}")
            problems = spec_problems(spec, deep=False)
            if problems:
                self._reject(registry, spec.name, info, problems)
                return
            try:
                registry.add(spec, info.name, info.version)
            except PhyllError as exc:
                self._fail(info, str(exc))

        return register

    def _reject(
        self, registry: Registry[Any], name: str, info: PluginInfo, problems: list[str]
    ) -> None:
        reason = f"declares {registry.kind} '{name}' wrongly: {'; '.join(problems)}"
        registry.mark_unavailable(name, info.name, reason)
        self._fail(info, reason)

    def verify(self, registry: Registry[Any] | None = None, name: str | None = None) -> None:
        """Check the specs whose lazy factories were not imported yet (all registries, or one
        ``registry``; every item or only ``name``): importing the factory, deriving its
        parameters and comparing them with its signature. A wrong spec becomes the plugin's
        error and the item unavailable. Never raises for a broken plugin."""
        registries: list[Registry[Any]] = (
            [registry] if registry is not None else [self.systems, self.rules]
        )
        for reg in registries:
            for entry in list(reg):
                spec = entry.spec
                if (name is not None and entry.name != name) or not getattr(spec, "lazy", False):
                    continue
                problems = spec_problems(spec, deep=True)
                if problems:
                    self._reject(reg, entry.name, self.plugins[entry.plugin], problems)

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
                self._fail(info, f"raised in register_commands: {_one_line(exc)}", exc)

    def _fail(
        self,
        info: PluginInfo,
        message: str,
        exc: BaseException | None = None,
        fatal: bool = False,
    ) -> None:
        self.plugins.setdefault(info.name, info)
        info.errors.append(message)
        if exc is not None:
            info.tracebacks.append("".join(traceback.format_exception(exc)))
        if fatal:
            info.fatal.append((message, exc))
        self._warn(f"warning: plugin '{info.name}' {message}")

    def _fatal_failures(self) -> list[tuple[str, str, BaseException | None]]:
        return [
            (info.name, info.fatal[0][0], info.fatal[0][1])
            for info in self.plugins.values()
            if info.fatal
        ]

    def tracebacks(self) -> list[tuple[str, str]]:
        """``(plugin, traceback text)`` of every recorded failure that raised."""
        return [(i.name, tb) for i in self.plugins.values() for tb in i.tracebacks]

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
