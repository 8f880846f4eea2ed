"""Where the inputs go on the SLM."""

from __future__ import annotations

import numpy as np
import pytest
from phyll_optical import SlmLayout, cell_grid

from phyll_core.errors import ParameterError


def test_vector_layout_fills_a_near_square_grid_row_by_row() -> None:
    grid = cell_grid(20)
    assert grid.shape == (4, 5)
    assert grid.ravel().tolist() == list(range(20))
    assert (cell_grid(7) == np.array([[0, 1, 2], [3, 4, 5], [6, -1, -1]])).all()


def test_image_layout_keeps_the_picture_and_needs_a_square() -> None:
    assert (cell_grid(9, "image") == np.arange(9).reshape(3, 3)).all()
    with pytest.raises(ParameterError, match="side-by-side"):
        cell_grid(10, "image")
    with pytest.raises(ParameterError, match="needs 16 inputs"):
        cell_grid(10, "image", image_side=4)


def test_side_by_side_puts_the_picture_left_and_the_labels_right() -> None:
    grid = cell_grid(74, "side-by-side")  # digits: 10 label slots + an 8x8 picture
    assert grid.shape == (8, 8 + 1 + 2)
    assert (grid[:, :8] == np.arange(10, 74).reshape(8, 8)).all()
    assert (grid[:, 8] == -1).all()
    assert grid[:, 9].tolist() == list(range(8)) and grid[:2, 10].tolist() == [8, 9]
    assert (grid[2:, 10] == -1).all()
    assert (cell_grid(16, "side-by-side") == cell_grid(16, "image")).all()


def test_frames_are_written_as_centred_blocks() -> None:
    layout = SlmLayout.build(dim=20, frame=32)
    assert layout.block == 3  # the 4x5 grid spans at most half of the frame
    assert layout.lit.sum() == 20 * 9
    rows, cols = np.nonzero(layout.lit)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (10, 21, 8, 22)
    values = np.arange(1, 21, dtype=float)[None, :]
    frame = layout.write(values)[0]
    assert frame[10:13, 8:11].tolist() == [[1.0] * 3] * 3
    assert frame[21, 22] == 20 and frame[0, 0] == 0
    assert layout.write(values).dtype == values.dtype


def test_explicit_block_size_and_grids_that_do_not_fit() -> None:
    assert SlmLayout.build(dim=4, frame=16, block=8).lit.all()
    with pytest.raises(ParameterError, match="does not fit"):
        SlmLayout.build(dim=4, frame=16, block=9)
    assert SlmLayout.build(dim=400, frame=32).block == 1
