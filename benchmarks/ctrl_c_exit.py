"""Ctrl-C during ``phyll train``'s start-up: how often does the process end other than with
exit status 130 and one line?

Launches ``python -X importtime -m phyll_core train --epochs 100000 --no-save`` repeatedly,
sends SIGINT at a random delay (0-0.3 s) after the child reports its first ``phyll_core.cli``
import, and counts the runs that end with another status or more than one line on stderr.
Before ``phyll_core.interrupts`` (a plain KeyboardInterrupt ending a string exec under
``python -m`` made CPython exit by SIGINT) this printed 2 of 40 and 4 of 60 on Python 3.13
(0 of 30 on 3.11; the exec case itself fails on both);
after it, 0 of 80 on 3.13::

    python benchmarks/ctrl_c_exit.py --runs 60
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time


def one_run(delay: float) -> tuple[int, str, str]:
    """Return the exit status, the non-import stderr and the last import before the signal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHYLL_")}
    proc = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "phyll_core", "train", "--epochs", "100000",
         "--no-save"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )
    lines: list[str] = []
    in_cli = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("import time:") and line.rpartition("|")[2].strip().startswith(
                "phyll_core.cli"
            ):
                in_cli.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        in_cli.wait(timeout=120)
        time.sleep(delay)
        imports = [ln for ln in lines if ln.startswith("import time:")]
        last = imports[-1].rpartition("|")[2].strip() if imports else ""
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=120)
    finally:
        proc.kill()
        reader.join(timeout=10)
    err = "".join(ln for ln in lines if not ln.startswith("import time:"))
    return code, err, last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    bad = 0
    for _ in range(args.runs):
        delay = rng.choice([0.0, 0.02, 0.05, 0.08, 0.1, 0.15, 0.3])
        code, err, last = one_run(delay)
        if code != 130 or len(err.splitlines()) > 1:
            bad += 1
            print(f"delay {delay}: exit {code}, stderr {err.strip()!r}, signal during {last}")
    print(f"{bad} of {args.runs} runs did not end with exit 130 and one line "
          f"(Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
