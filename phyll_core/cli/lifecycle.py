"""The life cycle of a ``phyll train`` run on disk: where it is saved, when, and what survives.

* **Where**: ``--out DIR``, or by default a new ``runs/<date-time>-<system>-<dataset>/``;
  ``--no-save`` writes nothing. A folder that already holds a run is never overwritten
  unless ``--force`` (or it is the run being resumed). The folder is checked writable, and an
  epoch-0 checkpoint written, before any training.
* **When**: every ``--checkpoint-every`` epochs and/or seconds, after an interrupt (Ctrl-C or
  SIGTERM: saved before any further physical query), after an error of the system (the last
  completed epoch), and at the end. Each save is one atomic step
  (:func:`~phyll_core.engine.checkpoint.save_checkpoint`); a signal arriving during a save is
  held until the save is complete.
* **Progress**: a bar on a terminal; plain lines on stderr otherwise (every tenth of the run
  or every ~10 s); nothing with ``-q``.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from phyll_core import interrupts
from phyll_core.errors import PhyllError

OUTPUTS = ("latest", "checkpoint.json", "weights.npz", "metrics.csv", "curves.png",
           "confusion.png")
PROGRESS_SECONDS = 10.0
LOCK = ".phyll-train.lock"


# -- where -----------------------------------------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text).strip("-.") or "run"


def default_folder(systems: tuple[str, ...], dataset: str, root: Path = Path("runs")) -> Path:
    """A new ``runs/<date-time>-<system>-<dataset>`` folder name (suffixed if taken)."""
    source, _, argument = dataset.partition(":")
    data = Path(argument).stem if argument else source
    base = f"{time.strftime('%Y%m%d-%H%M%S')}-{_slug('+'.join(dict.fromkeys(systems)))}"
    base += f"-{_slug(data)}"
    folder, n = root / base, 2
    while folder.exists():
        folder, n = root / f"{base}-{n}", n + 1
    return folder


def existing_outputs(folder: Path) -> list[str]:
    """The names of phyll's outputs already present in ``folder``."""
    return [n for n in OUTPUTS if (folder / n).exists() or (folder / n).is_symlink()]


def prepare_folder(folder: Path, *, force: bool, resuming: bool) -> bool:
    """Refuse to overwrite a run in ``folder`` (unless ``force`` or ``resuming`` it), create
    the folder and check that a file can be written there: before any training. Returns
    whether the folder was created (see :func:`discard_folder`)."""
    if folder.exists() and not folder.is_dir():
        raise PhyllError(f"--out {folder}: exists and is not a folder")
    taken = existing_outputs(folder) if folder.is_dir() else []
    if taken and not (force or resuming):
        raise PhyllError(
            f"--out {folder} already holds a run ({', '.join(taken[:3])}); choose another"
            f" folder, continue it with --resume {folder}, or replace it with --force"
        )
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".phyll-write-test-{time.time_ns()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PhyllError(f"--out {folder}: cannot write there ({exc.strerror or exc})") from None
    return created


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the run folder while training, so that two ``phyll train``
    never write the same folder; the operating system releases it when the process ends,
    even after ``kill -9``. POSIX only (elsewhere no lock is taken)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    import os

    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise PhyllError(
                f"--out {folder}: another phyll train is writing this folder ({holder})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def discard_folder(folder: Path) -> None:
    """Remove ``folder`` if it is still empty (a run that failed before its first save), and
    the default ``runs`` folder above it if that is empty too."""
    with contextlib.suppress(OSError):
        (folder / LOCK).unlink(missing_ok=True)
        folder.rmdir()
        if folder.parent.name == "runs":
            folder.parent.rmdir()


# -- when ------------------------------------------------------------------------------------
@attrs.frozen
class Cadence:
    """Save every ``epochs`` epochs and/or every ``seconds`` seconds (``None``: not by that)."""

    epochs: int | None = None
    seconds: float | None = None

    @classmethod
    def parse(cls, text: str) -> Cadence:
        """``"10"`` (epochs), ``"60s"``, ``"5m"``, ``"1h"`` (time), ``"10,60s"`` (both, the
        first that is due), ``"off"`` (only at the end, on interrupt and on error)."""
        epochs = seconds = None
        if text.strip().lower() in ("off", "0", "never", "none"):
            return cls()
        for part in (p.strip().lower() for p in text.split(",") if p.strip()):
            match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh]?)", part)
            if not match or float(match[1]) <= 0:
                raise PhyllError(
                    f"--checkpoint-every expects N (epochs), Ns/Nm/Nh (time), both as"
                    f" 'N,Ms', or 'off'; got {text!r}"
                )
            if match[2]:
                seconds = float(match[1]) * {"s": 1, "m": 60, "h": 3600}[match[2]]
            elif float(match[1]).is_integer():
                epochs = int(float(match[1]))
            else:
                raise PhyllError(f"--checkpoint-every: epochs must be whole, got {part!r}")
        return cls(epochs, seconds)


class Saver:
    """Saves ``run`` into ``folder`` by :class:`Cadence` and on demand (``folder=None``: never).
    ``last`` is the epoch of the last save."""

    def __init__(self, folder: Path | None, cadence: Cadence) -> None:
        self.folder, self.cadence = folder, cadence
        self.last: int | None = None
        self._at = time.monotonic()

    def due(self, epoch: int) -> bool:
        c = self.cadence
        by_epoch = c.epochs is not None and epoch % c.epochs == 0
        by_time = c.seconds is not None and time.monotonic() - self._at >= c.seconds
        return by_epoch or by_time

    def save(self, run: Any, *, final: bool = False) -> None:
        """Save now (signals held until the save is complete)."""
        from phyll_core.engine.checkpoint import save_checkpoint

        if self.folder is None:
            return
        with held_signals():
            save_checkpoint(run, self.folder, final=final)
        self.last, self._at = run.epoch, time.monotonic()

    def after_epoch(self, run: Any) -> None:
        if self.due(run.epoch):
            self.save(run)


# -- signals ---------------------------------------------------------------------------------
@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises KeyboardInterrupt, as Ctrl-C does."""
    if not interrupts.in_main_thread():
        yield
        return

    old = signal.signal(signal.SIGTERM, interrupts.raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """SIGINT and SIGTERM arriving within the block are held and raised as KeyboardInterrupt
    when it ends, so a save is never cut short by a second Ctrl-C."""
    if not interrupts.in_main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        caught.append(signum)

    old = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if caught:
        raise interrupts.Interrupted


# -- progress --------------------------------------------------------------------------------
def epoch_text(m: Any) -> str:
    loss = sum(m.losses.values()) / max(len(m.losses), 1)
    acc = f" test {m.test_accuracy:.3f}" if m.test_accuracy is not None else ""
    return f"loss {loss:.4f}{acc}"


@contextlib.contextmanager
def progress(run: Any, target: int, quiet: bool) -> Iterator[Callable[[Any], None]]:
    """A callback reporting each epoch: a rich bar on a terminal, plain lines on stderr
    otherwise (every ``max(1, target // 10)`` epochs, every ~10 s, and the last), none if
    ``quiet``."""
    from phyll_core.cli.output import stderr_console

    console = stderr_console()
    if quiet:
        yield lambda m: None
        return
    if not console.is_terminal:
        every, state = max(1, target // 10), {"at": time.monotonic()}

        def line(m: Any) -> None:
            now = time.monotonic()
            if m.epoch % every == 0 or m.epoch == target or now - state["at"] >= PROGRESS_SECONDS:
                state["at"] = now
                print(f"train: epoch {m.epoch}/{target} {epoch_text(m)} ({run.seconds:.1f} s)",
                      file=sys.stderr, flush=True)

        yield line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"), console=console, transient=False,
    ) as bar:
        task = bar.add_task("train", total=target, completed=run.epoch, info="")
        yield lambda m: bar.update(task, completed=m.epoch, info=epoch_text(m))


# -- outputs ---------------------------------------------------------------------------------
def write_reports(run: Any, folder: Path, note: Callable[[str], None]) -> None:
    """``metrics.csv`` and (with matplotlib) accuracy/loss and confusion PNGs."""
    import csv

    from phyll_core.io import atomic_open
    from phyll_core.plots import have_matplotlib, plot_confusion, plot_curves

    rows = [m.row() for m in run.history]
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_open(folder / "metrics.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    if not have_matplotlib():
        note("note: install matplotlib (pip install 'phyll-core[plot]') for PNG plots")
        return
    history = [m.row() | {"losses": m.losses} for m in run.history]
    plot_curves(history, folder / "curves.png", f"{run.config.rule} on {run.config.dataset}")
    d = run.data
    plot_confusion(
        d.y_test, run.rule.predict(d.x_test, run.method), list(d.class_names),
        folder / "confusion.png", method=run.method,
    )
