"""Where each input component goes on the SLM frame.

An input vector of ``dim`` components is written on an ``frame x frame`` SLM as square blocks
of ``block x block`` pixels. The arrangement of the blocks is a small grid of *cells* (one cell
per component, ``-1`` for a dark cell), chosen by the layout:

``vector``
    the components fill a near-square grid row by row (generic 1-D inputs);
``image``
    ``dim`` must be a perfect square ``s^2``; the components are an ``s x s`` picture stored
    row-major (the label slots the engine prepends are then the first pixels of the picture);
``side-by-side``
    the trailing ``s^2`` components are an ``s x s`` picture on the left, the leading
    ``dim - s^2`` components (e.g. the label slots) a block of cells on its right, one dark
    column between them (the published arrangement of image and label).

The cell grid is magnified by ``block`` and centred in the frame; pixels outside it are dark
(not illuminated), which zero-pads the field before the Fourier transform.
"""

from __future__ import annotations

import math

import attrs
import numpy as np

from phyll_core.errors import ParameterError

LAYOUTS = ("vector", "image", "side-by-side")
FILL = 0.5
"""Fraction of the frame side the cell grid may span when the block size is automatic
(a 2x zero-padded frame, so the Fourier plane samples the input spectrum twice per fringe)."""


def cell_grid(dim: int, layout: str = "vector", image_side: int = 0) -> np.ndarray:
    """Return the (rows, cols) int grid of component indices (``-1`` = dark cell).

    ``image_side`` is the side ``s`` of the picture for the ``image`` and ``side-by-side``
    layouts (0: the largest ``s`` with ``s^2 <= dim``). Raises ParameterError when the layout
    cannot hold ``dim`` components.
    """
    if dim < 1:
        raise ParameterError(f"the optical system needs at least 1 input, got {dim}")
    if layout == "vector":
        cols = math.ceil(math.sqrt(dim))
        rows = math.ceil(dim / cols)
        grid = np.full(rows * cols, -1, dtype=np.int64)
        grid[:dim] = np.arange(dim)
        return grid.reshape(rows, cols)
    if layout not in LAYOUTS:
        raise ParameterError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    side = image_side or math.isqrt(dim)
    if side * side > dim:
        raise ParameterError(
            f"image_side={side} needs {side * side} inputs, but the system has {dim}"
        )
    if layout == "image":
        if side * side != dim:
            raise ParameterError(
                f"layout 'image' needs inputs = image_side^2; got inputs={dim}, image_side="
                f"{side} (use layout=side-by-side to put the {dim - side * side} extra inputs"
                " beside the picture)"
            )
        return np.arange(dim, dtype=np.int64).reshape(side, side)
    extra = dim - side * side
    picture = np.arange(extra, dim, dtype=np.int64).reshape(side, side)
    if extra == 0:
        return picture
    label_cols = math.ceil(extra / side)
    labels = np.full(side * label_cols, -1, dtype=np.int64)
    labels[:extra] = np.arange(extra)
    labels = labels.reshape(label_cols, side).T  # fill column by column, top to bottom
    gap = np.full((side, 1), -1, dtype=np.int64)
    return np.hstack([picture, gap, labels])


@attrs.frozen(eq=False)
class SlmLayout:
    """The map from input components to SLM pixels.

    ``pixels`` is a (frame, frame) int array holding, for every SLM pixel, the index of the
    component written there, or ``dim`` for a dark pixel (an index into the encoded inputs
    with one zero column appended, so writing a batch of frames is a single gather).
    """

    dim: int
    frame: int
    block: int
    cells: np.ndarray
    pixels: np.ndarray

    @classmethod
    def build(
        cls, dim: int, frame: int, layout: str = "vector", block: int = 0, image_side: int = 0
    ) -> SlmLayout:
        """Lay ``dim`` components out on a ``frame x frame`` SLM (``block`` 0: automatic, the
        largest block size whose grid spans at most half the frame, at least 1)."""
        cells = cell_grid(dim, layout, image_side)
        rows, cols = cells.shape
        if block < 0:
            raise ParameterError(f"block must be >= 0 (0: automatic), got {block}")
        size = block or max(1, int(FILL * frame) // max(rows, cols))
        height, width = rows * size, cols * size
        if height > frame or width > frame:
            advice = "raise 'frame'" + (" or lower 'block'" if size > 1 else "")
            raise ParameterError(
                f"a {rows}x{cols} grid of {size}-pixel blocks ({height}x{width} pixels) does not"
                f" fit on a {frame}x{frame} SLM frame; {advice}"
            )
        magnified = np.kron(cells, np.ones((size, size), dtype=np.int64))
        pixels = np.full((frame, frame), dim, dtype=np.int64)
        top, left = (frame - height) // 2, (frame - width) // 2
        region = np.where(magnified < 0, dim, magnified)
        pixels[top : top + height, left : left + width] = region
        return cls(dim=dim, frame=frame, block=size, cells=cells, pixels=pixels)

    @property
    def lit(self) -> np.ndarray:
        """Boolean (frame, frame) mask of the pixels that carry an input component."""
        return self.pixels < self.dim

    def write(self, values: np.ndarray) -> np.ndarray:
        """Write a batch of encoded values (batch, dim) on frames (batch, frame, frame); dark
        pixels are 0. Keeps the dtype of ``values``."""
        padded = np.concatenate([values, np.zeros((values.shape[0], 1), values.dtype)], axis=1)
        return padded[:, self.pixels]
