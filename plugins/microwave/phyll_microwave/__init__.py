"""phyll-microwave: a reverberant microwave enclosure programmed by a 1-bit metasurface,
simulated with the coupled-dipole PhysFad model (Faqiri et al., IEEE TWC 2022).

Public API: :class:`MicrowaveCavity` (the ``microwave`` system), the geometry
(:class:`Geometry`, :func:`default_geometry`, :func:`drift`), the physics
(:class:`DipoleModel` and the solvers :class:`WoodburySolver`, :class:`SchurSolver`,
:class:`DenseSolver`) and the input encoding (:func:`to_bits`).

The names are imported on first use (PEP 562), so that phyll's plugin loader, which imports
:mod:`phyll_microwave.plugin` for ``phyll --help``, does not pull in SciPy's special functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from phyll_core.lazy import lazy_exports

if TYPE_CHECKING:
    from phyll_microwave.encoding import from_bits, levels, to_bits
    from phyll_microwave.geometry import Geometry, default_geometry, drift
    from phyll_microwave.solvers import DenseSolver, DipoleModel, SchurSolver, WoodburySolver
    from phyll_microwave.system import MicrowaveCavity

_HOMES = {
    "from_bits": "encoding",
    "levels": "encoding",
    "to_bits": "encoding",
    "Geometry": "geometry",
    "default_geometry": "geometry",
    "drift": "geometry",
    "DenseSolver": "solvers",
    "DipoleModel": "solvers",
    "SchurSolver": "solvers",
    "WoodburySolver": "solvers",
    "MicrowaveCavity": "system",
}

__all__ = [
    "DenseSolver",
    "DipoleModel",
    "Geometry",
    "MicrowaveCavity",
    "SchurSolver",
    "WoodburySolver",
    "default_geometry",
    "drift",
    "from_bits",
    "levels",
    "to_bits",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
