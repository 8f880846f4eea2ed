"""``python -m phyll_core`` runs the ``phyll`` CLI."""

from phyll_core.cli.app import main

main()
