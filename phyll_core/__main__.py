"""``python -m phyll_core`` and the ``phyll`` command: run the CLI.

:func:`main` imports the CLI inside a handler, so a Ctrl-C while it starts (imports, plugin
loading) ends with ``interrupted`` and exit code 130, never a traceback. Ctrl-C raises
:class:`phyll_core.interrupts.Interrupted` from the first line of :func:`main` on (see that
module for why it is not a bare ``KeyboardInterrupt``).
"""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point of the ``phyll`` console script."""
    try:
        from phyll_core import interrupts

        interrupts.install()
        from phyll_core.cli.app import main as run

        run()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
