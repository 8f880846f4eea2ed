"""TensorFlow is imported only when a twin is built, fitted or used; without TensorFlow the
plugin says so in ``phyll plugins`` and the rest of phyll works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
if sys.argv[2] == "hide":  # as if TensorFlow were not installed: `import tensorflow` fails
    sys.modules["tensorflow"] = None
from phyll_core.cli.app import main
report = []
for args in json.loads(sys.argv[3]):
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    loaded = sys.modules.get("tensorflow") is not None
    report.append({"args": args, "code": code, "tensorflow": loaded})
with open(sys.argv[1], "w") as fh:
    json.dump(report, fh)
"""


def run(tmp_path: Path, mode: str, commands: list[list[str]]) -> tuple[list[dict], str, str]:
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out), mode, json.dumps(commands)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**__import__("os").environ, "COLUMNS": "250"},
    )
    assert out.is_file(), proc.stderr
    return json.loads(out.read_text()), proc.stdout, proc.stderr


def test_listing_commands_never_import_tensorflow(tmp_path: Path) -> None:
    commands = [["--help"], ["plugins"], ["systems"], ["rules", "--json"], ["twin", "--help"],
                ["twin", "fit", "--help"]]
    report, _, _ = run(tmp_path, "keep", commands)
    for entry in report:
        assert entry["code"] == 0, entry
        assert not entry["tensorflow"], f"phyll {' '.join(entry['args'])} imported TensorFlow"


def test_importing_the_plugin_module_is_light() -> None:
    code = (
        "import sys, phyll_tf_twin.plugin, phyll_tf_twin.cli; "
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; assert not bad, bad"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr


def test_without_tensorflow_the_plugin_reports_it_and_phyll_still_works(tmp_path: Path) -> None:
    commands = [
        ["plugins", "--json"],
        ["rules", "--json"],
        ["train", "--system", "identity", "--param", "dim=4", "--dataset", "iris",
         "--epochs", "1", "--json", "-q"],
        ["train", "--system", "twin", "--param", "path=m.keras", "--dataset", "iris", "-q"],
        ["train", "--system", "identity", "--rule", "pat", "--dataset", "iris", "-q"],
        ["twin", "fit", "--system", "identity", "--out", str(tmp_path / "m.keras"), "-q"],
    ]
    report, stdout, stderr = run(tmp_path, "hide", commands)
    codes = [entry["code"] for entry in report]
    assert codes == [0, 0, 0, 1, 1, 1], (codes, stderr)
    plugins, _ = json.JSONDecoder().raw_decode(stdout)  # the first command's output
    twin = next(p for p in plugins if p["name"] == "phyll-tf-twin")
    assert not twin["ok"]
    assert any("pip install tensorflow-cpu" in e for e in twin["errors"]), twin
    hint = "phyll-tf-twin needs TensorFlow: pip install tensorflow-cpu"
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3 and all(hint in line for line in errors), stderr
