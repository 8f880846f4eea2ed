"""``phyll --help``, ``phyll plugins`` and ``phyll systems`` stay light: they never import
TensorFlow (whatever plugins are installed), with every plugin installed ``--help`` and the
listings (``systems`` and ``systems show microwave`` included: the widths come from the specs,
no simulator is built) import neither SciPy's special functions nor scikit-learn, with
only the core they import neither scikit-learn, SciPy nor matplotlib, and ``phyll train`` on
the default dataset imports no scikit-learn. Start-up times are measured by
``benchmarks/startup_bench.py``, not here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = [["--help"], ["plugins"], ["systems"], ["plugins", "--json"], ["systems", "--json"]]
# with every plugin installed, importing each lazy system class for `systems` is the slow part
COMMANDS_ALL = [["--help"], ["plugins"], ["systems", "--json"]]

SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
from phyll_core.cli.app import main
report = {"import_seconds": time.perf_counter() - t0, "commands": []}
heavy = sys.argv[2].split(",")
for args in json.loads(sys.argv[3]):
    start = time.perf_counter()
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    loaded = sorted(m for m in heavy if m in sys.modules)
    report["commands"].append(
        {"args": args, "code": code, "seconds": time.perf_counter() - start, "heavy": loaded}
    )
with open(sys.argv[1], "w") as fh:
    json.dump(report, fh)
"""


def run_commands(
    tmp_path: Path, heavy: list[str], env_extra: dict[str, str], commands: list[list[str]]
) -> dict:
    out = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    env.update(env_extra, COLUMNS="200")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out), ",".join(heavy), json.dumps(commands)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        cwd=tmp_path,  # `phyll train` writes its runs/ folder here
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def test_no_tensorflow_with_every_installed_plugin(tmp_path: Path) -> None:
    report = run_commands(tmp_path, ["tensorflow", "keras", "torch", "jax"], {}, COMMANDS_ALL)
    for command in report["commands"]:
        assert command["code"] == 0, command
        assert command["heavy"] == [], f"phyll {' '.join(command['args'])} imported {command}"


# listings: `systems` reads every system's widths from its spec without building it
LISTINGS = [["--help"], ["plugins"], ["rules"], ["losses"], ["datasets"], ["train", "--help"],
            ["systems"], ["systems", "--json"], ["systems", "show", "identity"]]
HEAVY = ["tensorflow", "keras", "torch", "jax", "sklearn", "scipy.special", "matplotlib",
         "pandas", "dask", "numba"]


def test_help_and_listings_stay_light_with_every_installed_plugin(tmp_path: Path) -> None:
    report = run_commands(tmp_path, HEAVY, {}, LISTINGS)
    for command in report["commands"]:
        assert command["code"] == 0, command
        assert command["heavy"] == [], f"phyll {' '.join(command['args'])} imported {command}"


@pytest.mark.parametrize("system", ["microwave", "acoustic", "optical"])
def test_systems_show_builds_no_simulator(tmp_path: Path, system: str) -> None:
    """``systems show microwave`` reads the widths from the class: no dipole matrix, no
    Hankel function (scipy.special), and the same for the other plugins' systems."""
    pytest.importorskip(f"phyll_{system}")
    commands = [["systems", "show", system], ["systems", "show", system, "--json"]]
    report = run_commands(tmp_path, HEAVY, {}, commands)
    for command in report["commands"]:
        assert command["code"] == 0, command
        assert command["heavy"] == [], f"phyll {' '.join(command['args'])} imported {command}"


def test_circles_and_its_split_need_no_sklearn() -> None:
    code = (
        "import sys; from phyll_core.datasets import load, split; "
        "s = split(load('circles'), seed=3); assert s.x_train.shape == (800, 2); "
        "bad = [m for m in ('sklearn', 'scipy') if m in sys.modules]; assert not bad, bad"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_train_on_circles_imports_no_sklearn_or_special(tmp_path: Path) -> None:
    """The default dataset (circles) is made with NumPy, the split too, the readout is fitted
    in NumPy and the confusion plot drawn with matplotlib alone: no scikit-learn, and the
    default system and rule need no SciPy special function (matplotlib is imported to write
    the run's plots)."""
    args = ["train", "--epochs", "2", "--seed", "3"]
    report = run_commands(tmp_path, [m for m in HEAVY if m != "matplotlib"], {}, [args])
    (command,) = report["commands"]
    assert command["code"] == 0, command
    assert command["heavy"] == [], command


def test_core_alone_imports_nothing_heavy_and_is_fast(tmp_path: Path) -> None:
    heavy = ["tensorflow", "torch", "sklearn", "scipy", "matplotlib", "pandas"]
    report = run_commands(tmp_path, heavy, {"PHYLL_LOAD_PLUGINS": ""}, COMMANDS)
    for command in report["commands"]:
        assert command["code"] == 0, command
        assert command["heavy"] == [], command
    # generous bounds (CI machines are shared); importing TensorFlow alone takes longer
    assert report["import_seconds"] < 5.0, report
    assert report["commands"][0]["seconds"] < 5.0, report


@pytest.mark.parametrize("module", ["phyll_core", "phyll_core.plugins", "phyll_core.testing"])
def test_importing_the_core_api_is_light(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "bad = [m for m in ('sklearn', 'scipy', 'matplotlib', 'tensorflow', 'rich', 'typer')"
        " if m in sys.modules]; "
        "assert not bad, bad"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
