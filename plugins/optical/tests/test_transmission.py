"""Loading a measured transmission matrix from .npz / .mat files, and its errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from phyll_optical import (
    OpticalSystem,
    Transmission,
    TransmissionMatrixError,
    circular_mask,
    load_transmission,
    save_transmission,
)
from scipy.io import savemat

from phyll_core.factory import build_system

X = np.random.default_rng(3).uniform(size=(16, 20))


def _arrays(frame: int = 32, r_in: float = 6.0, r_out: float = 4.0, seed: int = 0) -> dict:
    t = Transmission.synthesise("gaussian", frame, r_in, r_out, np.random.default_rng(seed))
    return {
        "T": t.matrix,
        "input_mask": t.input_mask.astype(np.uint8),
        "output_mask": t.output_mask,
    }


def _write(path: Path, arrays: dict) -> Path:
    if path.suffix == ".npz":
        np.savez(path, **arrays)
    else:
        savemat(path, arrays)
    return path


@pytest.mark.parametrize("suffix", [".npz", ".mat"])
def test_loaded_matrix_drives_the_system(tmp_path: Path, suffix: str) -> None:
    arrays = _arrays()
    file = _write(tmp_path / f"tm{suffix}", arrays)
    loaded = load_transmission(file)
    assert np.array_equal(loaded.matrix, arrays["T"])
    assert loaded.modes == (int(arrays["output_mask"].sum()), int(arrays["input_mask"].sum()))
    system = build_system("optical", {"matrix": "file", "matrix_file": str(file)})
    assert system.status()["transmission"] == str(file)
    y = system.forward(X)
    assert y.shape == (16, 225) and np.isfinite(y).all()


def test_a_saved_random_matrix_reproduces_the_random_system(tmp_path: Path) -> None:
    original = OpticalSystem(matrix="unitary", seed=4, aperture=0.3, output_aperture=0.5)
    for name in ("tm.npz", "tm.mat"):
        save_transmission(tmp_path / name, original.transmission)
        copy = OpticalSystem(matrix="file", matrix_file=str(tmp_path / name), seed=4)
        assert np.array_equal(copy.forward(X), original.forward(X))


def test_a_measured_matrix_drifts_like_a_synthetic_one(tmp_path: Path) -> None:
    file = _write(tmp_path / "tm.npz", _arrays())
    system = OpticalSystem(matrix="file", matrix_file=str(file))
    before = system.forward(X)
    system.perturb(0.5, 1)
    assert not np.allclose(system.forward(X), before)


@pytest.mark.parametrize("suffix", [".npz", ".mat"])
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("T"), r"missing 'T'"),
        (lambda a: (a.pop("input_mask"), a.pop("output_mask")), "'input_mask', 'output_mask'"),
        (lambda a: a.update(T=a["T"][:, :-1]), r"T has shape \(49, 112\).*expected \(49, 113\)"),
        (lambda a: a.update(output_mask=circular_mask(24, 4)), "'input_mask' is .* 'output_mask'"),
        (lambda a: a.update(input_mask=np.ones((32, 30))), "square 2-D mask"),
        (lambda a: a.update(input_mask=2 * a["input_mask"]), "only 0 and 1"),
        (lambda a: a.update(T=np.where(np.eye(49, 113) > 0, np.nan, a["T"])), "non-finite"),
    ],
    ids=["no-T", "no-masks", "T-shape", "mask-shapes", "non-square", "non-binary", "nan"],
)
def test_bad_files_are_refused_with_a_clear_message(
    tmp_path: Path, suffix: str, change, message: str
) -> None:
    arrays = _arrays()
    change(arrays)
    file = _write(tmp_path / f"bad{suffix}", arrays)
    with pytest.raises(TransmissionMatrixError, match=message) as info:
        OpticalSystem(matrix="file", matrix_file=str(file))
    assert str(file) in str(info.value) and "\n" not in str(info.value)


def test_masks_must_match_the_frame(tmp_path: Path) -> None:
    file = _write(tmp_path / "tm64.npz", _arrays(frame=64, r_in=8, r_out=8))
    with pytest.raises(TransmissionMatrixError, match="frame=64"):
        OpticalSystem(matrix="file", matrix_file=str(file))
    assert OpticalSystem(matrix="file", matrix_file=str(file), frame=64).output_dim == 31 * 31


def test_unreadable_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(TransmissionMatrixError, match="no such"):
        load_transmission(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(TransmissionMatrixError, match=r"not a readable \.npz"):
        load_transmission(tmp_path / "junk.npz")
    (tmp_path / "junk.mat").write_bytes(b"\x00" * 200)
    with pytest.raises(TransmissionMatrixError, match=r"readable \.mat|v7\.3"):
        load_transmission(tmp_path / "junk.mat")
    (tmp_path / "tm.txt").write_text("1 2 3")
    with pytest.raises(TransmissionMatrixError, match=r"expected \.npz or \.mat"):
        load_transmission(tmp_path / "tm.txt")
    with pytest.raises(TransmissionMatrixError, match="T' must be a numeric"):
        load_transmission(_write(tmp_path / "text.npz", {**_arrays(), "T": np.array(["a"])}))
