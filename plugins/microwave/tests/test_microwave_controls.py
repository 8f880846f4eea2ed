"""Control meta-atoms: a second row whose bits are trainable controls (binary)."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_microwave import MicrowaveCavity

from phyll_core.errors import ParameterError, PhysicalInputError
from phyll_core.testing import check_system


@pytest.mark.parametrize(
    "params", [{}, {"encoding": "binary", "atoms": 12}, {"noise": 0.01}], ids=str
)
def test_conformance_with_control_atoms(params: dict[str, object]) -> None:
    check_system(lambda seed: MicrowaveCavity(seed=seed, control_atoms=8, **params))


def test_no_control_atoms_leaves_the_system_as_it_was(cavity: MicrowaveCavity) -> None:
    assert cavity.controls is None
    x = np.random.default_rng(0).random((5, 20))
    assert np.array_equal(MicrowaveCavity(control_atoms=0).forward(x), cavity.forward(x))


def test_control_bits_sit_on_the_second_row_and_act_by_multiple_scattering() -> None:
    s = MicrowaveCavity(control_atoms=10, seed=3)
    spec = s.controls
    assert spec is not None and spec.shape == (10,) and spec.domain.describe() == "{0, 1}"
    g = s.geometry
    assert g.n_atoms == 50
    assert np.allclose(g.atoms[40:, 1], g.atoms[0, 1] + 0.5)  # the control row
    x = np.random.default_rng(1).random((6, 20))
    theta = np.zeros(10)
    theta[::2] = 1
    s.set_controls(theta)
    on = s.configuration(x)
    assert on.shape == (6, 50) and np.array_equal(on[:, 40:], np.broadcast_to(theta > 0, (6, 10)))
    # the dense full solve of the same 50-atom configurations agrees with the fast path
    dense = MicrowaveCavity(control_atoms=10, seed=3, solver="dense")
    dense.set_controls(theta)
    assert np.allclose(dense.forward(x), s.forward(x), rtol=1e-9, atol=1e-12)
    # turning one control meta-atom on changes |H|: it is coupled to the others
    y0 = s.forward(x)
    theta[1] = 1
    s.set_controls(theta)
    assert np.max(np.abs(s.forward(x) - y0)) > 1e-4 * y0.mean()


def test_bad_control_settings_are_refused() -> None:
    with pytest.raises(ParameterError, match="control meta-atoms"):
        MicrowaveCavity(control_atoms=60)
    with pytest.raises(ParameterError, match="control_atoms"):
        MicrowaveCavity(control_atoms=-1)
    s = MicrowaveCavity(control_atoms=4)
    with pytest.raises(PhysicalInputError, match="microwave"):
        s.set_controls([0, 1, 0.5, 1])
