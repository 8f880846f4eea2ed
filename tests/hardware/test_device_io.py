"""Bounded device I/O over a real socket: reply size cap, whole-read deadline, output bounds."""

from __future__ import annotations

import time
from typing import Any

import attrs
import numpy as np
import pytest
from hw_fakes import needs_emulator

needs_emulator()

from phyll_scpi_example import SPEC_FILE  # noqa: E402
from phyll_scpi_example.response import ResponseModel  # noqa: E402

from phyll_core.hardware import (  # noqa: E402
    DeviceOutageError,
    DeviceTimeoutError,
    MalformedReplyError,
    load_visa_spec,
)

X = np.random.default_rng(11).uniform(size=(40, 20))
MODEL = ResponseModel()
SPEC = load_visa_spec(SPEC_FILE)


def test_a_reply_sent_byte_by_byte_cannot_run_past_the_timeout(
    emulator: Any, make_visa: Any
) -> None:
    emu = emulator(fault_rate=1.0, faults=("trickle",), trickle=0.02)  # ~5 s per reply
    inst = make_visa(emu, use_batch=False, timeout=0.5, retries=0)
    start = time.perf_counter()
    with pytest.raises(DeviceOutageError) as info:
        inst.forward(X[:1])
    elapsed = time.perf_counter() - start
    inst.close()
    assert elapsed < 1.5, f"the read ran {elapsed:.2f} s with timeout=0.5"
    assert isinstance(info.value.__cause__, DeviceTimeoutError)
    assert "step 'acquire'" in str(info.value) and "timeout of 0.5 s" in str(info.value)
    assert emu.stats.bytes_sent > 1  # the device did start answering


def test_an_endless_reply_is_cut_at_the_size_cap(emulator: Any, make_visa: Any) -> None:
    emu = emulator(fault_rate=1.0, faults=("endless",))
    inst = make_visa(emu, use_batch=False, timeout=5.0, retries=1)
    start = time.perf_counter()
    with pytest.raises(DeviceOutageError) as info:
        inst.forward(X[:1])
    inst.close()
    assert time.perf_counter() - start < 4
    assert isinstance(info.value.__cause__, MalformedReplyError)
    cap = 32 * 256 * 20 + 65536  # the default: from the spec's largest reply (256 rows)
    assert f"reply longer than max_reply = {cap} bytes" in str(info.value)
    assert emu.stats.bytes_sent < 64 << 20  # the reader hung up long before the 256 MiB


def test_max_reply_is_a_parameter(emulator: Any, make_visa: Any) -> None:
    emu = emulator()
    with make_visa(emu, max_reply_bytes=2000, retries=0) as small:  # 40 rows need ~9 kB
        with pytest.raises(DeviceOutageError, match="longer than max_reply = 2000 bytes"):
            small.forward(X)
        y = small.forward(X[:4])  # a reply that fits
    np.testing.assert_allclose(y, MODEL(X[:4]), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("batch", [False, True])
def test_out_of_range_replies_are_retried(emulator: Any, make_visa: Any, batch: bool) -> None:
    emu = emulator(fault_rate=0.3, faults=("outlier",), fault_seed=2)
    spec = attrs.evolve(SPEC, max_batch=8)
    with make_visa(emu, spec=spec, use_batch=batch, retries=8, backoff=0.0) as inst:
        y = inst.forward(X[:16])
        retries = inst.status()["retries"]
    assert emu.stats.faults >= 2 and retries == emu.stats.faults  # one retry per 1e308
    np.testing.assert_allclose(y, MODEL(X[:16]), rtol=1e-8, atol=1e-9)


def test_output_bounds_come_from_the_spec(emulator: Any, make_visa: Any) -> None:
    emu = emulator()
    spec = attrs.evolve(SPEC, output_low=0.0, output_high=0.05)
    bounds = r"outside the output bounds \[0, 0.05\]"
    with make_visa(emu, spec=spec, use_batch=False, retries=0) as inst, pytest.raises(
        DeviceOutageError, match=bounds
    ):
        inst.forward(X[:1])


class _ChunkedVisa:
    """A VISA library whose ``read`` hands out ``pieces`` (bytes, or 'timeout')."""

    def __init__(self, pieces: list[Any]) -> None:
        self.pieces = pieces
        self.timeouts: list[float] = []

    def read(self, session: int, count: int) -> tuple[bytes, Any]:
        from pyvisa import constants, errors

        piece = self.pieces.pop(0)
        if piece == "timeout":
            raise errors.VisaIOError(constants.StatusCode.error_timeout)
        data = piece[:count]
        if len(piece) > count:
            self.pieces.insert(0, piece[count:])
        code = constants.StatusCode
        if data.endswith(b"\n"):
            return data, code.success_termination_character_read
        return data, code.success_max_count_read


class _Resource:
    resource_name = "GPIB0::5::INSTR"
    session = 1

    def __init__(self, pieces: list[Any]) -> None:
        self.visalib = _ChunkedVisa(pieces)
        self.timeout = 5000.0


def test_other_visa_sessions_are_read_in_bounded_chunks() -> None:
    from phyll_core.hardware.visa_io import read_reply

    res = _Resource([b"1.5,2", b".5\n"])
    assert read_reply(res, lambda: 1.0, 100, "\n") == "1.5,2.5"
    assert res.timeout == 5000.0  # the resource's own timeout is restored
    with pytest.raises(MalformedReplyError, match="longer than max_reply = 8 bytes"):
        read_reply(_Resource([b"1234567890,1234567890\n"]), lambda: 1.0, 8, "\n")
    with pytest.raises(DeviceTimeoutError, match="no complete reply in time"):
        read_reply(_Resource([b"12", "timeout"]), lambda: 0.2, 100, "\n")

    def expired() -> float:
        raise DeviceTimeoutError("no time left")

    with pytest.raises(DeviceTimeoutError, match="no time left"):
        read_reply(_Resource([b"1\n"]), expired, 100, "\n")
