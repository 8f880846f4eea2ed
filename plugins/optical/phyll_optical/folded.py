"""The optical chain folded into one matrix, for when it is linear in the field.

Without a saturable absorber every step from the SLM values ``u`` (batch, inputs) to the
camera field is linear: blocks of pixels (the input pixel map), FFT, input aperture, ``T``,
output aperture, inverse FFT. So the camera field is ``E = u M`` with::

    M = S @ C,    S = input map (inputs, m_in),    C = T^T @ O (m_in, frame^2)

``S`` (row ``k``: the input-aperture modes of ``FFT2(B_k)``, ``B_k`` the pixel block of input
``k``) depends on the layout only; ``C``, the *fixed part* from the input aperture to the
camera, depends on ``T`` only (``O``: row ``j`` is ``IFFT2`` of output mode ``j`` alone), so
drift recomputes ``C`` and ``M`` but not ``S``. Another field entering the input aperture (e.g.
light shaped by SLM pixels outside the input region) adds ``a_extra @ C`` to ``E``.

``M`` is computed in complex128 and stored in float32 as a real matrix acting on real inputs:
``[Re M | Im M]`` for amplitude encoding (``u = x`` is real), and
``[[Re M, Im M], [-Im M, Re M]]`` acting on ``[cos(phi x), sin(phi x)]`` for phase encoding;
one real float32 product then gives ``[Re E | Im E]`` (half the arithmetic of a complex
product with a real left side). The result equals the step-by-step simulation up to float32
rounding.
"""

from __future__ import annotations

import attrs
import numpy as np
import scipy.fft


def output_fields(out_idx: np.ndarray, frame: int) -> np.ndarray:
    """``O`` (m_out, frame * frame) complex128: the camera field of each output-aperture mode
    alone (unit amplitude, unitary inverse FFT), rows in the order of ``out_idx``."""
    planes = np.zeros((out_idx.size, frame * frame), dtype=np.complex128)
    planes[np.arange(out_idx.size), out_idx] = 1.0
    fields = scipy.fft.ifft2(planes.reshape(-1, frame, frame), norm="ortho")
    return fields.reshape(out_idx.size, -1)


def fixed_part(matrix: np.ndarray, out_fields: np.ndarray) -> np.ndarray:
    """``C = T^T @ O`` (m_in, frame * frame) complex128: camera field per input-aperture mode."""
    return np.asarray(matrix, dtype=np.complex128).T @ out_fields


@attrs.frozen(eq=False)
class FoldedChain:
    """``M = S @ C`` (see the module docstring) ready for batched float32 products.

    ``field_matrix`` is ``M`` (inputs, frame^2) complex128; ``weights`` the real float32 form
    for the ``encoding`` (``amplitude``: (inputs, 2 P); ``phase``: (2 inputs, 2 P)).
    """

    field_matrix: np.ndarray
    weights: np.ndarray
    encoding: str
    phase_depth: float

    @classmethod
    def build(
        cls, input_map: np.ndarray, fixed: np.ndarray, encoding: str, phase_depth: float
    ) -> FoldedChain:
        m = np.asarray(input_map, dtype=np.complex128) @ fixed
        if encoding == "phase":
            top = np.hstack([m.real, m.imag])
            bottom = np.hstack([-m.imag, m.real])
            weights = np.vstack([top, bottom])
        else:
            weights = np.hstack([m.real, m.imag])
        return cls(m, np.ascontiguousarray(weights, dtype=np.float32), encoding, phase_depth)

    @property
    def pixels(self) -> int:
        """Camera pixels P = frame^2."""
        return int(self.field_matrix.shape[1])

    def stacked_field(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``[Re E | Im E]`` (batch, 2 P) float32 of the camera field for inputs ``x``, written
        into ``out`` when given (a float32 C-contiguous (batch, 2 P) buffer reused across
        chunks saves the page faults of a fresh allocation)."""
        x = np.asarray(x, dtype=np.float32)
        if self.encoding == "phase":
            phase = np.float32(self.phase_depth) * x
            x = np.hstack([np.cos(phase), np.sin(phase)])
        return np.matmul(x, self.weights, out=out)

    def camera_field(self, x: np.ndarray) -> np.ndarray:
        """Complex64 camera field (batch, P) for inputs ``x`` (batch, inputs)."""
        stacked = self.stacked_field(x)
        p = self.pixels
        return (stacked[:, :p] + 1j * stacked[:, p:]).astype(np.complex64)

    def reading(
        self, x: np.ndarray, detection: str, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Float32 noise-free camera reading (batch, P): ``|E|`` (``amplitude``) or ``|E|^2``
        (``intensity``), computed in place on the stacked field (in ``out``, if given: see
        :meth:`stacked_field`). The result is a view of the first half of that buffer."""
        stacked = self.stacked_field(x, out)
        p = self.pixels
        re, im = stacked[:, :p], stacked[:, p:]
        np.multiply(re, re, out=re)
        np.multiply(im, im, out=im)
        np.add(re, im, out=re)
        if detection == "amplitude":
            np.sqrt(re, out=re)
        return re
