"""The grid of a sweep and its expansion into runs.

A grid has axes, each a name and a list of values; its runs are every combination of the
values (datasets, then systems, rules, the other axes in the order given, seeds last). An axis
name is an option of ``phyll train`` (``epochs``, ``width``, ``lr``, ``skip``, ...), a system
parameter (``param.NAME``, or a bare NAME that a system of the sweep declares) or a rule option
(``rule-param.NAME``, or a bare NAME that a rule declares). A system parameter is given to the
systems of a run that declare it, a rule option to the rule when it declares it; a name that no
system (or rule) of the sweep declares is an error.

A run is a :class:`RunSpec`: the keyword arguments of its
:class:`~phyll_core.engine.config.TrainConfig` and a key, the hash of its complete
configuration (defaults filled in), which names its result file and makes resuming exact.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from phyll_core.engine.config import TrainConfig
from phyll_core.errors import ParameterError, PhyllError, closest

DEFAULTS = TrainConfig()
FIELDS = tuple(a.name for a in attrs.fields(TrainConfig))
#: TrainConfig fields set through their own axis kinds, not by name
NOT_AXES = ("params", "dataset_options", "rule_params")
#: fields added after sweeps were stored, with the value that trains as before they existed:
#: left out of a run's key at that value, so a store written before them still resumes
LATER_FIELDS: dict[str, Any] = {"dither": 0.0}
ALIASES = {"systems": "system", "datasets": "dataset", "rules": "rule", "seeds": "seed"}
PARAM, RULE_PARAM, DATASET_OPTION = "param.", "rule-param.", "dataset-option."
TOML_KEYS = ("out", "systems", "rules", "datasets", "seeds", "grid")


@attrs.frozen
class RunSpec:
    """One run of a sweep: ``settings`` are :class:`TrainConfig` keyword arguments (plain JSON
    values); ``drift``/``drift_at`` request a perturbation step (``phyll compare --drift``).
    ``error`` is set when the settings are not a valid configuration (the run is then recorded
    as failed without being started)."""

    settings: dict[str, Any]
    drift: float = 0.0
    drift_at: int | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        """16 hex digits of the SHA-256 of the complete configuration (without the
        :data:`LATER_FIELDS` at their old value)."""
        config = {
            k: v for k, v in self.settings.items() if k not in LATER_FIELDS or v != LATER_FIELDS[k]
        }
        payload: dict[str, Any] = {"config": config}
        if self.drift:
            payload.update(drift=self.drift, drift_at=self.drift_at)
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def config(self) -> TrainConfig:
        return TrainConfig(**self.settings)

    @property
    def data_key(self) -> str:
        """Identifies the data split this run trains on (dataset, options, seed, fraction)."""
        s = self.settings
        return json.dumps(
            [s["dataset"], s.get("dataset_options", {}), s["seed"], s["test_fraction"]],
            sort_keys=True,
        )

    def to_json(self) -> dict[str, Any]:
        """Settings, drift and the key (sent along, so a worker whose phyll has other defaults
        still files its result under the driver's key)."""
        return {
            "key": self.key,
            "settings": self.settings,
            "drift": self.drift,
            "drift_at": self.drift_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunSpec:
        return make_spec(dict(data["settings"]), data.get("drift", 0.0), data.get("drift_at"))


def make_spec(settings: dict[str, Any], drift: float = 0.0, drift_at: int | None = None) -> RunSpec:
    """A :class:`RunSpec` with the defaults of :class:`TrainConfig` filled in (so the same run
    always has the same key), or with ``error`` set when the settings are invalid."""
    try:
        full = _plain(TrainConfig(**settings).to_json())
    except (PhyllError, TypeError, ValueError) as exc:
        return RunSpec(_plain(settings), drift, drift_at, error=str(exc))
    return RunSpec(full, drift, drift_at)


def _plain(value: Any) -> Any:
    """JSON-ready copy: tuples become lists, mappings are copied."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@attrs.define
class Grid:
    """Axes (name -> values, ordered) over datasets, systems, rules, options and seeds."""

    axes: dict[str, list[Any]]
    drift: float = 0.0
    drift_at: int | None = None

    def runs(self) -> list[RunSpec]:
        """Every combination of the axes' values, as run specs (duplicates removed)."""
        names = list(self.axes)
        seen: dict[str, RunSpec] = {}
        for combo in itertools.product(*(self.axes[n] for n in names)):
            settings = _settings(dict(zip(names, combo, strict=True)))
            spec = make_spec(settings, self.drift, self.drift_at)
            seen.setdefault(spec.key, spec)
        return list(seen.values())

    @property
    def varying(self) -> list[str]:
        """Axes with more than one value."""
        return [n for n, v in self.axes.items() if len(v) > 1]


def _settings(values: dict[str, Any]) -> dict[str, Any]:
    """TrainConfig keyword arguments of one combination; parameters go to the systems / the rule
    that declare them."""
    settings: dict[str, Any] = {}
    params: dict[str, Any] = {}
    rule_params: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for name, value in values.items():
        if name.startswith(PARAM):
            params[name[len(PARAM) :]] = value
        elif name.startswith(RULE_PARAM):
            rule_params[name[len(RULE_PARAM) :]] = value
        elif name.startswith(DATASET_OPTION):
            options[name[len(DATASET_OPTION) :]] = value
        else:
            settings[name] = value
    systems = settings.get("system", DEFAULTS.system)
    systems = (systems,) if isinstance(systems, str) else tuple(systems)
    declared = set().union(*(system_params(s) for s in systems))
    settings["params"] = {k: v for k, v in params.items() if k in declared}
    rule_declared = rule_params_of(settings.get("rule", DEFAULTS.rule))
    settings["rule_params"] = {k: v for k, v in rule_params.items() if k in rule_declared}
    dataset = str(settings.get("dataset", DEFAULTS.dataset))
    settings["dataset_options"] = options if dataset.startswith("csv:") else {}
    return settings


def system_params(name: str) -> set[str]:
    from phyll_core.plugins import get_host

    return {p.name for p in get_host().systems.get(name).spec.params}


def rule_params_of(name: str) -> set[str]:
    from phyll_core.plugins import get_host

    return {p.name for p in get_host().rules.get(name).spec.params}


# -- building a grid from the command line or a TOML file ---------------------------------------
@attrs.define
class GridInput:
    """The raw description of a grid: lists of systems, rules, datasets, seeds and other axes
    (name as written -> values, strings from the command line or typed values from TOML)."""

    systems: list[Any] = attrs.field(factory=list)
    rules: list[str] = attrs.field(factory=list)
    datasets: list[str] = attrs.field(factory=list)
    seeds: list[int] = attrs.field(factory=list)
    axes: dict[str, list[Any]] = attrs.field(factory=dict)
    out: str | None = None

    def update(self, other: GridInput) -> GridInput:
        """``other`` (the command line) over ``self`` (a TOML file)."""
        return GridInput(
            systems=other.systems or self.systems,
            rules=other.rules or self.rules,
            datasets=other.datasets or self.datasets,
            seeds=other.seeds or self.seeds,
            axes={**self.axes, **other.axes},
            out=other.out or self.out,
        )


def parse_seeds(value: Any) -> list[int]:
    """``N`` (seeds 0..N-1), ``"A:B"`` (A..B-1), ``"1,4,7"`` or a list of integers."""
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int):
            seeds = list(range(value))
        elif isinstance(value, list | tuple):
            seeds = [int(v) for v in value]
        elif ":" in str(value):
            low, high = str(value).split(":")
            seeds = list(range(int(low), int(high)))
        elif "," in str(value):
            seeds = [int(v) for v in str(value).split(",") if v.strip()]
        else:
            seeds = list(range(int(value)))
    except ValueError:
        raise PhyllError(f"--seeds expects N, A:B or a list of integers, got {value!r}") from None
    if not seeds or any(s < 0 for s in seeds):
        raise PhyllError(f"--seeds gives no seeds (or a negative one): {value!r}")
    return list(dict.fromkeys(seeds))


def parse_assignment(text: str) -> tuple[str, list[str]]:
    """``"NAME=V1,V2"`` -> ``("NAME", ["V1", "V2"])``."""
    name, sep, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not name.strip() or not items:
        raise ParameterError(f"--grid expects NAME=V1,V2,..., got {text!r}")
    return name.strip(), items


def split_list(text: str | None) -> list[str]:
    return [v.strip() for v in (text or "").split(",") if v.strip()]


def read_toml(path: Path) -> GridInput:
    """Read a sweep file (format: docs/sweeps.md)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PhyllError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise PhyllError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(data) - set(TOML_KEYS)
    if unknown:
        raise PhyllError(f"{path}: unknown keys {sorted(unknown)} (known: {', '.join(TOML_KEYS)})")
    axes: dict[str, list[Any]] = {}
    for name, value in dict(data.get("grid", {})).items():
        if name in ("param", "rule-param", "rule_param") and isinstance(value, dict):
            prefix = PARAM if name == "param" else RULE_PARAM
            axes.update({prefix + k: _as_list(v) for k, v in value.items()})
        else:
            axes[name] = _as_list(value)

    def names(key: str) -> list[Any]:
        return _as_list(data[key]) if key in data else []

    return GridInput(
        systems=names("systems"),
        rules=[str(r) for r in names("rules")],
        datasets=[str(d) for d in names("datasets")],
        seeds=parse_seeds(data["seeds"]) if "seeds" in data else [],
        axes=axes,
        out=str(data["out"]) if "out" in data else None,
    )


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def build_grid(raw: GridInput, drift: float = 0.0, drift_at: int | None = None) -> Grid:
    """Check names against the registries and convert values; return the :class:`Grid`."""
    from phyll_core.plugins import get_host

    host = get_host()
    axes: dict[str, list[Any]] = {}
    extra = dict(raw.axes)
    for key, given in (("dataset", raw.datasets), ("system", raw.systems), ("rule", raw.rules)):
        named = [v for k, v in extra.items() if ALIASES.get(k, k) == key]
        values = given or (named[0] if named else [getattr(DEFAULTS, key)])
        extra = {k: v for k, v in extra.items() if ALIASES.get(k, k) != key}
        axes[key] = [_convert_field(key, v) for v in values]
    for dataset in axes["dataset"]:
        host.datasets.get(str(dataset).partition(":")[0])
    systems = {name for value in axes["system"] for name in value}
    for name in sorted(systems):
        host.systems.get(name)
    for rule in axes["rule"]:
        host.rules.get(rule)
    declared = set().union(*(system_params(s) for s in systems))
    rule_declared = set().union(*(rule_params_of(r) for r in axes["rule"]))
    seeds = raw.seeds
    for name, values in extra.items():
        canonical = _canonical(name, declared, rule_declared)
        if canonical == "seed":
            seeds = parse_seeds(values if len(values) > 1 else values[0])
            continue
        if canonical in FIELDS:
            axes[canonical] = list(dict.fromkeys(_convert_field(canonical, v) for v in values))
        else:
            axes[canonical] = list(dict.fromkeys(_literal(v) for v in values))
    axes["seed"] = seeds or [DEFAULTS.seed]
    return Grid(axes, drift, drift_at)


def _canonical(name: str, declared: set[str], rule_declared: set[str]) -> str:
    """The axis name of ``name`` as written (see the module docstring)."""
    for prefix, pool, what in (
        (PARAM, declared, "system"),
        ("param:", declared, "system"),
        (RULE_PARAM, rule_declared, "rule"),
        ("rule_param.", rule_declared, "rule"),
    ):
        if name.startswith(prefix):
            bare = name[len(prefix) :]
            if bare not in pool:
                hint = closest(bare, pool)
                raise ParameterError(
                    f"no {what} of this sweep declares parameter '{bare}'"
                    + (f"; did you mean '{hint}'?" if hint else "")
                )
            return (PARAM if what == "system" else RULE_PARAM) + bare
    field = ALIASES.get(name, name).replace("-", "_")
    if field == "label_column":
        return DATASET_OPTION + "label_column"
    if field in FIELDS and field not in NOT_AXES:
        return field
    if name in declared:
        return PARAM + name
    if name in rule_declared:
        return RULE_PARAM + name
    known = [f.replace("_", "-") for f in FIELDS if f not in NOT_AXES]
    hint = closest(name, [*known, *declared, *rule_declared])
    raise ParameterError(
        f"--grid {name}: not an option of phyll train, nor a parameter of a system or rule of"
        f" this sweep" + (f"; did you mean '{hint}'?" if hint else "")
    )


def _convert_field(name: str, value: Any) -> Any:
    """A TrainConfig field's value from a command-line string or a TOML value."""
    default = getattr(DEFAULTS, name)
    try:
        if name == "system":
            return _tuple(value, str)
        if name == "lr":
            return _tuple(value, float)
        if isinstance(default, bool):
            return _bool(value)
        if isinstance(default, int):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if isinstance(default, float):
            return float(value)
        if default is None:  # predict
            return None if str(value).lower() in ("", "none", "default") else str(value)
        return str(value)
    except (TypeError, ValueError):
        kind = type(default).__name__ if default is not None else "str"
        raise ParameterError(f"--grid {name} expects {kind} values, got {value!r}") from None


def _tuple(value: Any, kind: type) -> tuple[Any, ...]:
    """One value per block: a list (TOML) or ``a/b`` (command line)."""
    if isinstance(value, list | tuple):
        return tuple(kind(v) for v in value)
    return tuple(kind(v.strip()) for v in str(value).split("/") if v.strip())


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _literal(value: Any) -> Any:
    """A command-line string as int, float or bool when it reads as one (TOML values as they
    are), so ``--grid scale=3`` and ``scale = 3`` in a file make the same run."""
    if not isinstance(value, str):
        return value
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return value
