"""A daemon thread for device calls that must be abandonable at a deadline (``hard_timeout``)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from phyll_core.hardware.errors import DeviceTimeoutError


class CallWorker:
    """One daemon thread running device calls, so that a call can be abandoned at a deadline.

    After a timeout the caller drops the worker (the stuck thread finishes or dies with the
    process) and a fresh one takes over."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=_worker_loop, args=(self._jobs,), name="phyll-device-call", daemon=True
        )
        self._thread.start()

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Any:
        """Run ``fn(*args)`` on the worker; raise DeviceTimeoutError after ``timeout`` s."""
        done = threading.Event()
        box: list[Any] = []
        self._jobs.put((fn, args, done, box))
        if not done.wait(timeout):
            raise DeviceTimeoutError(f"no answer within the timeout of {timeout:g} s")
        ok, value = box[0]
        if ok:
            return value
        raise value

    def stop(self) -> None:
        self._jobs.put(None)


def _worker_loop(jobs: queue.SimpleQueue[Any]) -> None:
    while True:
        job = jobs.get()
        if job is None:
            return
        fn, args, done, box = job
        try:
            box.append((True, fn(*args)))
        except BaseException as exc:  # handed to the caller
            box.append((False, exc))
        finally:
            done.set()
        del fn, args, done, box, job  # drop references to the caller's objects
