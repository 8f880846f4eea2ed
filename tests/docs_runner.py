"""Extract the console blocks of the documentation and run them as a user would.

Every fenced block marked ``console`` or ``bash`` in ``docs/**/*.md`` and ``README.md`` (but
``docs/results.md``, whose blocks are the benchmark commands behind its figures) is a list of
commands: in a ``console`` block the lines that start with ``$ `` (or every line when
none does), in a ``bash`` block every line; a trailing ``\\`` continues a command. The blocks of
one page run in order in one fresh temporary folder (a reader follows a page from the top), with
this interpreter's ``phyll`` and ``python`` first on ``PATH``.

An HTML comment right before a block (invisible on the rendered page) tells the test more:

``<!-- docs-test: skip="reason" -->``
    not run (a second terminal, an instrument, a package the reader writes); the reason is
    reported.
``<!-- docs-test: tf -->``
    needs TensorFlow: run by ``plugins/tf_twin/tests/test_docs_twin.py``, not by the core.
``<!-- docs-test: needs="phyll-acoustic,..." -->``
    skipped where one of these distributions is not installed (the ``docs`` tox env installs
    every physics plugin, so there they all run).
``<!-- docs-test: expect-error -->``
    every command must fail with one ``error:`` line and no traceback; the documented output
    line below a ``$`` command must be that line.
``<!-- docs-test: quick="ARGS" -->``
    a command that takes minutes as written runs with ``ARGS`` appended (e.g. ``--epochs 2``):
    the documented, tested subset. ``quick`` applies to ``phyll train``, ``phyll compare``
    and ``phyll twin fit``; ``train="ARGS"`` or ``compare="ARGS"`` add to that command only.

Environment steps are checked instead of run: ``pip install`` targets must be folders of this
repository with a ``pyproject.toml`` (and the extras they name must exist) or known tools
(``tox``); ``python3 -m venv`` and ``. .venv/bin/activate`` are skipped (the test runs in an
environment that has everything installed already), and so is ``tox`` (which runs this test).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: docs/results.md is left out: its blocks are the commands that produced the measured figures
#: (benchmarks of minutes to hours, run from the repository root), not steps for a reader
MEASUREMENTS = {REPO / "docs" / "results.md"}
PAGES = sorted(p for p in [*REPO.glob("docs/**/*.md"), REPO / "README.md"] if p not in MEASUREMENTS)
BLOCK = re.compile(
    r"(?:<!--\s*docs-test:(?P<marks>[^>]*?)-->\s*\n)?^```(?P<lang>console|bash)[ \t]*\n"
    r"(?P<body>.*?)^```",
    re.S | re.M,
)
QUICK_TARGETS = ("train", "compare", "twin fit")
KNOWN_TOOLS = {"tox"}
COMMENT = re.compile(r"\s+#\s.*$")


@dataclass
class Command:
    """One command line and the output documented below it (``$`` blocks only)."""

    text: str
    documented: list[str] = field(default_factory=list)


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    marks: dict[str, str]
    commands: list[Command]

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(REPO).as_posix()}:{self.line}"

    @property
    def needs_tf(self) -> bool:
        return "tf" in self.marks


def parse_marks(text: str) -> dict[str, str]:
    marks: dict[str, str] = {}
    for token in shlex.split(text or ""):
        key, _, value = token.partition("=")
        marks[key] = value
    return marks


def _join_continuations(lines: list[str]) -> list[str]:
    out: list[str] = []
    pending = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def parse_commands(lang: str, body: str) -> list[Command]:
    lines = body.splitlines()
    if lang == "console" and any(line.startswith("$ ") for line in lines):
        commands: list[Command] = []
        for line in lines:
            if line.startswith("$ "):
                commands.append(Command(line[2:]))
            elif commands and commands[-1].text.rstrip().endswith("\\"):
                commands[-1].text = commands[-1].text.rstrip()[:-1] + " " + line.strip()
            elif commands:
                commands[-1].documented.append(line)
        return commands
    return [Command(text) for text in _join_continuations(lines) if text.strip()]


def blocks() -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            line = text.count("\n", 0, m.start("lang")) + 1
            found.append(
                Block(page, line, m["lang"], parse_marks(m["marks"] or ""),
                      parse_commands(m["lang"], m["body"]))
            )
    return found


# -- environment steps ------------------------------------------------------------------------
def check_pip_install(part: str) -> None:
    """Assert that every target of a ``pip install`` command exists in this repository."""
    tokens = shlex.split(part)
    args = tokens[tokens.index("install") + 1:]
    targets = [a for a in args if not a.startswith("-")]
    assert targets, f"pip install without a target: {part}"
    for target in targets:
        if target in KNOWN_TOOLS:
            continue
        path, _, extras = target.partition("[")
        project = REPO / path
        assert (project / "pyproject.toml").is_file(), f"{part}: no project at {path!r}"
        if extras:
            config = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
            declared = config["project"].get("optional-dependencies", {})
            for extra in extras.rstrip("]").split(","):
                assert extra.strip() in declared, f"{part}: no extra {extra!r} in {path}"


def _environment_step(part: str) -> bool:
    """True (after checking it) for a step that sets up an environment instead of using it."""
    words = part.split()
    if not words:
        return True
    if "pip" in words[:3] and "install" in words:
        check_pip_install(part)
        return True
    if words[:3] in (["python3", "-m", "venv"], ["python", "-m", "venv"]):
        return True
    if words[0] in (".", "source") and words[1].endswith("activate"):
        return True
    return words[0] == "tox" or words[1:3] == ["-m", "tox"]


def _with_quick(part: str, marks: dict[str, str]) -> str:
    m = re.match(r"^\s*(?:\w+=\S*\s+)*phyll\s+(twin\s+fit|\w+)\b", part)
    if not m:
        return part
    sub = " ".join(m.group(1).split())
    extra = []
    if sub in QUICK_TARGETS and marks.get("quick"):
        extra.append(marks["quick"])
    if marks.get(sub.split()[0]) and sub != "twin fit":
        extra.append(marks[sub])
    return " ".join([part.rstrip(), *extra])


def prepare(command: str, marks: dict[str, str]) -> str | None:
    """The shell text to run for a documented command (None when nothing is left to run)."""
    text = COMMENT.sub("", command)
    parts = [p.strip() for p in text.split("&&")]
    kept = [_with_quick(p, marks) for p in parts if not _environment_step(p)]
    return " && ".join(kept) if kept else None


def missing_distributions(marks: dict[str, str]) -> list[str]:
    missing = []
    for name in filter(None, marks.get("needs", "").split(",")):
        try:
            metadata.version(name.strip())
        except metadata.PackageNotFoundError:
            missing.append(name.strip())
    return missing


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", COLUMNS="100",
               PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "3"))
    return env


def run_block(block: Block, folder: Path, timeout: float = 600) -> list[str]:
    """Run every command of ``block`` in ``folder``; return a log line per command, raise
    ``AssertionError`` with the command's streams on a failure."""
    log = []
    env = environment()
    for command in block.commands:
        shell = prepare(command.text, block.marks)
        if shell is None:
            log.append(f"checked: {command.text}")
            continue
        proc = subprocess.run(["bash", "-c", "set -o pipefail; " + shell], cwd=folder,
                              env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
        where = f"{block.id}: `{shell}`\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n" \
                f"{proc.stderr[-3000:]}"
        assert "Traceback" not in proc.stderr, where
        if "expect-error" in block.marks:
            errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            assert proc.returncode != 0 and len(errors) == 1, where
            assert errors[0].startswith("error: "), where
            if command.documented:  # the list of known names depends on what is installed
                expected = command.documented[0].strip().split(" (known: ")[0]
                assert errors[0].split(" (known: ")[0] == expected, where
        else:
            assert proc.returncode == 0, where
        log.append(f"ran: {shell}")
    return log
