"""The optical system: SLM -> Fourier plane -> transmission matrix -> camera.

For a batch of inputs ``x`` in ``[0, 1]^dim`` (all operations batched, complex64):

1. encode every component on the SLM, ``u = x`` (``amplitude``, the default) or
   ``u = exp(i phase_depth x)`` (``phase``), and write it as a block of pixels on the
   ``frame x frame`` SLM (:mod:`phyll_optical.layout`); dark pixels are 0;
2. a lens takes the SLM field to its Fourier plane: ``F = FFT2(E_slm)`` (unitary
   normalisation, so energy is conserved);
3. the input aperture keeps the ``m_in`` modes inside a disc (``a = F[input_mask]``); an
   optional thin saturable absorber in that plane transmits the intensity fraction
   ``1 - q0 / (1 + I / I_sat)`` of every mode.
   Steps 1-3 (up to the absorber) are linear in ``u``: the SLM field is ``sum_k u_k B_k``
   with ``B_k`` the indicator frame of block ``k``, so ``a = u S`` where row ``k`` of ``S``
   holds the aperture modes of ``FFT2(B_k)``. ``S`` is computed once with the FFT and a batch
   then costs one (batch, dim) x (dim, m_in) product instead of a full-frame FFT per sample
   (identical numbers; :meth:`OpticalSystem.fourier_plane` does the full FFT);
4. the fibre or cavity mixes the modes: ``b = T a`` (``m_out x m_in`` transmission matrix);
5. the modes ``b`` fill the output aperture of an otherwise dark Fourier plane and a second
   lens forms the camera image ``E_cam = IFFT2(G)``;
6. the camera reads ``|E_cam|`` (``amplitude``, published) or ``|E_cam|^2`` (``intensity``),
   with seeded Gaussian read noise, and the image is 3x3 average pooled with stride 2;
7. the pooled image, divided by the mean camera reading of a fixed reference batch (so the
   outputs are of order 1 whatever the sizes), is the output vector (row-major).

Without the absorber (``saturation`` 0, the default) steps 1-5 are linear in the field and are
folded into one precomputed matrix, ``E_cam = u M`` (:mod:`phyll_optical.folded`): a batch
costs one real float32 product, the detection and the pooling. The step-by-step methods below
(:meth:`OpticalSystem.camera_field`) remain the reference; both agree to float32 rounding.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import scipy.fft

from phyll_core.domain import Domain, Interval
from phyll_core.errors import ParameterError
from phyll_core.system import Controls, PhysicalSystem, SeededNoise
from phyll_optical.camera import DETECTIONS, average_pool, detect, pooled_side
from phyll_optical.folded import FoldedChain, fixed_part, output_fields
from phyll_optical.layout import LAYOUTS, SlmLayout
from phyll_optical.transmission import (
    SOURCES,
    Transmission,
    TransmissionMatrixError,
    load_transmission,
    mode_indices,
    phase_walk,
)

ENCODINGS = ("amplitude", "phase")
CHUNK_PIXELS = 4096 * 32 * 32
"""Camera pixels simulated at once (4,096 rows of the default 32x32 frame, 32 MB per complex64
array): bounds the memory of a large batch while keeping the FFTs and products large."""
FOLDED_CHUNK_PIXELS = 512 * 32 * 32
FOLD_MEMORY = 256 * 2**20
"""Bytes the folded chain may take (its complex128 intermediates included); a larger system
(e.g. ``frame=128``) is simulated step by step, which stores only ``T``."""
"""Camera pixels per chunk of the folded path (512 rows of a 32x32 frame: the float32 field
of a chunk, 4 MB, stays in cache)."""
REFERENCE_BATCH = 64
"""Size of the fixed random input batch that sets the intensity and output scales."""


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ParameterError(
            f"parameter '{name}' of system 'optical' must be one of {', '.join(choices)},"
            f" got {value!r}"
        )


@attrs.define(kw_only=True, eq=False)
class OpticalSystem(SeededNoise, PhysicalSystem):
    """A multimode fibre or cavity between an SLM and a camera (see the module docstring).

    Inputs: ``inputs`` values in ``[0, 1]``. Outputs: ``pooled_side(frame)^2`` pooled camera
    pixels (225 for the default 32x32 frame), non-negative, mean about 1. ``perturb`` applies a
    random phase walk to T (fibre bending). Same ``seed`` -> same T, same reference scale and
    the same camera-noise sequence. ``fold`` (default) simulates the chain as one matrix when
    it is linear in the field (``saturation`` 0); ``fold=False`` simulates it step by step
    (the reference, slower; same outputs to float32 rounding).
    """

    name = "optical"
    inputs: int = 20
    frame: int = 32
    layout: str = "vector"
    block: int = 0
    image_side: int = 0
    encoding: str = "amplitude"
    phase_depth: float = float(np.pi)
    aperture: float = 0.375
    output_aperture: float = 0.0
    matrix: str = "gaussian"
    matrix_file: str = ""
    detection: str = "amplitude"
    saturation: float = 0.0
    absorption: float = 0.5
    noise: float = 0.0
    fold: bool = True
    phase_mask: bool = False
    seed: int = 0

    slm: SlmLayout = attrs.field(init=False, repr=False)
    transmission: Transmission = attrs.field(init=False, repr=False)
    _t_work: np.ndarray = attrs.field(init=False, repr=False)
    _in_idx: np.ndarray = attrs.field(init=False, repr=False)
    _input_map: np.ndarray = attrs.field(init=False, repr=False)  # S, complex128
    _block_modes: np.ndarray = attrs.field(init=False, repr=False)  # S, complex64 working copy
    _out_idx: np.ndarray = attrs.field(init=False, repr=False)
    _out_fields: np.ndarray | None = attrs.field(init=False, repr=False, default=None)
    _fixed: np.ndarray = attrs.field(  # C, set when folded
        init=False, repr=False, factory=lambda: np.zeros((0, 0), dtype=np.complex128)
    )
    _folded: FoldedChain | None = attrs.field(init=False, repr=False, default=None)
    _mode_intensity: float = attrs.field(init=False, repr=False, default=1.0)
    _scale: float = attrs.field(init=False, repr=False, default=1.0)
    _noise_rng: np.random.Generator = attrs.field(init=False, repr=False)
    _plain_map: np.ndarray = attrs.field(init=False, repr=False)  # S without the phase mask
    _mask: np.ndarray = attrs.field(init=False, repr=False, factory=lambda: np.zeros(0))

    def __attrs_post_init__(self) -> None:
        self._check_params()
        t_seed, ref_seed, noise_seed = np.random.SeedSequence(self.seed).spawn(3)
        self.slm = SlmLayout.build(
            self.inputs, self.frame, self.layout, self.block, self.image_side
        )
        self.transmission = self._make_transmission(np.random.default_rng(t_seed))
        self._in_idx = mode_indices(self.transmission.input_mask)
        self._out_idx = mode_indices(self.transmission.output_mask)
        blocks = self.slm.write(np.eye(self.inputs, dtype=np.complex128))
        spectra = scipy.fft.fft2(blocks, norm="ortho").reshape(self.inputs, -1)
        self._input_map = np.ascontiguousarray(spectra[:, self._in_idx])
        self._block_modes = self._input_map.astype(np.complex64)
        self._plain_map = self._input_map
        self._mask = np.zeros(self.inputs)
        self._set_matrix(self.transmission.matrix)
        self._calibrate(np.random.default_rng(ref_seed))
        self._noise_rng = np.random.default_rng(noise_seed)

    def _check_params(self) -> None:
        _choice("layout", self.layout, LAYOUTS)
        _choice("encoding", self.encoding, ENCODINGS)
        _choice("matrix", self.matrix, SOURCES)
        _choice("detection", self.detection, DETECTIONS)
        bounds: dict[str, tuple[float, float | None]] = {
            "inputs": (1, None),
            "frame": (3, None),
            "block": (0, None),
            "image_side": (0, None),
            "phase_depth": (0.0, 2 * np.pi),
            "aperture": (0.0, 1.0),
            "output_aperture": (0.0, 1.0),
            "saturation": (0.0, None),
            "absorption": (0.0, 1.0),
            "noise": (0.0, None),
            "seed": (0, None),
        }
        for key, (low, high) in bounds.items():
            value = getattr(self, key)
            if not np.isfinite(value) or value < low or (high is not None and value > high):
                span = f"[{low:g}, {high:g}]" if high is not None else f">= {low:g}"
                raise ParameterError(
                    f"parameter '{key}' of system 'optical' must be {span}, got {value!r}"
                )
        if self.matrix == "file" and not self.matrix_file:
            raise ParameterError("matrix=file needs matrix_file=PATH (.npz or .mat)")
        if self.matrix != "file" and self.matrix_file:
            raise ParameterError(
                f"matrix_file is only read with matrix=file (got matrix={self.matrix})"
            )
        if self.matrix != "file" and self.aperture == 0:
            raise ParameterError("parameter 'aperture' of system 'optical' must be > 0")

    def _make_transmission(self, rng: np.random.Generator) -> Transmission:
        if self.matrix == "file":
            loaded = load_transmission(self.matrix_file)
            if loaded.frame != self.frame:
                raise TransmissionMatrixError(
                    f"{self.matrix_file}: the aperture masks are {loaded.frame}x{loaded.frame}"
                    f" but frame={self.frame}; set --param frame={loaded.frame}"
                )
            return loaded
        nyquist = self.frame / 2
        out_fraction = self.output_aperture or self.aperture
        return Transmission.synthesise(
            self.matrix, self.frame, self.aperture * nyquist, out_fraction * nyquist, rng
        )

    def _set_matrix(self, matrix: np.ndarray) -> None:
        self.transmission = attrs.evolve(self.transmission, matrix=matrix)
        self._t_work = np.ascontiguousarray(matrix.T.astype(np.complex64))
        self._folded = None
        if self.fold and self.saturation == 0 and self.fold_bytes() <= FOLD_MEMORY:
            # linear in the field: fold into one matrix
            if self._out_fields is None:  # the camera field of each output mode, kept
                self._out_fields = output_fields(self._out_idx, self.frame)
            self._fixed = fixed_part(matrix, self._out_fields)
            self._folded = FoldedChain.build(
                self._input_map, self._fixed, self.encoding, self.phase_depth
            )

    def fold_bytes(self) -> int:
        """Bytes the folded chain would take: the output-mode fields ``O`` and the fixed part
        ``C`` (complex128, ``m x frame^2`` each), ``M`` and its float32 real form."""
        m_out, m_in = self.transmission.modes
        return 16 * self.frame**2 * (m_out + m_in + 2 * self.inputs)

    def _calibrate(self, rng: np.random.Generator) -> None:
        """Fix the intensity unit of the absorber (mean mode intensity in the input aperture)
        and the output scale (mean camera reading) on a fixed random reference batch."""
        x = self.domain.sample(rng, (REFERENCE_BATCH, self.inputs))
        modes = self.aperture_modes(x)
        self._mode_intensity = float(np.mean(np.abs(modes) ** 2)) or 1.0
        reading = detect(self._camera_from_modes(modes), self.detection)
        self._scale = float(np.mean(reading)) or 1.0

    # -- trainable controls: an SLM phase mask added to the input phase ---------------------
    @property
    def controls(self) -> Controls | None:
        """With ``phase_mask``: a phase ``phi_k`` in ``[0, 2 pi]`` added on every pixel of
        input block ``k`` (``u_k -> u_k exp(i phi_k)``, i.e. ``S -> diag(exp(i phi)) S``),
        initially 0 (the plain system)."""
        if not self.phase_mask:
            return None
        return Controls(
            self.inputs, Interval(0.0, 2 * np.pi), "SLM phase of each input block", periodic=True
        )

    def _get_controls(self) -> np.ndarray:
        return self._mask.copy()

    def _set_controls(self, theta: np.ndarray) -> None:
        self._mask = theta.copy()
        # the folded chain takes raw x: fold the mask into its input map; the step-by-step
        # path applies it in encode() and keeps the plain S (_block_modes)
        self._input_map = np.exp(1j * theta)[:, None] * self._plain_map
        if self._folded is not None:  # refold S C only (C, the part after the SLM, is kept)
            self._folded = FoldedChain.build(
                self._input_map, self._fixed, self.encoding, self.phase_depth
            )

    # -- the contract ------------------------------------------------------------------------
    @property
    def noisy(self) -> bool:
        """Noisy whenever ``noise`` is on."""
        return self.noise > 0

    @property
    def input_dim(self) -> int:
        return self.inputs

    @property
    def output_dim(self) -> int:
        return pooled_side(self.frame) ** 2

    @property
    def domain(self) -> Domain:
        return Interval(0.0, 1.0)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        out = np.empty((x.shape[0], self.output_dim), dtype=np.float64)
        chunk = CHUNK_PIXELS if self._folded is None else FOLDED_CHUNK_PIXELS
        rows = max(1, chunk // self.frame**2)
        buffer = None
        if self._folded is not None:  # one work buffer for every chunk
            buffer = np.empty((min(rows, x.shape[0]), 2 * self.frame**2), dtype=np.float32)
        for start in range(0, x.shape[0], rows):
            stop = min(start + rows, x.shape[0])
            reading = self._reading(x[start:stop], buffer)
            if self.noise > 0:
                noise = self._noise_rng.standard_normal(reading.shape, dtype=np.float32)
                reading += np.float32(self.noise * self._scale) * noise
            pooled = average_pool(reading)
            out[start:stop] = pooled.reshape(pooled.shape[0], -1) / self._scale
        return out

    def _reading(self, x: np.ndarray, buffer: np.ndarray | None = None) -> np.ndarray:
        """Float32 noise-free camera readings (batch, frame, frame): folded when linear (in
        the rows of ``buffer`` if given)."""
        if self._folded is not None:
            out = None if buffer is None else buffer[: x.shape[0]]
            reading = self._folded.reading(x, self.detection, out)
            return reading.reshape(-1, self.frame, self.frame)
        return detect(self._camera_from_modes(self.aperture_modes(x)), self.detection)

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        if strength == 0:
            return
        self._set_matrix(phase_walk(self.transmission.matrix, strength, rng))

    # -- the optics, step by step (public for figures and tests) ------------------------------
    def encode(self, x: np.ndarray) -> np.ndarray:
        """Complex64 SLM values (batch, inputs): ``exp(i phase_depth x)`` or ``x``, times
        ``exp(i phi)`` of the phase mask (controls) when there is one."""
        x = np.asarray(x, dtype=np.float32)
        if self.encoding == "phase":
            u = np.exp(1j * np.float32(self.phase_depth) * x).astype(np.complex64)
        else:
            u = x.astype(np.complex64)
        if self.phase_mask:
            u *= np.exp(1j * self._mask).astype(np.complex64)
        return u

    def slm_frames(self, x: np.ndarray) -> np.ndarray:
        """Complex64 SLM fields (batch, frame, frame) for inputs ``x`` (batch, inputs)."""
        return self.slm.write(self.encode(x))

    def fourier_plane(self, x: np.ndarray) -> np.ndarray:
        """Complex64 (batch, frame, frame) field in the Fourier plane of the SLM (unshifted
        FFT layout, unitary normalisation), before the input aperture."""
        return scipy.fft.fft2(self.slm_frames(x), norm="ortho", overwrite_x=True)

    def aperture_modes(self, x: np.ndarray) -> np.ndarray:
        """Complex64 (batch, m_in) field of the input-aperture modes (before the absorber):
        ``encode(x) @ S``, equal to ``fourier_plane(x)`` at the input aperture."""
        return self.encode(x) @ self._block_modes

    def absorb(self, modes: np.ndarray) -> np.ndarray:
        """Saturable absorber on the input-aperture modes: intensity transmission
        ``1 - q0 / (1 + I / I_sat)``, with ``I`` in units of the reference mean mode
        intensity (identity when ``saturation`` is 0)."""
        if self.saturation == 0:
            return modes
        intensity = (modes.real**2 + modes.imag**2) / np.float32(self._mode_intensity)
        loss = np.float32(self.absorption) / (1 + intensity / np.float32(self.saturation))
        return modes * np.sqrt(1 - loss)

    @property
    def folded(self) -> FoldedChain | None:
        """The chain folded into one matrix (``None`` with a saturable absorber, which makes
        the chain nonlinear in the field); ``forward`` uses it when present."""
        return self._folded

    def camera_field(self, x: np.ndarray) -> np.ndarray:
        """Complex64 (batch, frame, frame) field on the camera for inputs ``x`` (no noise),
        simulated step by step (the reference for the folded path)."""
        return self._camera_from_modes(self.aperture_modes(x))

    def _camera_from_modes(self, modes: np.ndarray) -> np.ndarray:
        out_modes = self.absorb(modes) @ self._t_work
        plane = np.zeros((modes.shape[0], self.frame * self.frame), dtype=np.complex64)
        plane[:, self._out_idx] = out_modes
        planes = plane.reshape(modes.shape[0], self.frame, self.frame)
        return scipy.fft.ifft2(planes, norm="ortho", overwrite_x=True)

    def status(self) -> dict[str, Any]:
        m_out, m_in = self.transmission.modes
        return {
            "modes in / out": f"{m_in} / {m_out}",
            "transmission": self.transmission.source,
            "simulation": "folded matrix" if self._folded is not None else "step by step",
        }
