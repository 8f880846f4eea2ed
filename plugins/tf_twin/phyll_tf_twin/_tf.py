"""The one place that imports TensorFlow, lazily.

Nothing in :mod:`phyll_tf_twin.plugin` imports TensorFlow: the functions that build, fit or use a
twin call :func:`tensorflow` (or :func:`seed_everything`) when they run. Whether TensorFlow is
installed is checked without importing it (:func:`tensorflow_available`), so that listing
commands stay fast and a missing TensorFlow is reported instead of crashing phyll.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from phyll_core.errors import PluginError

INSTALL_HINT = "phyll-tf-twin needs TensorFlow: pip install tensorflow-cpu"


def tensorflow_available() -> bool:
    """True when ``import tensorflow`` can succeed (checked without importing it)."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"] is not None
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


#: C++ lines TensorFlow writes to stderr while it is imported, before its log level applies
#: (absl's pre-initialisation warning, the oneDNN and CPU-feature notes): dropped on import.
IMPORT_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} [\d:. ]+\d+ \S+:\d+\]"
    r"|To enable the following instructions:"
    r"|\S+ \d+:\d+:\d+\.\d+: I )"
)


def tensorflow() -> Any:
    """Import and return the ``tensorflow`` module; raise :class:`PluginError` with the install
    hint when it is missing or broken.

    Unless the user chose ``TF_CPP_MIN_LOG_LEVEL`` (or ``PHYLL_TF_VERBOSE=1``), the import is
    quiet: the C++ log level is set to errors only before TensorFlow loads, the info and warning
    lines its libraries print before that level applies (absl, oneDNN, CPU features) are
    dropped, anything else it wrote to stderr is passed on, and TensorFlow's Python and absl
    loggers are set to errors."""
    first = "tensorflow" not in sys.modules
    quiet = "TF_CPP_MIN_LOG_LEVEL" not in os.environ and os.environ.get("PHYLL_TF_VERBOSE") != "1"
    if first and quiet:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    try:
        if first and quiet:
            with _filtered_stderr():
                import tensorflow as tf
        else:
            import tensorflow as tf
    except ImportError as exc:
        raise PluginError(f"{INSTALL_HINT} ({exc})") from None
    if first and quiet:  # phyll's own import: TensorFlow's Python warnings (retracing notes) too
        tf.get_logger().setLevel("ERROR")
        try:
            from absl import logging as absl_logging

            absl_logging.set_verbosity(absl_logging.ERROR)
        except ImportError:  # absl-py comes with TensorFlow; nothing to quiet without it
            pass
    return tf


@contextlib.contextmanager
def _filtered_stderr() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block, then write back to stderr every
    line that is not :data:`IMPORT_NOISE` (C++ libraries write to the descriptor, not to
    ``sys.stderr``)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real descriptor (captured stream)
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            kept = [ln for ln in text.splitlines(keepends=True) if not IMPORT_NOISE.match(ln)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def seed_everything(seed: int) -> Any:
    """Seed Python, NumPy and TensorFlow and make TensorFlow's kernels deterministic, so the
    same seed gives the same twin; returns the ``tensorflow`` module."""
    tf = tensorflow()
    tf.keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()
    return tf


def versions() -> dict[str, str]:
    """Versions of the libraries a twin file depends on (recorded in its metadata)."""
    from importlib import metadata

    import numpy as np

    tf = tensorflow()
    out = {
        "python": ".".join(map(str, sys.version_info[:3])),
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "keras": getattr(tf.keras, "__version__", "?"),
    }
    for dist in ("phyll-core", "phyll-tf-twin"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "?"
    return out
