"""Ctrl-C and SIGTERM as one exception type, :class:`Interrupted`.

phyll's signal handlers raise :class:`Interrupted`, a subclass of :class:`KeyboardInterrupt`,
never a bare ``KeyboardInterrupt``. Every ``except KeyboardInterrupt`` still catches it. The
subclass matters because of how CPython ends a ``python -m`` run. A ``KeyboardInterrupt``
(exactly that type) that ends a string ``exec`` or ``eval`` sets the runtime's "unhandled
interrupt" flag, even when a caller catches it later; attrs, dataclasses and typing build code
that way at import time. ``Py_RunMain`` checks the flag after ``sys.exit(130)`` and kills the
process with SIGINT. So a Ctrl-C during the CLI's start-up printed ``interrupted`` and still
ended with status -2, about once in twenty times. CPython tests the type by identity, so a
subclass never sets the flag.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


class Interrupted(KeyboardInterrupt):
    """Raised by phyll's handlers for SIGINT (Ctrl-C) and SIGTERM."""


def raise_interrupted(signum: int, frame: Any) -> None:
    """A signal handler: raise :class:`Interrupted`."""
    raise Interrupted


def in_main_thread() -> bool:
    """Whether this is the main thread, the only one where signal handlers can be set."""
    return threading.current_thread() is threading.main_thread()


def install() -> None:
    """Make SIGINT raise :class:`Interrupted` instead of ``KeyboardInterrupt``.

    Only Python's default handler is replaced: an ignored SIGINT (a background job of a
    non-interactive shell) stays ignored, and a handler set by an embedding program stays.
    Outside the main thread, where signals cannot be set, this does nothing.
    """
    if in_main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, raise_interrupted)
