"""``phyll new-backend NAME``: write a complete plugin skeleton from the template folder.

The template (``phyll_core/templates/backend``, shipped as package data) holds ``*.tmpl`` files
filled with :class:`string.Template` (``$name``, ``$dist``, ``$package``, ``$classname``,
``$title``, ``$core_version``, ``$core_path``); a path part ``PACKAGE`` becomes the import
package. The skeleton is a pip-installable distribution with the ``phyll`` entry point, a real
(small) system whose parameters are declared once, its conformance tests, a docs page and a
tox matrix over interpreters and the phyll-core it tests against (plus, on a pyenv machine, a
``.python-version`` naming the installed 3.11, 3.12 and 3.13 so that tox finds them). It installs
and passes its tests as generated.
"""

from __future__ import annotations

import os
import re
import shutil
import string
import tempfile
from importlib import resources
from pathlib import Path

from phyll_core.errors import PhyllError

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def names(name: str) -> dict[str, str]:
    """The identifiers derived from a backend name such as ``osc-chain``: distribution
    ``phyll-osc-chain``, package ``phyll_osc_chain``, class ``OscChain``."""
    if not _NAME.match(name):
        raise PhyllError(
            f"backend name must be lower-case letters and digits in words joined by '-'"
            f" (e.g. osc-chain), got {name!r}"
        )
    short = name.removeprefix("phyll-")
    return {
        "name": short,
        "dist": f"phyll-{short}",
        "package": f"phyll_{short.replace('-', '_')}",
        "classname": "".join(part.capitalize() for part in short.split("-")),
        "title": short.replace("-", " ").capitalize() + " backend",
    }


def core_checkout() -> Path | None:
    """The source checkout of the running phyll-core (its folder holds a pyproject.toml naming
    phyll-core), or ``None`` for an installed release."""
    root = Path(__file__).resolve().parents[1]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "phyll-core"' in pyproject.read_text(encoding="utf-8"):
        return root
    return None


def generate(name: str, parent: Path, core_path: str | None = None) -> Path:
    """Write the skeleton of backend ``name`` into ``parent / "phyll-NAME"`` and return that
    folder. Refuses an existing folder; writes into a temporary folder renamed at the end, so a
    failure leaves nothing half-written. ``core_path`` is the phyll-core checkout the skeleton's
    tox ``local`` factor installs (default: this one's, else ``../phyll``)."""
    from phyll_core.plugins import core_version

    values = names(name)
    target = Path(parent) / values["dist"]
    if target.exists():
        raise PhyllError(f"{target} already exists; choose another name or folder")
    checkout = core_checkout()
    values["core_path"] = core_path or (str(checkout) if checkout else "../phyll")
    values["core_version"] = core_version().split("+")[0]
    Path(parent).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{values['dist']}.", dir=parent))
    try:
        template = resources.files("phyll_core") / "templates" / "backend"
        _render(template, tmp, values)
        versions = pyenv_versions()
        if versions:  # so that tox finds python3.11 ... 3.13 through pyenv's shims
            (tmp / ".python-version").write_text("\n".join(versions) + "\n", encoding="utf-8")
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def pyenv_versions(minors: tuple[str, ...] = ("3.11", "3.12", "3.13")) -> list[str]:
    """The newest installed pyenv version of each of ``minors`` (``["3.11.7", "3.13.0"]``),
    empty without pyenv: what the skeleton's ``.python-version`` lists."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not root.is_dir():
        return []
    found = []
    for minor in minors:
        patches = [
            p.name for p in root.iterdir()
            if re.fullmatch(rf"{re.escape(minor)}\.\d+", p.name) and (p / "bin").is_dir()
        ]
        if patches:
            found.append(max(patches, key=lambda v: int(v.rsplit(".", 1)[1])))
    return found


def _render(source: object, dest: Path, values: dict[str, str]) -> None:
    for item in sorted(source.iterdir(), key=lambda p: p.name):  # type: ignore[attr-defined]
        part = values["package"] if item.name == "PACKAGE" else item.name
        if item.is_dir():
            (dest / part).mkdir()
            _render(item, dest / part, values)
        elif part.endswith(".tmpl"):
            text = string.Template(item.read_text(encoding="utf-8")).substitute(values)
            (dest / part.removesuffix(".tmpl")).write_text(text, encoding="utf-8")
