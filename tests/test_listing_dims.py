"""Widths listed without building: ``SystemSpec.dims_for`` (the spec's ``dims`` or the factory
class's ``PhysicalSystem.dims``), the listing's fallback to building, and the shipped systems'
``dims`` agreeing with the systems they build."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import pytest

from phyll_core.builtin_systems import Identity
from phyll_core.cli import listing
from phyll_core.domain import Binary, Interval
from phyll_core.errors import ParameterError
from phyll_core.params import Param, resolve
from phyll_core.registry import Entry
from phyll_core.specs import SystemSpec
from phyll_core.system import Dims, PhysicalSystem

WIDTH = (Param("width", "int", 4, "width", low=1),)


def _never_built(**kw: Any) -> Any:
    raise AssertionError("the listing built the system")


def _width_dims(params: Mapping[str, Any]) -> tuple[int, int]:
    return params["width"], 2 * params["width"]


@attrs.define(kw_only=True, eq=False)
class _Unbuildable(PhysicalSystem):
    """Its constructor fails, its ``dims`` does not: the listing must use the latter."""

    width: int = 4

    def __attrs_post_init__(self) -> None:
        raise AssertionError("the listing built the system")

    @classmethod
    def dims(cls, params: Mapping[str, Any]) -> Dims:
        return Dims(params["width"], 3, Binary())

    @property
    def input_dim(self) -> int:
        return self.width

    @property
    def output_dim(self) -> int:
        return 3

    @property
    def domain(self) -> Binary:
        return Binary()

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return x[:, :3]


def test_dims_from_the_factory_class() -> None:
    spec = SystemSpec("t-class", _Unbuildable, "A test system.")
    assert spec.dims_for({"width": 7}) == Dims(7, 3, Binary())


def test_dims_given_on_the_spec_pairs_and_lazy_targets() -> None:
    spec = SystemSpec("t-fn", _never_built, "A test system.", WIDTH, dims=_width_dims)
    assert spec.dims_for({"width": 5}) == Dims(5, 10, None)
    lazy = SystemSpec(
        "t-lazy", _never_built, "A test system.", WIDTH,
        dims=f"{__name__}:_width_dims",
    )
    assert lazy.dims_for({"width": np.int64(2)}) == Dims(2, 4, None)


def test_no_dims_for_a_function_factory_or_the_base_class() -> None:
    assert SystemSpec("t-none", _never_built, "A test system.", WIDTH).dims_for({}) is None
    assert Identity.__mro__[1].dims({"dim": 3}) is None  # PhysicalSystem's default


@pytest.mark.parametrize("bad", [(0, 3), (2.5, 3), (True, 3), ("4", 3)])
def test_wrong_dims_are_refused(bad: tuple[Any, int]) -> None:
    spec = SystemSpec("t-bad", _never_built, "A test system.", WIDTH, dims=lambda p: bad)
    with pytest.raises(ValueError, match="t-bad"):
        spec.dims_for({"width": 4})


def test_wrong_dims_target_is_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="dims"):
        SystemSpec("t-bad", _never_built, "A test system.", WIDTH, dims="not a target")


def test_listing_row_uses_dims_without_building() -> None:
    row = listing.system_row(Entry(SystemSpec("t-class", _Unbuildable, "A system."), "p", "1"))
    assert (row["input_dim"], row["output_dim"], row["domain"]) == (4, 3, "{0, 1}")
    assert "note" not in row


def test_listing_row_builds_when_the_spec_cannot_tell(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []

    def built_shape(name: str, values: Any) -> dict[str, Any]:
        built.append(name)
        raise ParameterError("needs a file")

    monkeypatch.setattr(listing, "_built_shape", built_shape)
    row = listing.system_row(Entry(SystemSpec("t-fn", _never_built, "A system.", WIDTH), "p", "1"))
    assert built == ["t-fn"]
    assert row["input_dim"] is None and row["output_dim"] is None
    assert "needs a file" in row["note"]


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(module, class, parameters) of every shipped system whose class declares ``dims``."""
    return [
        ("phyll_core.builtin_systems", "Identity", {}),
        ("phyll_core.builtin_systems", "Identity", {"dim": 3}),
        ("phyll_core.builtin_systems", "RandomFeatures", {"inputs": 5, "outputs": 7}),
        ("phyll_microwave.system", "MicrowaveCavity", {}),
        ("phyll_microwave.system", "MicrowaveCavity", {"inputs": 6, "bits": 3}),
        ("phyll_microwave.system", "MicrowaveCavity", {"atoms": 12, "encoding": "binary"}),
        ("phyll_microwave.system", "MicrowaveCavity", {"atoms": 12, "bits": 4, "frequencies": 5}),
        ("phyll_acoustic.system", "AcousticCavity", {}),
        ("phyll_acoustic.system", "AcousticCavity", {"inputs": 8, "outputs": 12, "speakers": 2}),
    ]


@pytest.mark.parametrize(("module", "cls", "given"), _cases())
def test_class_dims_agree_with_the_built_system(module: str, cls: str, given: dict) -> None:
    system_class = getattr(pytest.importorskip(module), cls)
    from phyll_core.fields import params_from_class

    values = resolve(params_from_class(system_class), given)
    dims = system_class.dims(values)
    system = system_class(**values)
    assert dims == Dims(system.input_dim, system.output_dim, system.domain)


@pytest.mark.parametrize("given", [{}, {"frame": 16, "inputs": 9}, {"frame": 7}])
def test_optical_dims_agree_with_the_built_system(given: dict) -> None:
    plugin = pytest.importorskip("phyll_optical.plugin")
    from phyll_optical.system import OpticalSystem

    values = resolve(plugin.PARAMS, given)
    spec = SystemSpec("t-optical", plugin._optical, "Optical.", plugin.PARAMS, dims=plugin._dims)
    system = OpticalSystem(**values)
    assert spec.dims_for(values) == Dims(system.input_dim, system.output_dim, system.domain)


def test_microwave_dims_refuse_what_the_constructor_refuses() -> None:
    module = pytest.importorskip("phyll_microwave.system")
    from phyll_core.fields import params_from_class

    cls = module.MicrowaveCavity
    schema = params_from_class(cls)
    for given in ({"atoms": 41}, {"inputs": 5, "atoms": 7}):
        values = resolve(schema, given)
        with pytest.raises(ParameterError):
            cls.dims(values)
        with pytest.raises(ParameterError):
            cls(**values)


def test_interval_domain_is_reported() -> None:
    assert Identity.dims({"dim": 2}) == Dims(2, 2, Interval(0.0, 1.0))
