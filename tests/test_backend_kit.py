"""The backend authors' kit (issue 17) through real plugin packages.

``tests/osc_pkg`` (``phyll-testosc``, pip-installed by tox's core envs) is a backend written the
recommended way: parameters declared once on the class, a lazy ``"module:Class"`` factory,
exclusive bounds. The broken cases are throwaway distributions (a module and its dist-info) put
on ``PYTHONPATH`` of a fresh ``python -m phyll_core``, so discovery is real there too.
"""

from __future__ import annotations

import textwrap
from importlib import metadata
from pathlib import Path

import pytest


def _installed(dist: str) -> bool:
    try:
        metadata.version(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_osc = pytest.mark.skipif(
    not _installed("phyll-testosc"),
    reason="phyll-testosc is not installed (pip install tests/osc_pkg; tox's core envs do)",
)
OSC = {"PHYLL_LOAD_PLUGINS": "phyll-testosc"}

# throwaway distributions: name -> (plugin module body, extra module "<name>_impl" body)
BROKEN: dict[str, tuple[str, str]] = {
    "phyll-tk-badint": (
        """
        from phyll_core import Param, SystemSpec, hookimpl

        def _build(**kw):
            from phyll_core.builtin_systems import Identity
            return Identity(dim=4)

        @hookimpl
        def register_systems(register):
            register(SystemSpec("tk-badint", _build, "Wrong default.",
                                (Param("n_steps", "int", 60.5, "steps"),)))
        """,
        "",
    ),
    "phyll-tk-badname": (
        """
        from phyll_core import Param, SystemSpec, hookimpl

        def _build(dim=3):
            from phyll_core.builtin_systems import Identity
            return Identity(dim=dim)

        @hookimpl
        def register_systems(register):
            register(SystemSpec("tk-badname", _build, "Declares a name the factory lacks.",
                                (Param("dim", "int", 3, "width", low=1),
                                 Param("widht", "int", 3, "typo"))))
        """,
        "",
    ),
    "phyll-tk-lazybad": (
        """
        from phyll_core import SystemSpec, hookimpl

        @hookimpl
        def register_systems(register):
            register(SystemSpec("tk-lazybad", "phyll_tk_lazybad_impl:Bad", "Bad field default."))
        """,
        """
        import attrs
        from phyll_core import Interval, PhysicalSystem, param

        @attrs.define(kw_only=True, eq=False)
        class Bad(PhysicalSystem):
            name = "tk-lazybad"
            n_steps: int = param(60.5, help="steps", low=1)

            input_dim = 2
            output_dim = 2
            domain = Interval(0.0, 1.0)

            def _forward(self, x):
                return x
        """,
    ),
    "phyll-tk-importerror": (
        """
        import phyll_tk_no_such_dependency  # noqa: F401
        """,
        "",
    ),
    "phyll-tk-raising": (
        """
        from phyll_core import hookimpl

        @hookimpl
        def register_systems(register):
            raise RuntimeError("simulated failure inside the hook")
        """,
        "",
    ),
    "phyll-tk-mismatch": (
        """
        from phyll_core import Param, SystemSpec, hookimpl

        @hookimpl
        def register_systems(register):
            register(SystemSpec("tk-mismatch", "phyll_tk_mismatch_impl:Gain", "Spec != class.",
                                (Param("gain", "float", 2.0, "gain", low=-1.0),)))
        """,
        """
        import attrs
        from phyll_core import Interval, PhysicalSystem

        def _non_negative(instance, attribute, value):
            if value < 0:
                raise ValueError(f"gain must be >= 0, got {value}")

        @attrs.define(kw_only=True, eq=False)
        class Gain(PhysicalSystem):
            name = "tk-mismatch"
            gain: float = attrs.field(default=1.0, validator=_non_negative)

            input_dim = 3
            output_dim = 3
            domain = Interval(0.0, 1.0)

            def _forward(self, x):
                return self.gain * x ** 2
        """,
    ),
}
ALL_BROKEN = ",".join(BROKEN)


def _write_distribution(root: Path, dist: str, body: str, impl: str) -> None:
    module = dist.replace("-", "_")
    (root / f"{module}.py").write_text(textwrap.dedent(body), encoding="utf-8")
    if impl:
        (root / f"{module}_impl.py").write_text(textwrap.dedent(impl), encoding="utf-8")
    info = root / f"{module}-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[phyll]\n{dist} = {module}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kit-site")
    for dist, (body, impl) in BROKEN.items():
        _write_distribution(root, dist, body, impl)
    return root


@pytest.fixture(scope="module")
def plugins_json(site: Path, phyll_subprocess) -> dict:
    """``phyll plugins --check --json``: lazy factories imported and checked too."""
    res = phyll_subprocess("plugins", "--check", "--json",
                           env={"PHYLL_LOAD_PLUGINS": ALL_BROKEN}, pythonpath=[site])
    assert res.code == 0, res.err
    return {r["name"]: r for r in res.json()}


def test_plain_plugins_imports_no_lazy_factory(site: Path, phyll_subprocess) -> None:
    env = {"PHYLL_LOAD_PLUGINS": "phyll-tk-lazybad,phyll-tk-badint"}
    res = phyll_subprocess("plugins", "--json", env=env, pythonpath=[site])
    rows = {r["name"]: r for r in res.json()}
    assert rows["phyll-tk-lazybad"]["ok"] is True  # its module is not imported by a listing
    assert "n_steps" in rows["phyll-tk-badint"]["errors"][0]  # checked at registration
    listed = phyll_subprocess("systems", "--json", env=env, pythonpath=[site])
    row = {r["name"]: r for r in listed.json()}["tk-lazybad"]
    assert "n_steps" in row["note"], row


# -- 1. parameters declared once ---------------------------------------------------------------
@needs_osc
def test_params_are_derived_from_the_class(phyll_subprocess) -> None:
    res = phyll_subprocess("systems", "show", "testosc-chain", "--param", "dt=0.2", "--json",
                           env=OSC)
    assert res.code == 0, res.err
    params = {p["name"]: p for p in res.json()["params"]}
    assert list(params) == ["masses", "n_steps", "dt", "drive", "stiffness", "coupling", "cubic",
                            "damping", "disorder", "seed"]
    assert params["dt"]["value"] == 0.2 and params["dt"]["default"] == 0.1
    assert params["dt"]["type"] == "float" and params["dt"]["help"] == "time step"
    assert params["masses"]["type"] == "int" and params["masses"]["default"] == 6


@needs_osc
def test_explicit_param_lists_still_work_beside_derived_ones(phyll_subprocess) -> None:
    env = {"PHYLL_LOAD_PLUGINS": "phyll-testosc,phyll-testplugin"}
    res = phyll_subprocess("systems", "--json", env=env)
    assert res.code == 0, res.err
    rows = {r["name"]: r for r in res.json()}
    assert rows["testosc-chain"]["input_dim"] == 6
    if _installed("phyll-testplugin"):
        assert rows["testplugin-square"]["input_dim"] == 6


# -- 2. specs checked at registration ----------------------------------------------------------
@pytest.mark.parametrize(
    ("dist", "fragments"),
    [
        ("phyll-tk-badint", ("system 'tk-badint'", "parameter 'n_steps'", "60.5", "not an int")),
        ("phyll-tk-badname", ("parameter 'widht'", "does not accept it")),
        ("phyll-tk-lazybad", ("system 'tk-lazybad'", "parameter 'n_steps'", "60.5")),
    ],
)
def test_a_wrong_spec_is_the_plugins_listed_error(
    plugins_json: dict, dist: str, fragments: tuple[str, ...]
) -> None:
    row = plugins_json[dist]
    assert row["ok"] is False
    assert len(row["errors"]) == 1, row["errors"]
    for fragment in fragments:
        assert fragment in row["errors"][0], row["errors"][0]


def test_using_a_wrongly_declared_system_says_why(site: Path, phyll_subprocess) -> None:
    env = {"PHYLL_LOAD_PLUGINS": "phyll-tk-badint"}
    res = phyll_subprocess("probe", "tk-badint", "-n", "8", env=env, pythonpath=[site])
    assert res.code == 1
    last = res.err_lines[-1]
    assert "plugin 'phyll-tk-badint'" in last and "n_steps" in last, res.err
    assert "looks like a bug" not in res.err and "Traceback" not in res.err


def test_systems_lists_an_unavailable_system_with_the_reason(site: Path, phyll_subprocess) -> None:
    env = {"PHYLL_LOAD_PLUGINS": "phyll-tk-badname"}
    res = phyll_subprocess("systems", "--json", env=env, pythonpath=[site])
    assert res.code == 0, res.err
    row = {r["name"]: r for r in res.json()}["tk-badname"]
    assert row["input_dim"] is None and "widht" in row["note"], row


# -- 3. bounds ---------------------------------------------------------------------------------
@needs_osc
def test_exclusive_bounds_are_listed_and_enforced(phyll_subprocess) -> None:
    res = phyll_subprocess("systems", "show", "testosc-chain", "--json", env=OSC)
    params = {p["name"]: p for p in res.json()["params"]}
    dt = params["dt"]
    assert (dt["low"], dt["low_inclusive"], dt["high"], dt["high_inclusive"]) == (
        0.01, False, 0.5, False
    )
    assert dt["bounds"] == "(0.01, 0.5)" and params["masses"]["bounds"] == "[1, inf)"
    table = phyll_subprocess("systems", "show", "testosc-chain", env={**OSC, "COLUMNS": "200"})
    assert "bounds" in table.out and "(0.01, 0.5)" in table.out and "choices" in table.out
    bad = phyll_subprocess("probe", "testosc-chain", "--param", "dt=0.01", env=OSC)
    assert bad.code == 1 and "must be > 0.01" in bad.err_lines[-1], bad.err


# -- 4. tracebacks of plugin errors ------------------------------------------------------------
@pytest.mark.parametrize(
    ("dist", "needle"),
    [("phyll-tk-importerror", "ModuleNotFoundError"), ("phyll-tk-raising", "RuntimeError")],
)
@pytest.mark.parametrize("how", ["--debug", "PHYLL_DEBUG"])
def test_debug_shows_the_plugins_traceback(
    site: Path, phyll_subprocess, dist: str, needle: str, how: str
) -> None:
    env = {"PHYLL_LOAD_PLUGINS": dist, **({"PHYLL_DEBUG": "1"} if how == "PHYLL_DEBUG" else {})}
    args = ["--debug", "plugins"] if how == "--debug" else ["plugins"]
    res = phyll_subprocess(*args, env=env, pythonpath=[site])
    assert res.code == 0, res.err
    assert f"traceback of plugin '{dist}'" in res.err and "Traceback (most recent" in res.err
    assert needle in res.err
    quiet = phyll_subprocess("plugins", env={"PHYLL_LOAD_PLUGINS": dist}, pythonpath=[site])
    assert "Traceback" not in quiet.err and len(quiet.err_lines) == 1


def test_a_command_needing_a_failed_plugin_says_it_failed(site: Path, phyll_subprocess) -> None:
    env = {"PHYLL_LOAD_PLUGINS": "phyll-tk-importerror"}
    res = phyll_subprocess("probe", "tk-importerror", env=env, pythonpath=[site])
    assert res.code == 1
    last = res.err_lines[-1]
    assert "unknown system" not in last, last
    assert "plugin 'phyll-tk-importerror'" in last and "failed to import" in last
    assert "phyll_tk_no_such_dependency" in last
    other = phyll_subprocess("probe", "no-such-system", env=env, pythonpath=[site])
    assert "unknown system 'no-such-system'" in other.err_lines[-1]
    assert "'phyll-tk-importerror' failed to load" in other.err_lines[-1]
    debug = phyll_subprocess("--debug", "probe", "tk-importerror", env=env, pythonpath=[site])
    assert "ModuleNotFoundError" in debug.err and "PluginError" in debug.err


# -- 5. conformance through the registry -------------------------------------------------------
@pytest.fixture
def kit_host(site: Path, monkeypatch: pytest.MonkeyPatch):
    """The process-wide host loaded with the throwaway plugins and phyll-testosc."""
    from phyll_core import plugins

    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PHYLL_LOAD_PLUGINS", f"{ALL_BROKEN},phyll-testosc")
    plugins.reset_host()
    host = plugins.Host(warn=lambda message: None).load()
    monkeypatch.setattr(plugins, "_HOST", host)
    yield host
    plugins.reset_host()


@needs_osc
def test_check_registered_passes_for_a_consistent_backend(kit_host) -> None:
    from phyll_core.testing import check_registered

    reports = check_registered("testosc-chain")
    assert len(reports) == 1 + 12  # the defaults, then each of the 12 finite bounds
    assert all(not r.failed for r in reports)


def test_check_registered_catches_a_spec_class_mismatch(kit_host) -> None:
    from phyll_core.testing import ConformanceError, check_registered

    with pytest.raises(ConformanceError) as info:
        check_registered("tk-mismatch")
    text = str(info.value)
    assert "the spec's default is 2.0 but Gain's is 1.0" in text
    assert "gain=-1.0 (lower bound [-1, inf)): construction" in text
    assert "gain must be >= 0" in text


def test_check_registered_reports_a_rejected_spec(kit_host) -> None:
    from phyll_core.testing import ConformanceError, check_registered

    with pytest.raises(ConformanceError, match="parameter 'n_steps'"):
        check_registered("tk-lazybad")
