"""Start-up cost of the CLI: CPU seconds of ``phyll --help`` and of the listings, wall seconds
of a bare ``phyll train``, with every installed plugin loaded.

Each command runs in a fresh interpreter (``python -m phyll_core``), ``--repeats`` times,
interleaved; the best run is kept (the machine may be shared: CPU time, user + system of the
child, is the robust figure for the short commands). The heavy modules each command imported
are listed. ``phyll train`` runs in a temporary folder (it writes its ``runs/`` there).
Writes the ``startup`` section of docs/results.md.

    python benchmarks/startup_bench.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from results import write_section  # noqa: E402

HEAVY = ("tensorflow", "torch", "dask", "sklearn", "scipy.special", "matplotlib", "pandas")
COMMANDS = {
    "phyll --help": ["--help"],
    "phyll plugins": ["plugins"],
    "phyll datasets": ["datasets"],
    "phyll systems": ["systems"],
    "phyll systems show microwave": ["systems", "show", "microwave"],
    "phyll train --help": ["train", "--help"],
    "phyll train": ["train"],
}
PROBE = (
    "import runpy, sys, json, atexit\n"
    "heavy = {heavy!r}\n"
    "def report():\n"
    "    print('HEAVY=' + json.dumps([m for m in heavy if m in sys.modules]), file=sys.stderr)\n"
    "atexit.register(report)\n"
    "sys.argv = ['phyll', *{args!r}]\n"
    "runpy.run_module('phyll_core', run_name='__main__')\n"
)


def run_once(args: list[str], cwd: Path) -> tuple[float, float, list[str]]:
    """(CPU seconds, wall seconds, heavy modules imported) of one fresh ``phyll ARGS``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY, args=args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"phyll {' '.join(args)} failed: {proc.stderr.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next(x for x in proc.stderr.splitlines() if x.startswith("HEAVY="))
    return cpu, wall, json.loads(line.removeprefix("HEAVY="))


def measure(repeats: int) -> list[dict[str, object]]:
    best: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for label, args in COMMANDS.items():
                cpu, wall, heavy = run_once(args, Path(tmp))
                row = best.setdefault(label, {"command": label, "cpu": 1e9, "wall": 1e9})
                row["cpu"] = min(float(row["cpu"]), cpu)  # type: ignore[arg-type]
                row["wall"] = min(float(row["wall"]), wall)  # type: ignore[arg-type]
                row["heavy"] = heavy
    for row in best.values():
        print(row, flush=True)
    return list(best.values())


def body(rows: list[dict[str, object]], repeats: int, load: tuple[str, str]) -> str:
    lines = [
        f"Fresh interpreter per command, every plugin installed, best of {repeats} interleaved"
        " runs (the machine was shared: CPU seconds, user + system, are the robust figure;"
        f" load average of the 2 cores before / after: {load[0]} / {load[1]})."
        " Targets: `phyll --help` <= 0.25 s CPU, bare `phyll train` <= 2.5 s wall on an idle"
        " machine.",
        "",
        "| command | CPU s | wall s | heavy modules imported |",
        "|---|---:|---:|---|",
    ]
    for r in rows:
        heavy = ", ".join(r["heavy"]) or "none"  # type: ignore[arg-type]
        lines.append(f"| `{r['command']}` | {r['cpu']:.2f} | {r['wall']:.2f} | {heavy} |")
    lines += [
        "",
        "Bare `phyll train` (circles through random-features, 60 epochs) writes its run folder"
        " with plots, so it imports matplotlib; circles, the stratified split and the readout"
        " are NumPy code (no scikit-learn).",
        "",
        "`phyll systems` and `phyll systems show` read every system's widths from its spec"
        " (`PhysicalSystem.dims` or `SystemSpec(dims=...)`) without building it: no dipole"
        " matrix for `microwave`, no SciPy special functions.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    import os

    def load() -> str:
        return "/".join(f"{v:.1f}" for v in os.getloadavg())

    before = load()
    rows = measure(args.repeats)
    write_section("startup", "Start-up of the CLI", body(rows, args.repeats, (before, load())))


if __name__ == "__main__":
    main()
