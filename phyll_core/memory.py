"""Memory checks made before a large allocation, so that a request that cannot fit (``--width
10000000``, ``probe --samples 1000000000``, an ``.npz`` whose header claims 10^12 rows) is one
clear error at once instead of minutes of swapping and a ``MemoryError``.

The estimates are lower bounds of what the allocation needs; they are compared with the memory
the operating system reports as available now (``MemAvailable`` on Linux).
"""

from __future__ import annotations

import os

from phyll_core.errors import PhyllError

FLOAT = 8  # bytes of a float64


class MemoryBudgetError(PhyllError, MemoryError):
    """A request needs more memory than the machine has available."""


def available_bytes() -> int | None:
    """Memory available to a new allocation now, or ``None`` when the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def human(n: float) -> str:
    """``n`` bytes as a short figure: ``7.6 GB``, ``800 TB``."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    raise AssertionError("unreachable")


def require(need: float, what: str, available: int | None = None) -> None:
    """Raise :class:`MemoryBudgetError` naming ``what`` when ``need`` bytes exceed the available
    memory (``available`` overrides the measurement, for tests)."""
    have = available_bytes() if available is None else available
    if have is not None and need > have:
        raise MemoryBudgetError(
            f"{what} needs at least {human(need)} of memory; {human(have)} is available"
        )


def run_bytes(
    *, n_train: int, n_features: int, n_classes: int, width: int, blocks: int
) -> float:
    """A lower bound of the memory a training run needs: per block the trained projection
    ``W`` (width x input width) with its gradient and two Adam moments, and the largest
    activation, the goodness prediction's ``n_train * n_classes`` rows of ``width`` values."""
    in_width = n_features + n_classes
    weights = 0.0
    for _ in range(blocks):
        weights += 4.0 * width * (in_width + width) * FLOAT
        in_width = width
    activations = float(n_train) * n_classes * width * FLOAT
    return weights + activations
