"""Bounded device I/O: how long a trickled reply and how much memory an endless reply cost.

The SCPI emulator (in this process, on 127.0.0.1) answers every data query with a fault:

- ``trickle``: the reply one byte every 20 ms (about 5 s for a 20-number reply), read by a
  ``VisaInstrumentSystem`` with ``timeout=0.5`` and no retries: seconds until the call fails;
- ``endless``: digits without a newline (the emulator stops after 256 MiB): seconds until the
  call fails, MiB the device got to send, and the peak resident memory of the process.

Run it on an older checkout to compare (the emulator of this tree is used either way)::

    python benchmarks/hardware_faults.py [--no-write]
    PYTHONPATH=/path/to/old/checkout python benchmarks/hardware_faults.py --no-write
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section


def _fail_time(fault: str, timeout: float, lock_dir: str, **options: Any) -> dict[str, float]:
    from phyll_scpi_example import SPEC_FILE
    from phyll_scpi_example.emulator import ScpiEmulator

    from phyll_core.errors import PhyllError
    from phyll_core.hardware import VisaInstrumentSystem, load_visa_spec

    with ScpiEmulator(port=0, fault_rate=1.0, faults=(fault,), **options) as emu:
        inst = VisaInstrumentSystem(
            spec=load_visa_spec(SPEC_FILE), address=emu.resource, timeout=timeout, retries=0,
            use_batch=False, lock_dir=lock_dir,
        )
        start = time.perf_counter()
        try:
            inst.forward([[0.5] * 20])
            failed = False
        except PhyllError:
            failed = True
        seconds = time.perf_counter() - start
        inst.close()
        sent = emu.stats.bytes_sent
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"seconds": seconds, "failed": failed, "sent_mib": sent / 2**20, "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="do not update docs/results.md")
    args = parser.parse_args()
    import phyll_core

    with tempfile.TemporaryDirectory() as locks:
        trickle = _fail_time("trickle", 0.5, locks, trickle=0.02)
        endless = _fail_time("endless", 5.0, locks)
    code = Path(phyll_core.__file__).resolve().parent
    lines = [
        f"phyll_core from {code}",
        "",
        "| fault | timeout | call failed after | device sent | peak memory of the process |",
        "|---|---|---|---|---|",
        f"| reply trickled at 20 ms per byte | 0.5 s | {trickle['seconds']:.3g} s | - | - |",
        f"| endless reply, no newline | 5 s | {endless['seconds']:.3g} s |"
        f" {endless['sent_mib']:.1f} MiB | {endless['peak_mib']:.0f} MiB |",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section(
            "hardware-faults",
            "Hardware runtime: bounded device I/O",
            body.replace(f"phyll_core from {code}\n", "")
            + "\n\nThe same script on the commit before the fix (e4df591, `PYTHONPATH` set to a"
            " checkout of it, `--no-write`) measured: trickled reply 5.33 s with timeout=0.5;"
            " endless reply 6.50 s, 256 MiB sent (all the emulator sends) and 300 MiB peak"
            " memory. The default reply cap of the example instrument is 229,376 bytes"
            " (`max_reply`, see [hardware](hardware.md#visa-instruments-without-python)).",
        )


if __name__ == "__main__":
    main()
