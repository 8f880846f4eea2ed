"""Table columns of a run's configuration: one column per value, lists joined with ``/``,
system parameters as ``param.NAME``, rule options as ``rule-param.NAME``, dataset options as
``dataset-option.NAME``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from phyll_core.sweep.grid import DATASET_OPTION, PARAM, RULE_PARAM, RunSpec


def describe(spec: RunSpec, names: Iterable[str]) -> str:
    """``dataset=circles system=identity seed=0``: the values of ``names`` for one run."""
    flat = flatten(spec.settings)
    return " ".join(f"{n}={flat.get(n, '')}" for n in names)


def flatten(settings: Mapping[str, Any]) -> dict[str, Any]:
    """One column per configuration value: lists joined with ``/``, parameters as
    ``param.NAME`` / ``rule-param.NAME`` / ``dataset-option.NAME``."""
    out: dict[str, Any] = {}
    for name, value in settings.items():
        if name == "params":
            out.update({PARAM + k: v for k, v in sorted(value.items())})
        elif name == "rule_params":
            out.update({RULE_PARAM + k: v for k, v in sorted(value.items())})
        elif name == "dataset_options":
            out.update({DATASET_OPTION + k: v for k, v in sorted(value.items())})
        elif isinstance(value, list | tuple):
            out[name] = "/".join(str(v) for v in value)
        else:
            out[name] = value
    return out


def varying_columns(specs: Sequence[RunSpec]) -> list[str]:
    """Configuration columns whose value differs between ``specs``."""
    flats = [flatten(s.settings) for s in specs]
    names = list(dict.fromkeys(k for f in flats for k in f))
    return [n for n in names if len({json.dumps(f.get(n), default=str) for f in flats}) > 1]
