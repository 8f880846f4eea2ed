"""Declared parameters and ``NAME=VALUE`` parsing; spec and registry validation."""

from __future__ import annotations

from typing import Any

import pytest

from phyll_core import DatasetSpec, DuplicateNameError, LossSpec, Param, SystemSpec
from phyll_core.errors import ParameterError, UnknownNameError
from phyll_core.params import parse_assignments, resolve, split_assignments
from phyll_core.registry import Registry

SCHEMA = (
    Param("width", "int", 20, "units", low=1, high=4096),
    Param("gain", "float", 1.0, "gain", low=0.0),
    Param("mode", "str", "amplitude", "SLM mode", choices=("amplitude", "phase")),
    Param("noisy", "bool", False, "add noise"),
    Param("path", "str", None, "file", required=True),
)


@pytest.mark.parametrize(
    ("param", "raw", "expected"),
    [
        (Param("n", "int", 0), "42", 42),
        (Param("n", "int", 0), " -3 ", -3),
        (Param("n", "int", 0), 7.0, 7),
        (Param("x", "float", 0.0), "1e-3", 0.001),
        (Param("x", "float", 0.0), "-2", -2.0),
        (Param("x", "float", 0.0), 3, 3.0),
        (Param("s", "str", ""), "hello world", "hello world"),
        (Param("s", "str", ""), 5, "5"),
    ],
)
def test_types(param: Param, raw: Any, expected: Any) -> None:
    value = param.convert(raw)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *((v, True) for v in ("1", "true", "TRUE", "yes", "on", " On ", True)),
        *((v, False) for v in ("0", "false", "False", "no", "off", False)),
    ],
)
def test_bool_forms(raw: Any, expected: bool) -> None:
    assert Param("b", "bool", False).convert(raw) is expected


@pytest.mark.parametrize(
    ("param", "raw", "needle"),
    [
        (Param("n", "int", 0), "3.0", "expects int, got '3.0'"),
        (Param("n", "int", 0), "many", "expects int, got 'many'"),
        (Param("n", "int", 0), True, "expects int"),
        (Param("n", "int", 0), 2.5, "expects int"),
        (Param("x", "float", 0.0), "fast", "expects float, got 'fast'"),
        (Param("x", "float", 0.0), "nan", "must be finite"),
        (Param("x", "float", 0.0), "inf", "must be finite"),
        (Param("b", "bool", False), "maybe", "expects bool, got 'maybe'"),
        (Param("b", "bool", False), "", "expects bool"),
        (Param("m", "str", "a", choices=("a", "b")), "c", "must be one of a, b, got 'c'"),
        (Param("n", "int", 5, low=1), "0", "must be >= 1"),
        (Param("n", "int", 5, high=10), "11", "must be <= 10"),
        (Param("x", "float", 0.5, low=0.0, high=1.0), "-1e-9", "must be >= 0.0"),
    ],
)
def test_bad_values(param: Param, raw: Any, needle: str) -> None:
    with pytest.raises(ParameterError) as info:
        param.convert(raw, owner="system 'demo'")
    message = str(info.value)
    assert message.startswith(f"parameter '{param.name}' of system 'demo' ")
    assert needle in message


def test_bounds_are_inclusive() -> None:
    p = Param("x", "float", 0.5, low=0.0, high=1.0)
    assert p.convert("0") == 0.0 and p.convert("1") == 1.0


def test_param_type_must_be_known() -> None:
    with pytest.raises(ValueError, match="Param type must be one of"):
        Param("x", "complex", 0)


def test_resolve_fills_defaults_and_converts() -> None:
    values = parse_assignments(SCHEMA, ["width=8", "noisy=yes", "path=/tmp/x.npz"], "demo")
    assert values == {
        "width": 8, "gain": 1.0, "mode": "amplitude", "noisy": True, "path": "/tmp/x.npz"
    }


def test_unknown_parameter_suggests_the_closest() -> None:
    with pytest.raises(ParameterError) as info:
        parse_assignments(SCHEMA, ["widht=3", "path=p"], "system 'demo'")
    assert str(info.value) == (
        "unknown parameter 'widht' of system 'demo'; did you mean 'width'?"
        " (known: gain, mode, noisy, path, width)"
    )
    with pytest.raises(ParameterError, match=r"unknown parameter 'zzz' of x \(known: none\)$"):
        resolve((), {"zzz": 1}, "x")


def test_missing_required_parameter() -> None:
    with pytest.raises(ParameterError, match=r"parameter 'path' of demo is required \(--param"):
        resolve(SCHEMA, {}, "demo")


@pytest.mark.parametrize("item", ["width", "=3", " =3", ""])
def test_malformed_assignment(item: str) -> None:
    with pytest.raises(ParameterError, match="expected NAME=VALUE, got"):
        split_assignments([item])


def test_split_keeps_equals_signs_in_values_and_strips_spaces() -> None:
    assert split_assignments([" path = a=b.csv ", "empty="]) == {"path": "a=b.csv", "empty": ""}


# -- specs ------------------------------------------------------------------------------------
def _factory(**kw: Any) -> None:
    return None


@pytest.mark.parametrize("name", ["Acoustic", "1x", "has space", "", "a/b", "é"])
def test_spec_names_are_checked(name: str) -> None:
    with pytest.raises(ValueError, match=r"SystemSpec\.name must be lower-case"):
        SystemSpec(name, _factory, "ok")


@pytest.mark.parametrize("description", ["", "   ", "two\nlines"])
def test_spec_descriptions_are_one_line(description: str) -> None:
    with pytest.raises(ValueError, match="description must be one non-empty line"):
        DatasetSpec("d", _factory, description)


def test_spec_params_are_unique_and_a_tuple() -> None:
    spec = SystemSpec("s", _factory, "ok", [Param("a", "int", 1)])
    assert isinstance(spec.params, tuple)
    with pytest.raises(ValueError, match="duplicate parameter names"):
        SystemSpec("s", _factory, "ok", (Param("a", "int", 1), Param("a", "int", 2)))


def test_loss_kind_is_checked() -> None:
    LossSpec("l", "goodness", _factory, "ok")
    with pytest.raises(ValueError, match="kind"):
        LossSpec("l", "regulariser", _factory, "ok")


# -- registry ---------------------------------------------------------------------------------
def test_registry_records_plugin_and_version_and_refuses_duplicates() -> None:
    reg: Registry[SystemSpec] = Registry("system")
    reg.add(SystemSpec("b", _factory, "B"), "phyll-one", "1.0")
    reg.add(SystemSpec("a", _factory, "A"), "phyll-two", "2.0")
    assert reg.names() == ["a", "b"] and [e.name for e in reg] == ["a", "b"] and len(reg) == 2
    entry = reg.get("a")
    assert (entry.plugin, entry.version, entry.spec.description) == ("phyll-two", "2.0", "A")
    with pytest.raises(DuplicateNameError) as info:
        reg.add(SystemSpec("b", _factory, "B again"), "phyll-three", "3.0")
    assert str(info.value) == (
        "system 'b' is registered by both 'phyll-one' and 'phyll-three';"
        " keeping the one from 'phyll-one'"
    )
    assert reg.get("b").plugin == "phyll-one"
    with pytest.raises(DuplicateNameError, match=r"^system 'a' is registered twice by 'phyll-two'"):
        reg.add(SystemSpec("a", _factory, "A again"), "phyll-two", "2.0")


def test_registry_unknown_name() -> None:
    reg: Registry[SystemSpec] = Registry("system")
    with pytest.raises(UnknownNameError, match=r"unknown system 'x' \(known: none installed\)$"):
        reg.get("x")
    reg.add(SystemSpec("acoustic", _factory, "A"), "p", "1")
    with pytest.raises(KeyError) as info:  # UnknownNameError is also a KeyError
        reg.get("acoustc")
    assert str(info.value) == "unknown system 'acoustc'; did you mean 'acoustic'? (known: acoustic)"
    assert "acoustic" in reg and "acoustc" not in reg
