"""Parameters declared once on attrs fields (phyll_core.param), exclusive bounds and the
checks of a declaration (Param.problems, spec_problems)."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pytest

from phyll_core import Interval, Param, PhysicalSystem, SystemSpec, param
from phyll_core.errors import ParameterError
from phyll_core.fields import kind_of, params_from_class
from phyll_core.specs import spec_problems


@attrs.define(kw_only=True, eq=False)
class Chain(PhysicalSystem):
    name = "chain"
    masses: int = param(8, help="masses", low=1)
    dt: float = param(0.01, help="time step", gt=0)
    mode: str = param("a", help="mode", choices=("a", "b"))
    q: float | None = None
    path: str = param(help="required file")
    seed: int = 0
    _cache: int = 0
    table: np.ndarray = attrs.field(factory=lambda: np.zeros(2))

    @property
    def input_dim(self) -> int:
        return self.masses

    @property
    def output_dim(self) -> int:
        return self.masses

    @property
    def domain(self) -> Interval:
        return Interval(0.0, 1.0)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return x * self.dt


def test_params_come_from_the_fields_once() -> None:
    got = {p.name: p for p in params_from_class(Chain)}
    assert list(got) == ["masses", "dt", "mode", "q", "path", "seed"]  # no _cache, no table
    assert got["masses"] == Param("masses", "int", 8, "masses", low=1)
    assert got["dt"] == Param("dt", "float", 0.01, "time step", gt=0)
    assert got["mode"].choices == ("a", "b")
    assert got["q"].type == "float" and got["q"].default is None
    assert got["path"].required and got["path"].default is None
    assert got["seed"] == Param("seed", "int", 0)


def test_a_spec_without_params_derives_them_from_its_class() -> None:
    spec = SystemSpec("chain", Chain, "A chain.")
    assert [p.name for p in spec.params] == ["masses", "dt", "mode", "q", "path", "seed"]
    assert not spec.declares_params and spec_problems(spec) == []


def test_direct_construction_checks_the_same_bounds() -> None:
    with pytest.raises(ParameterError, match=r"parameter 'dt' of 'chain' must be > 0"):
        Chain(dt=0.0, path="x")
    with pytest.raises(ParameterError, match="must be one of a, b"):
        Chain(mode="c", path="x")
    assert Chain(dt=1e-9, path="x").dt == 1e-9


def test_a_param_field_of_another_type_is_an_error() -> None:
    @attrs.define
    class Bad:
        data: list = param(factory=list)  # type: ignore[type-arg]  # noqa: RUF009

    with pytest.raises(ParameterError, match="parameter 'data' of Bad has type"):
        params_from_class(Bad)


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (int, ("int", False)), ("float", ("float", False)), ("float | None", ("float", True)),
        ("Optional[int]", ("int", True)), ("None | str", ("str", True)), (bool, ("bool", False)),
        (float | None, ("float", True)), ("np.ndarray", None), (list, None), ("int | str", None),
    ],
)
def test_kind_of_annotations(annotation: Any, expected: Any) -> None:
    assert kind_of(annotation) == expected


@pytest.mark.parametrize(
    ("param_", "raw", "ok"),
    [
        (Param("dt", "float", 0.1, gt=0), 0.0, False),
        (Param("dt", "float", 0.1, gt=0), 1e-300, True),
        (Param("p", "float", 0.5, gt=0, lt=1), 1.0, False),
        (Param("p", "float", 0.5, low=0, lt=1), 0.0, True),
        (Param("n", "int", 5, gt=0, high=5), 5, True),
        (Param("n", "int", 5, gt=0, high=5), 0, False),
    ],
)
def test_exclusive_and_inclusive_bounds(param_: Param, raw: float, ok: bool) -> None:
    if ok:
        assert param_.convert(raw) == raw
    else:
        with pytest.raises(ParameterError, match=f"parameter '{param_.name}' must be"):
            param_.convert(raw)


@pytest.mark.parametrize(
    ("param_", "text"),
    [
        (Param("dt", "float", 0.1, gt=0), "(0, inf)"),
        (Param("p", "float", 0.5, low=0, lt=1), "[0, 1)"),
        (Param("n", "int", 3, high=5), "(-inf, 5]"),
        (Param("n", "int", 3), ""),
    ],
)
def test_bounds_text(param_: Param, text: str) -> None:
    assert param_.bounds() == text


@pytest.mark.parametrize(
    ("param_", "needle"),
    [
        (Param("n_steps", "int", 60.5), "default 60.5 is not an int (it is float)"),
        (Param("n", "int", True), "default True is not an int"),
        (Param("x", "float", "1.0"), "default '1.0' is not a float"),
        (Param("dt", "float", 0.0, gt=0), "default 0.0 does not fit (must be > 0"),
        (Param("m", "str", "c", choices=("a", "b")), "does not fit (must be one of a, b"),
        (Param("m", "str", "a", choices=("a", 2)), "choice 2 is not a str"),
        (Param("s", "str", "a", low=0), "of type str cannot have bounds"),
        (Param("x", "float", 0.5, low=0, gt=0), "both low and gt"),
        (Param("x", "float", 0.5, low=1, high=0), "the range [1, 0] is empty"),
        (Param("x", "float", 0.5, gt=1, lt=1), "is empty"),
        (Param("x", "float", 0.5, low=float("nan")), "not a finite number"),
    ],
)
def test_declaration_problems_name_the_parameter(param_: Param, needle: str) -> None:
    problems = param_.problems()
    assert len(problems) == 1 and problems[0].startswith(f"parameter '{param_.name}'")
    assert needle in problems[0], problems


def test_good_declarations_have_no_problems() -> None:
    for p in (Param("n", "int", 3, low=1), Param("x", "float", 1, gt=0), Param("p", "str", None,
              required=True), Param("b", "bool", False), Param("m", "str", "a", choices=("a",))):
        assert p.problems() == [], p


def _build(dim: int = 3, *, gain: float = 1.0) -> Any:
    raise AssertionError("not called")


def _needs(path: str) -> Any:
    raise AssertionError("not called")


def test_spec_names_are_checked_against_the_factory() -> None:
    ok = SystemSpec("ok", _build, "Fine.", (Param("dim", "int", 3), Param("gain", "float", 1.0)))
    assert spec_problems(ok) == []
    typo = SystemSpec("typo", _build, "Typo.", (Param("dimm", "int", 3),))
    assert spec_problems(typo) == [
        "parameter 'dimm' is declared but _build() does not accept it (it accepts: dim, gain)"
    ]
    missing = SystemSpec("missing", _needs, "Needs a path.", ())
    assert spec_problems(missing) == ["_needs() needs 'path', which is not a declared parameter"]
    anything = SystemSpec("kw", lambda **kw: kw, "Takes anything.", (Param("z", "int", 1),))
    assert spec_problems(anything) == []


def test_a_lazy_factory_is_imported_only_when_used() -> None:
    spec = SystemSpec("lazy", "phyll_core.builtin_systems:Identity", "Identity, lazily.")
    assert spec.lazy and spec_problems(spec, deep=False) == []
    assert spec.factory.__name__ == "Identity" and not spec.lazy
    broken = SystemSpec("broken", "phyll_no_such_module:Thing", "Missing module.")
    assert "ModuleNotFoundError" in spec_problems(broken)[0]
    with pytest.raises(ValueError, match="'module:attribute'"):
        SystemSpec("bad", "not a target", "Bad target.")
