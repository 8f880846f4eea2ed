"""Exception types raised by phyll.

Every error a user can cause derives from :class:`PhyllError`; the CLI prints such errors as one
readable line (``error: ...``) and exits non-zero, showing a traceback only with ``--debug``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PhyllError(Exception):
    """Base class of all errors that phyll reports to a user as one line."""


class PhysicalInputError(PhyllError, ValueError):
    """An input sent to a physical system has the wrong shape, is not finite or is outside the
    system's domain. The message names the system, what it expected and what it got."""


class PhysicalOutputError(PhyllError, RuntimeError):
    """A backend returned an output of the wrong shape or with non-finite values."""


class PhysicalSystemError(PhyllError, RuntimeError):
    """A backend raised an unexpected error inside its forward pass (a bug or a failure of
    the physics code); the message names the system and the original error."""


class ParameterError(PhyllError, ValueError):
    """A ``NAME=VALUE`` parameter is unknown or its value does not fit the declared schema."""


class UnknownNameError(PhyllError, KeyError):
    """A system, loss, rule, dataset or parameter name is not known; suggests the closest one."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        listing = ", ".join(known) if known else "none installed"
        super().__init__(f"unknown {kind} '{name}'{hint} (known: {listing})")
        self.kind, self.name, self.suggestion = kind, name, close[0] if close else None

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


class DuplicateNameError(PhyllError):
    """Two plugins registered an item of the same kind under the same name."""


class PluginError(PhyllError):
    """A plugin failed to load, raised inside a hook, or does not match the hook specs."""


class DatasetError(PhyllError, ValueError):
    """A dataset file is missing or malformed, or the data cannot be used for training."""


class CheckpointError(PhyllError):
    """A checkpoint is missing, corrupt, truncated or was written by an incompatible version."""


class HardwareError(PhyllError):
    """A physical instrument failed, refused a setpoint, or is held by another process."""


def closest(name: str, known: Iterable[str]) -> str | None:
    """Return the known name closest to ``name``, or ``None`` when nothing is similar."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.5)
    return close[0] if close else None
