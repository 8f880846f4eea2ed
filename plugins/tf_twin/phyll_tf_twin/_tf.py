"""The one place that imports TensorFlow, lazily.

Nothing in :mod:`phyll_tf_twin.plugin` imports TensorFlow: the functions that build, fit or use a
twin call :func:`tensorflow` (or :func:`seed_everything`) when they run. Whether TensorFlow is
installed is checked without importing it (:func:`tensorflow_available`), so that listing
commands stay fast and a missing TensorFlow is reported instead of crashing phyll.
"""

from __future__ import annotations

import importlib.util
import os
import sys
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


def tensorflow() -> Any:
    """Import and return the ``tensorflow`` module (C++ log noise silenced unless the user set
    ``TF_CPP_MIN_LOG_LEVEL``, Python warnings silenced when phyll imports it first); raise
    :class:`PluginError` with the install hint when it is missing or broken."""
    first = "tensorflow" not in sys.modules
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise PluginError(f"{INSTALL_HINT} ({exc})") from None
    if first:  # phyll's own import: keep TensorFlow's Python warnings (retracing notes) quiet
        tf.get_logger().setLevel("ERROR")
    return tf


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
