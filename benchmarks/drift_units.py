"""What ``perturb(1.0)`` does to each registered system: the drift response of
:func:`phyll_core.testing.drift_response` (RMS output change over the RMS spread of the outputs
across inputs, mean over three drift seeds, 64 random inputs), at strengths 0.1, 1 and 10.

Strength 1 is, by the PhysicalSystem contract, about an hour of lab drift; this table shows
how far each backend's model of that hour moves its outputs, which is what ``phyll compare
--drift S`` compares across systems.

    OPENBLAS_NUM_THREADS=1 python benchmarks/drift_units.py
"""

from __future__ import annotations

import time

from phyll_core.factory import build_system
from phyll_core.plugins import get_host
from phyll_core.testing import drift_response

STRENGTHS = (0.1, 1.0, 10.0)


def main() -> None:
    host = get_host()
    print("| system | plugin | " + " | ".join(f"S = {s:g}" for s in STRENGTHS) + " | seconds |")
    print("|---|---|" + "---|" * (len(STRENGTHS) + 1))
    for entry in host.systems:
        try:
            build_system(entry.name)
        except Exception as exc:  # a system that needs parameters (a file, hardware)
            print(f"| {entry.name} | {entry.plugin} | not built with defaults: {exc} |")
            continue
        start = time.perf_counter()

        def make(seed: int, name: str = entry.name) -> object:
            return build_system(name, {"seed": seed}) if _has_seed(name) else build_system(name)

        cells = [_cell(make, s) for s in STRENGTHS]
        seconds = time.perf_counter() - start
        print(f"| {entry.name} | {entry.plugin} | " + " | ".join(cells) + f" | {seconds:.1f} |")


def _cell(make: object, strength: float) -> str:
    try:
        value = drift_response(make, strength)  # type: ignore[arg-type]
    except Exception as exc:  # a drift model that breaks at this strength is a finding
        return f"fails: {type(exc).__name__}: {exc}"
    return "no drift model" if value is None else f"{value:.3g}"


def _has_seed(name: str) -> bool:
    return any(p.name == "seed" for p in get_host().systems.get(name).spec.params)


if __name__ == "__main__":
    main()
