"""Sweeps: many training runs (systems x rules x datasets x options x seeds), run on Dask or in
this process, stored one JSON per run and summarised as one table.

Modules: :mod:`~phyll_core.sweep.grid` (the grid and its expansion into runs),
:mod:`~phyll_core.sweep.run` (one run, as executed on a worker),
:mod:`~phyll_core.sweep.execute` (local or Dask execution with resume),
:mod:`~phyll_core.sweep.store` (result files and ``results.csv``),
:mod:`~phyll_core.sweep.columns` (configuration columns),
:mod:`~phyll_core.sweep.summary` (mean ± std over seeds), :mod:`~phyll_core.sweep.progress`
and :mod:`~phyll_core.sweep.plot`. Importing this package imports neither Dask nor matplotlib.
"""

from __future__ import annotations
