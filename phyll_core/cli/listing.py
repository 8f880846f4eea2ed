"""Listing commands: ``phyll plugins``, ``systems``, ``systems show``, ``rules``, ``losses``,
``datasets``. Each prints a rich table, or with ``--json`` only JSON on stdout."""

from __future__ import annotations

from typing import Any

import typer

from phyll_core.cli.output import print_json, print_table
from phyll_core.plugins import get_host

JSON = typer.Option(False, "--json", help="Print JSON only.")


def _params(params: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "type": p.type,
            "default": p.default,
            "help": p.help,
            "choices": list(p.choices) if p.choices is not None else None,
            "low": p.lower()[0] if p.lower() else None,
            "low_inclusive": p.lower()[1] if p.lower() else None,
            "high": p.upper()[0] if p.upper() else None,
            "high_inclusive": p.upper()[1] if p.upper() else None,
            "bounds": p.bounds(),
            **({"required": True} if p.required else {}),
        }
        for p in params
    ]


def _cheap_shape(entry: Any, values: dict[str, Any]) -> dict[str, Any] | None:
    """Dims, domain and drift support of ``entry`` built with ``values``, read from its spec
    and factory class without building (:meth:`SystemSpec.dims_for`); ``None`` when the spec
    cannot tell. ``perturb`` is ``None`` when the factory is not a PhysicalSystem class."""
    from phyll_core.system import PhysicalSystem

    dims = entry.spec.dims_for(values)
    if dims is None:
        return None
    factory = entry.spec.factory
    perturb = (
        factory._perturb is not PhysicalSystem._perturb
        if isinstance(factory, type) and issubclass(factory, PhysicalSystem)
        else None
    )
    return {
        "input_dim": dims.input_dim,
        "output_dim": dims.output_dim,
        "domain": dims.domain.describe() if dims.domain is not None else None,
        "perturb": perturb,
    }


def _built_shape(name: str, values: Any) -> dict[str, Any]:
    """Dims, domain and drift support of system ``name`` by building it with ``values``."""
    from phyll_core.factory import build_system

    system = build_system(name, values)
    return {
        "input_dim": system.input_dim,
        "output_dim": system.output_dim,
        "domain": system.domain.describe(),
        "perturb": system.can_perturb,
    }


def _base_row(entry: Any) -> dict[str, Any]:
    return {
        "name": entry.name,
        "input_dim": None,
        "output_dim": None,
        "domain": None,
        "plugin": entry.plugin,
        "version": entry.version,
        "description": entry.spec.description,
    }


def system_row(entry: Any) -> dict[str, Any]:
    """Describe a registered system with its default parameters. Its dimensions come from
    the spec without building when it declares them (``dims``, or the factory class's
    :meth:`~phyll_core.PhysicalSystem.dims`); otherwise the system is built with its
    defaults to read them. A system that cannot be described that way shows ``None`` dims
    and the reason."""
    from phyll_core.params import resolve

    row = _base_row(entry)
    try:
        values = resolve(entry.spec.params, {}, owner=f"system '{entry.name}'")
        shape = _cheap_shape(entry, values) or _built_shape(entry.name, values)
    except Exception as exc:  # a listing must survive any system
        row["note"] = f"needs parameters: {exc}"
    else:
        shape.pop("perturb")
        row.update(shape)
    return row


CHECK = typer.Option(
    False,
    "--check",
    help="Also import every lazily declared system and rule and check its spec (slower).",
)


def plugins(json: bool = JSON, check: bool = CHECK) -> None:
    """List loaded plugins: name, version, hooks implemented, error if any. Specs are checked
    when registered; those of lazy "module:Class" factories when used, with --check, or by
    `phyll systems`."""
    host = get_host()
    if check:
        host.verify()
    rows: list[dict[str, Any]] = [
        {"name": p.name, "version": p.version, "hooks": p.hooks, "ok": p.ok, "errors": p.errors}
        for p in host.plugins.values()
    ]
    if json:
        print_json(rows)
        return
    print_table(
        "Plugins",
        ["name", "version", "hooks", "status"],
        [
            [
                r["name"],
                r["version"],
                ", ".join(r["hooks"]),
                "ok" if r["ok"] else "; ".join(r["errors"]),
            ]
            for r in rows
        ],
    )


systems_app = typer.Typer(help="List physical systems, or show one.", no_args_is_help=False)


@systems_app.callback(invoke_without_command=True)
def systems(ctx: typer.Context, json: bool = JSON) -> None:
    """List physical systems: dims, domain, plugin, version, description."""
    if ctx.invoked_subcommand is not None:
        return
    host = get_host()
    host.verify()
    rows = [system_row(e) for e in host.systems]
    rows += [  # offered by a plugin but declared wrongly: listed with the reason
        {"name": name, "input_dim": None, "output_dim": None, "domain": None, "plugin": plugin,
         "version": host.version_of(plugin), "description": "", "note": f"unavailable: {why}"}
        for name, (plugin, why) in host.systems.unavailable().items()
    ]
    if json:
        print_json(rows)
        return
    print_table(
        "Physical systems",
        ["name", "in", "out", "domain", "plugin", "version", "description"],
        [
            [
                r["name"],
                r["input_dim"] if r["input_dim"] is not None else "?",
                r["output_dim"] if r["output_dim"] is not None else "?",
                r["domain"] or "?",
                r["plugin"],
                r["version"],
                r["description"] or r.get("note", ""),
            ]
            for r in rows
        ],
        optional=("version", "domain"),
    )


@systems_app.command("show")
def systems_show(
    name: str = typer.Argument(..., help="System name."),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE system parameter."),
    json: bool = JSON,
) -> None:
    """Show one system with every parameter and its value (the dimensions are read from the
    spec without building the system when it declares them)."""
    from phyll_core.params import resolve, split_assignments

    host = get_host()
    host.verify(host.systems, name)  # a lazy spec is checked before it is described
    entry = host.systems.get(name)
    values = resolve(entry.spec.params, split_assignments(param), owner=f"system '{name}'")
    row = _base_row(entry)
    row.update(_cheap_shape(entry, values) or _built_shape(name, values))
    row["params"] = [dict(p, value=values.get(p["name"])) for p in _params(entry.spec.params)]
    if json:
        print_json(row)
        return
    print_table(
        f"System '{name}'",
        ["field", "value"],
        [
            [k, row[k] if row[k] is not None else "?"]
            for k in (
                "input_dim", "output_dim", "domain", "perturb", "plugin", "version", "description"
            )
        ],
    )
    print_table(
        "Parameters",
        ["name", "type", "value", "default", "bounds", "choices", "help"],
        [
            [
                p["name"], p["type"], p["value"], p["default"], p["bounds"],
                ", ".join(map(str, p["choices"])) if p["choices"] is not None else "",
                p["help"],
            ]
            for p in row["params"]
        ],
    )


def _simple_listing(title: str, entries: Any, extra: Any = None, json: bool = False) -> None:
    rows = []
    for e in entries:
        row = {
            "name": e.name,
            "plugin": e.plugin,
            "version": e.version,
            "description": e.spec.description,
            "params": _params(e.spec.params),
        }
        if extra:
            row.update(extra(e))
        rows.append(row)
    if json:
        print_json(rows)
        return
    common = {"name", "params", "plugin", "version", "description"}
    keys = ["name", *(k for k in rows[0] if k not in common)] if rows else ["name"]
    print_table(
        title,
        [*keys, "plugin", "description", "parameters"],
        [
            [*(r[k] for k in keys), r["plugin"], r["description"],
             ", ".join(f"{p['name']}={p['default']}" for p in r["params"])]
            for r in rows
        ],
    )


def rules(json: bool = JSON) -> None:
    """List learning rules and their --rule-param options."""
    _simple_listing("Learning rules", get_host().rules, json=json)


def losses(json: bool = JSON) -> None:
    """List goodness functions and contrastive objectives."""
    _simple_listing("Losses", get_host().losses, lambda e: {"kind": e.spec.kind}, json=json)


datasets_app = typer.Typer(help="List dataset sources, or export one.", no_args_is_help=False)


@datasets_app.callback(invoke_without_command=True)
def datasets(ctx: typer.Context, json: bool = JSON) -> None:
    """List dataset sources."""
    if ctx.invoked_subcommand is not None:
        return
    _simple_listing(
        "Datasets",
        get_host().datasets,
        lambda e: {"usage": f"{e.name}:PATH" if e.spec.takes_argument else e.name},
        json=json,
    )


@datasets_app.command("export")
def datasets_export(
    name: str = typer.Argument(..., help="Dataset to export (vowels, digits, csv:PATH, ...)."),
    out: str = typer.Option(..., "--out", "-o", help="File to write: NAME.csv or NAME.npz."),
    label_column: str = typer.Option(
        "label", "--label-column", help="Name of the label column of a CSV file."
    ),
) -> None:
    """Write a dataset as CSV (features x0.., then the label column) or NPZ (x, y), the files
    that --dataset csv:PATH and npz:PATH read back."""
    from phyll_core.cli.output import note
    from phyll_core.datasets import load
    from phyll_core.export import export_dataset

    data = load(name)
    path = export_dataset(data, out, label_column=label_column)
    note(f"wrote {path}: {data.x.shape[0]} rows, {data.n_features} features,"
         f" {data.n_classes} classes")


def dataset_names() -> str:
    """Every registered dataset source as ``--dataset`` takes it (``vowels``, ``csv:PATH``)."""
    return ", ".join(
        f"{e.name}:PATH" if e.spec.takes_argument else e.name for e in get_host().datasets
    )


def registry_help(command: Any) -> None:
    """Write the registered dataset names into the help of every ``--dataset`` option of the
    click ``command`` tree (the names depend on the installed plugins, so they are filled in
    when help is shown, not when the module is imported)."""
    stack = [command]
    while stack:
        cmd = stack.pop()
        stack.extend(getattr(cmd, "commands", {}).values())
        for param in getattr(cmd, "params", []):
            if "--dataset" in getattr(param, "opts", ()):
                before = param.help or ""
                names = f"{dataset_names()} (`phyll datasets`)."
                # a hard-coded list of names is replaced, any other help keeps its sentence
                param.help = f"Dataset: {names}" if "csv:PATH" in before or not before else (
                    f"{before.rstrip()} Datasets: {names}"
                )


def add_to(app: typer.Typer) -> None:
    app.command("plugins")(plugins)
    app.add_typer(systems_app, name="systems")
    app.command("rules")(rules)
    app.command("losses")(losses)
    app.add_typer(datasets_app, name="datasets")
