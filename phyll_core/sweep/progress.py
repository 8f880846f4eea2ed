"""Live progress of a sweep on stderr: a rich progress bar on a terminal, otherwise one plain
line per finished run (runs done / failed / remaining, elapsed, ETA)."""

from __future__ import annotations

import sys
import time
from typing import Any


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class SweepProgress:
    """``start`` once the workers are ready, ``update`` after each run, ``close`` at the end."""

    def __init__(self, label: str = "sweep", enabled: bool = True) -> None:
        from phyll_core.cli.output import stderr_console

        self.label = label
        self.enabled = enabled
        self.console = stderr_console()
        self.live = enabled and self.console.is_terminal
        self.total = self.done = self.failed = 0
        self._t0 = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def start(self, pending: int, skipped: int, dashboard: str | None) -> None:
        self.total = pending
        self._t0 = time.perf_counter()
        if not self.enabled:
            return
        if skipped:
            self._line(f"{skipped} run(s) already finished, skipped; {pending} to run")
        if dashboard:
            self._line(f"Dask dashboard: {dashboard}")
        if self.live and pending:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn(f"[bold]{self.label}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                console=self.console,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=pending, info=self._info())

    def update(self, record: dict[str, Any]) -> None:
        self.done += 1
        if record.get("status") != "ok":
            self.failed += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, info=self._info())
            if record.get("status") != "ok":
                self._bar.console.print(f"failed {record['key']}: {record.get('error')}")
        else:
            what = "ok" if record.get("status") == "ok" else f"FAILED ({record.get('error')})"
            self._line(f"{self._counts()}; {record['key']} {what}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _counts(self) -> str:
        elapsed = time.perf_counter() - self._t0
        remaining = self.total - self.done
        eta = elapsed / self.done * remaining if self.done else float("nan")
        eta_text = _duration(eta) if self.done else "?"
        return (
            f"{self.done}/{self.total} done, {self.failed} failed, {remaining} remaining,"
            f" elapsed {_duration(elapsed)}, ETA {eta_text}"
        )

    def _info(self) -> str:
        return self._counts().split(", ", 1)[1]

    def _line(self, text: str) -> None:
        print(f"{self.label}: {text}", file=sys.stderr, flush=True)
