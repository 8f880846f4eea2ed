"""The transmission matrix T of the multimode fibre or cavity, and its Fourier-plane apertures.

Modes are the pixels of the (centred) Fourier plane that lie inside an aperture mask, in
row-major order of the centred plane (zero frequency at pixel ``(frame // 2, frame // 2)``).
``T`` maps the ``m_in`` modes of the input aperture to the ``m_out`` modes of the output
aperture: ``modes_out = T @ modes_in``.

Three sources of T:

* ``gaussian``: i.i.d. circular complex Gaussian entries of variance ``1 / m_out`` (a thick
  scattering medium; singular values follow the Marchenko-Pastur law; the energy is conserved
  on average, ``E ||T u||^2 = ||u||^2``);
* ``unitary``: a Haar-random unitary (a lossless, strongly mode-coupling fibre), drawn by the
  QR decomposition of a complex Gaussian matrix with the phases of R's diagonal divided out
  (Mezzadri, Notices AMS 54, 592, 2007); for unequal apertures, the top-left ``m_out x m_in``
  block of a Haar unitary of size ``max(m_in, m_out)`` (a truncated unitary);
* a measured T loaded from a ``.npz`` or MATLAB ``.mat`` file with the arrays ``T``
  (``m_out x m_in`` complex), ``input_mask`` and ``output_mask`` (``frame x frame``, 0/1 or
  boolean, centred Fourier plane) -- see :func:`load_transmission`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import attrs
import numpy as np

from phyll_core.errors import PhyllError

KEYS = ("T", "input_mask", "output_mask")
SOURCES = ("gaussian", "unitary", "file")


class TransmissionMatrixError(PhyllError, ValueError):
    """A transmission-matrix file is missing, unreadable, lacks a key, or its arrays disagree."""


def circular_mask(frame: int, radius: float) -> np.ndarray:
    """Boolean (frame, frame) disc of ``radius`` pixels around the centred zero frequency."""
    k = np.arange(frame) - frame // 2
    return (k[:, None] ** 2 + k[None, :] ** 2) <= radius**2


def mode_indices(mask: np.ndarray) -> np.ndarray:
    """Flat indices, in the *unshifted* FFT layout, of the modes of a centred ``mask``, in the
    row-major order of the centred plane (the order of T's rows or columns)."""
    frame = mask.shape[0]
    rows, cols = np.nonzero(mask)
    return ((rows - frame // 2) % frame) * frame + (cols - frame // 2) % frame


def gaussian_matrix(m_out: int, m_in: int, rng: np.random.Generator) -> np.ndarray:
    """i.i.d. circular complex Gaussian (m_out, m_in) matrix with entry variance 1/m_out."""
    z = rng.standard_normal((m_out, m_in)) + 1j * rng.standard_normal((m_out, m_in))
    return z / np.sqrt(2.0 * m_out)


def haar_unitary(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed (n, n) unitary matrix (QR of a Ginibre matrix, phases fixed)."""
    z = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / np.sqrt(2.0)
    q, r = np.linalg.qr(z)
    d = np.diagonal(r)
    return q * (d / np.abs(d))[None, :]


def unitary_matrix(m_out: int, m_in: int, rng: np.random.Generator) -> np.ndarray:
    """The top-left (m_out, m_in) block of a Haar unitary of size max(m_out, m_in) (exactly
    unitary when the apertures hold as many modes)."""
    return haar_unitary(max(m_out, m_in), rng)[:m_out, :m_in]


def phase_walk(matrix: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """One step of a random phase walk of T, as bending the fibre would do.

    In coupled-mode theory a small change of the fibre adds a Hermitian term ``H`` to the
    mode-coupling Hamiltonian, so the field picks up ``exp(i strength H)`` after T. ``H`` is
    drawn from the Gaussian unitary ensemble scaled to unit RMS eigenvalue: in the eigenbasis
    of ``H`` every mode's phase moves by ``strength * lambda_k`` radians. Unitary T stay
    unitary and i.i.d. Gaussian T stay i.i.d. Gaussian (in distribution).
    """
    m = matrix.shape[0]
    g = (rng.standard_normal((m, m)) + 1j * rng.standard_normal((m, m))) / np.sqrt(2.0)
    h = (g + g.conj().T) / np.sqrt(2.0 * m)
    eigval, eigvec = np.linalg.eigh(h)
    step = (eigvec * np.exp(1j * strength * eigval)[None, :]) @ eigvec.conj().T
    return step @ matrix


@attrs.frozen(eq=False)
class Transmission:
    """A transmission matrix with its input and output aperture masks (checked consistent).

    ``matrix`` is complex128 (m_out, m_in); ``input_mask`` and ``output_mask`` are boolean
    (frame, frame) masks of the centred Fourier plane with ``m_in`` and ``m_out`` pixels set.
    ``source`` says where T came from (``gaussian``, ``unitary`` or a file path).
    """

    matrix: np.ndarray
    input_mask: np.ndarray
    output_mask: np.ndarray
    source: str = "gaussian"

    def __attrs_post_init__(self) -> None:
        where = f"transmission matrix ({self.source})"
        m_in, m_out = int(self.input_mask.sum()), int(self.output_mask.sum())
        if self.matrix.shape != (m_out, m_in):
            raise TransmissionMatrixError(
                f"{where}: T has shape {self.matrix.shape}, but the output aperture holds"
                f" {m_out} modes and the input aperture {m_in}: expected ({m_out}, {m_in})"
            )
        if m_in == 0 or m_out == 0:
            raise TransmissionMatrixError(f"{where}: an aperture mask selects no mode")

    @property
    def frame(self) -> int:
        return int(self.input_mask.shape[0])

    @property
    def modes(self) -> tuple[int, int]:
        """(m_out, m_in)."""
        return int(self.matrix.shape[0]), int(self.matrix.shape[1])

    @classmethod
    def synthesise(
        cls,
        kind: str,
        frame: int,
        input_radius: float,
        output_radius: float,
        rng: np.random.Generator,
    ) -> Transmission:
        """A random T (``kind`` ``gaussian`` or ``unitary``) between circular apertures of the
        given radii (in Fourier-plane pixels) on a ``frame x frame`` plane."""
        in_mask = circular_mask(frame, input_radius)
        out_mask = circular_mask(frame, output_radius)
        m_in, m_out = int(in_mask.sum()), int(out_mask.sum())
        draw = {"gaussian": gaussian_matrix, "unitary": unitary_matrix}.get(kind)
        if draw is None:
            raise TransmissionMatrixError(
                f"unknown transmission matrix kind {kind!r} (gaussian or unitary)"
            )
        return cls(draw(m_out, m_in, rng), in_mask, out_mask, kind)


def _read_arrays(file: Path) -> dict[str, np.ndarray]:
    suffix = file.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(file, allow_pickle=False) as data:
                return {k: np.asarray(data[k]) for k in data.files}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise TransmissionMatrixError(f"{file}: not a readable .npz file ({exc})") from None
    if suffix == ".mat":
        from scipy.io import loadmat
        from scipy.io.matlab import MatReadError

        try:
            data = loadmat(file)
        except NotImplementedError:
            raise TransmissionMatrixError(
                f"{file}: MATLAB v7.3 (HDF5) files are not supported; save with"
                " save(..., '-v7') or as .npz"
            ) from None
        except (MatReadError, ValueError, OSError, TypeError, EOFError) as exc:
            raise TransmissionMatrixError(f"{file}: not a readable .mat file ({exc})") from None
        return {k: np.asarray(v) for k, v in data.items() if not k.startswith("__")}
    raise TransmissionMatrixError(
        f"{file}: unknown transmission-matrix file type '{suffix}' (expected .npz or .mat)"
    )


def _as_mask(name: str, value: np.ndarray, file: Path) -> np.ndarray:
    if value.ndim != 2 or value.shape[0] != value.shape[1]:
        raise TransmissionMatrixError(
            f"{file}: '{name}' must be a square 2-D mask (frame x frame), got shape {value.shape}"
        )
    if not (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
        raise TransmissionMatrixError(f"{file}: '{name}' must be numeric, got {value.dtype}")
    if not np.isin(value, (0, 1)).all():
        raise TransmissionMatrixError(f"{file}: '{name}' must hold only 0 and 1 (or booleans)")
    return value.astype(bool)


def load_transmission(path: str | Path) -> Transmission:
    """Load a measured T and its aperture masks from a ``.npz`` or ``.mat`` file.

    The file must hold ``T`` (complex or real, shape ``(m_out, m_in)``) and ``input_mask`` /
    ``output_mask`` (0/1 or boolean, ``frame x frame``, the centred Fourier plane, zero
    frequency at ``(frame // 2, frame // 2)``, modes ordered row-major) with ``m_in`` and
    ``m_out`` pixels set. Raises :class:`TransmissionMatrixError` naming the file and the
    problem (missing file or key, unreadable file, shapes that disagree, non-finite T).
    """
    if not str(path):
        raise TransmissionMatrixError("no transmission-matrix file given (matrix_file=PATH)")
    file = Path(path).expanduser()
    if not file.is_file():
        raise TransmissionMatrixError(f"{file}: no such transmission-matrix file")
    arrays = _read_arrays(file)
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise TransmissionMatrixError(
            f"{file}: missing {', '.join(repr(k) for k in missing)} (found:"
            f" {', '.join(sorted(arrays)) or 'nothing'}); expected T, input_mask, output_mask"
        )
    matrix = arrays["T"]
    if matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.number):
        raise TransmissionMatrixError(
            f"{file}: 'T' must be a numeric 2-D array (m_out, m_in), got {matrix.dtype} with"
            f" shape {matrix.shape}"
        )
    matrix = matrix.astype(np.complex128)
    if not np.isfinite(matrix).all():
        raise TransmissionMatrixError(f"{file}: 'T' holds non-finite values")
    in_mask = _as_mask("input_mask", arrays["input_mask"], file)
    out_mask = _as_mask("output_mask", arrays["output_mask"], file)
    if in_mask.shape != out_mask.shape:
        raise TransmissionMatrixError(
            f"{file}: 'input_mask' is {in_mask.shape} but 'output_mask' is {out_mask.shape};"
            " both must be the frame size"
        )
    return Transmission(matrix, in_mask, out_mask, str(file))


def save_transmission(path: str | Path, transmission: Transmission) -> None:
    """Write T and its masks to ``.npz`` or ``.mat`` (atomically) in the format that
    :func:`load_transmission` reads."""
    from phyll_core.io import atomic_open

    file = Path(path)
    arrays = {
        "T": transmission.matrix,
        "input_mask": transmission.input_mask.astype(np.uint8),
        "output_mask": transmission.output_mask.astype(np.uint8),
    }
    suffix = file.suffix.lower()
    if suffix not in (".npz", ".mat"):
        raise TransmissionMatrixError(f"{file}: expected a .npz or .mat file name")
    with atomic_open(file, "wb") as fh:
        if suffix == ".npz":
            np.savez(fh, **arrays)
        else:
            from scipy.io import savemat

            savemat(fh, arrays)
