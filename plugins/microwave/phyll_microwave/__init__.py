"""phyll-microwave: a reverberant microwave enclosure programmed by a 1-bit metasurface,
simulated with the coupled-dipole PhysFad model (Faqiri et al., IEEE TWC 2022).

Public API: :class:`MicrowaveCavity` (the ``microwave`` system), the geometry
(:class:`Geometry`, :func:`default_geometry`, :func:`drift`), the physics
(:class:`DipoleModel` and the solvers :class:`WoodburySolver`, :class:`SchurSolver`,
:class:`DenseSolver`) and the input encoding (:func:`to_bits`).
"""

from phyll_microwave.encoding import from_bits, levels, to_bits
from phyll_microwave.geometry import Geometry, default_geometry, drift
from phyll_microwave.solvers import DenseSolver, DipoleModel, SchurSolver, WoodburySolver
from phyll_microwave.system import MicrowaveCavity

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
