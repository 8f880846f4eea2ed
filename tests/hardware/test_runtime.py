"""The InstrumentSystem runtime, driven through a pure-Python fake device."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hw_fakes import FakeBatchDevice, FakeDevice

from phyll_core.errors import HardwareError, PhysicalInputError
from phyll_core.hardware import (
    DeviceBusyError,
    DeviceFailedError,
    DeviceOutageError,
    SetpointOutOfBoundsError,
    read_log,
)
from phyll_core.testing import check_system

X = np.random.default_rng(5).uniform(size=(6, 4))


def test_forward_measures_every_row_with_metadata() -> None:
    dev = FakeDevice()
    before = time.time()
    y = dev.forward(X)
    np.testing.assert_allclose(y, dev.expected(X), rtol=1e-12)
    assert dev.events == ["connect"] + ["apply", "acquire"] * 6
    metas = dev.last_metadata
    assert [m.index for m in metas] == list(range(6))
    assert all(m.repeats == 1 and m.retries == 0 and m.spread == 0.0 for m in metas)
    assert all(before <= m.timestamp <= time.time() and m.duration >= 0 for m in metas)
    assert dev.status()["measurements"] == 6 and dev.queries.samples == 6
    dev.close()
    assert dev.events[-1] == "disconnect" and not dev.is_open


def test_repeats_average_and_report_the_spread() -> None:
    sigma = 0.05
    dev = FakeDevice(noise=sigma, repeats=64)
    y = dev.forward(X)
    assert dev.events.count("acquire") == 64 * 6 and dev.events.count("apply") == 6
    err = np.abs(y - dev.expected(X))
    assert err.max() < 5 * sigma / np.sqrt(64)  # the average beats one acquisition
    spreads = np.array([m.spread for m in dev.last_metadata])
    assert np.all((spreads > 0.6 * sigma) & (spreads < 1.4 * sigma))
    assert all(m.spread_max >= m.spread for m in dev.last_metadata)


def test_settle_time_is_waited_after_applying() -> None:
    dev = FakeDevice(settle=0.03)
    start = time.perf_counter()
    dev.forward(X[:3])
    assert time.perf_counter() - start >= 3 * 0.03
    assert all(m.duration >= 0.03 for m in dev.last_metadata)


def test_transient_errors_are_retried_with_backoff() -> None:
    dev = FakeDevice(actions={2: "transient", 3: "transient"}, backoff=0.02)
    start = time.perf_counter()
    y = dev.forward(X[:3])
    assert time.perf_counter() - start >= 0.02 + 0.04  # exponential backoff
    np.testing.assert_allclose(y, dev.expected(X[:3]), rtol=1e-12)
    assert [m.retries for m in dev.last_metadata] == [0, 2, 0]
    assert dev.status()["retries"] == 2
    # each retry disconnects, reconnects and re-applies the row's setpoints
    assert dev.events.count("connect") == 3 and dev.events.count("apply") == 5


def test_a_device_that_stays_down_gives_one_clear_error() -> None:
    dev = FakeDevice(actions={"always": "transient"}, retries=2, backoff=0.0)
    with pytest.raises(DeviceFailedError) as info:
        dev.forward(X[:2])
    msg = str(info.value)
    assert "'fake-device' at FAKE::1" in msg and "step 'acquire'" in msg
    assert "after 3 attempts" in msg and "ConnectionError: link reset by peer" in msg
    assert "\n" not in msg and info.value.attempts == 3 and info.value.step == "acquire"
    assert isinstance(info.value.__cause__, ConnectionError)


def test_non_transient_errors_are_not_retried() -> None:
    dev = FakeDevice(actions={1: "fatal"})
    with pytest.raises(DeviceFailedError, match=r"not transient.*ValueError: firmware refused"):
        dev.forward(X[:1])
    assert dev.events.count("acquire") == 1


def test_malformed_values_are_retried() -> None:
    dev = FakeDevice(actions={1: "nan"}, backoff=0.0)
    y = dev.forward(X[:1])
    assert np.isfinite(y).all() and dev.last_metadata[0].retries == 1


def test_a_late_answer_counts_as_a_timeout() -> None:
    dev = FakeDevice(actions={1: "slow"}, timeout=0.05, backoff=0.0)
    y = dev.forward(X[:2])
    np.testing.assert_allclose(y, dev.expected(X[:2]), rtol=1e-12)
    assert dev.last_metadata[0].retries == 1


def test_hard_timeout_abandons_a_hung_call() -> None:
    dev = FakeDevice(actions={1: "hang"}, timeout=0.2, backoff=0.0, hard_timeout=True)
    start = time.perf_counter()
    y = dev.forward(X[:2])
    assert time.perf_counter() - start < 3.0  # the hang alone would take 5 s
    np.testing.assert_allclose(y, dev.expected(X[:2]), rtol=1e-12)
    assert dev.last_metadata[0].retries == 1
    dev.close()


def test_hard_timeout_that_never_recovers_fails_with_the_step() -> None:
    dev = FakeDevice(actions={"always": "hang"}, timeout=0.1, retries=1, hard_timeout=True)
    with pytest.raises(DeviceFailedError, match=r"step 'acquire' failed after 2 attempts.*timeout"):
        dev.forward(X[:1])
    dev.close()


def test_setpoints_outside_the_safety_bounds_never_reach_the_device() -> None:
    dev = FakeDevice(gain=2.0)  # x in [0, 1] -> setpoints up to 2 V, bounds [0, 1]
    with pytest.raises(SetpointOutOfBoundsError) as info:
        dev.forward(X)
    assert "outside the safety bounds [0, 1]" in str(info.value)
    assert "nothing was sent" in str(info.value)
    assert dev.events == [] and not dev.is_open  # not even connected
    safe = FakeDevice(gain=2.0)
    safe.forward(X * 0.4)  # setpoints <= 0.8 are fine
    n_events = len(safe.events)
    batch = X * 0.4
    batch[4, 2] = 0.6  # one setpoint of 1.2 in the batch refuses the whole batch
    with pytest.raises(SetpointOutOfBoundsError, match=r"setpoint 2 of row 4 is 1\.2"):
        safe.forward(batch)
    assert len(safe.events) == n_events
    with pytest.raises(SetpointOutOfBoundsError):
        safe.encode(batch)


def test_input_validation_comes_first() -> None:
    dev = FakeDevice()
    with pytest.raises(PhysicalInputError):
        dev.forward(X[:, :3])
    assert dev.events == []


def test_reference_measurements_track_drift() -> None:
    dev = FakeDevice(reference_every=5)
    dev.forward(X[:4])
    assert dev.status()["reference_measurements"] == 1 and dev.status()["drift"] is None
    dev.matrix = dev.matrix * 1.1  # the device drifts
    x = np.random.default_rng(1).uniform(size=(8, 4))
    dev.forward(x)
    # one reference at open, then one before row 5 (after rows 0-3 + 1) and one before row 10
    status = dev.status()
    assert status["reference_measurements"] == 3 and status["measurements"] == 12
    assert status["drift"] is not None and 0.0 < status["drift"] < 0.15
    metas = dev.last_metadata
    assert metas[0].drift is None and metas[-1].drift == status["drift"]
    ref = dev._reference_row()
    expected_drift = np.linalg.norm(dev.expected(ref) - np.tanh(ref @ (dev.matrix / 1.1)))
    assert status["drift"] == pytest.approx(
        expected_drift / np.linalg.norm(np.tanh(ref @ (dev.matrix / 1.1))), rel=1e-9
    )


def test_the_log_keeps_every_measurement(tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    dev = FakeDevice(log_path=str(log), reference_every=4, log_fsync_interval=0.0)
    y = dev.forward(X)
    pairs = read_log(log)
    np.testing.assert_array_equal(pairs.inputs, X)
    np.testing.assert_array_equal(pairs.outputs, y)
    assert [m["index"] for m in pairs.metadata] == [1, 2, 3, 4, 6, 7]
    assert all(m["repeats"] == 1 and "timestamp" in m and "retries" in m for m in pairs.metadata)
    assert len(read_log(log, include_references=True)) == 8
    assert pairs.sessions[0]["system"] == "fake-device" and pairs.sessions[0]["input_dim"] == 4
    dev.close()
    dev2 = FakeDevice(log_path=str(log))  # a second session appends
    dev2.forward(X[:2])
    dev2.close()
    again = read_log(log)
    assert len(again) == 8 and len(again.sessions) == 2


def test_a_crash_loses_at_most_the_measurement_in_flight(tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    dev = FakeDevice(log_path=str(log), actions={4: "fatal"})
    with pytest.raises(DeviceFailedError):
        dev.forward(X)
    dev.close()
    with open(log, "ab") as fh:  # a record cut short by a crash inside write()
        fh.write(b'{"type": "measurement", "input": [0.1, 0.')
    pairs = read_log(log)
    np.testing.assert_array_equal(pairs.inputs, X[:3])
    np.testing.assert_allclose(pairs.outputs, dev.expected(X[:3]), rtol=1e-12)


def test_one_device_one_owner_in_a_process(tmp_path: Path) -> None:
    a, b = FakeDevice(), FakeDevice()
    a.open()
    busy = r"FAKE::1' is in use by process \d+ \(this process\)"
    with pytest.raises(DeviceBusyError, match=busy):
        b.forward(X)
    assert b.events == []
    a.close()
    with b:
        b.forward(X[:1])
    assert not b.is_open
    other = FakeDevice(address="FAKE::2")
    with FakeDevice(), other:  # a different address is a different device
        other.forward(X[:1])


def test_batching_devices_get_chunks() -> None:
    dev = FakeBatchDevice(batch=4, repeats=2)
    y = dev.forward(X)
    np.testing.assert_allclose(y, dev.expected(X), rtol=1e-12)
    assert dev.events == ["connect", "batch:4", "batch:4", "batch:2", "batch:2"]
    dev.close()
    ref_dev = FakeBatchDevice(batch=4, reference_every=3)
    ref_dev.forward(X)
    assert ref_dev.events == ["connect", "batch:1", "batch:3", "batch:1", "batch:3"]


def test_bad_decoder_output_is_a_clear_error() -> None:
    class Broken(FakeDevice):
        def _decode(self, traces: np.ndarray) -> np.ndarray:
            return traces[:, :2]

    with pytest.raises(HardwareError, match=r"_decode returned shape \(1, 2\); expected \(1, 3\)"):
        Broken().forward(X[:1])


def test_options_are_validated() -> None:
    for bad in ({"timeout": 0}, {"repeats": 0}, {"retries": -1}, {"settle": float("nan")}):
        with pytest.raises(ValueError):
            FakeDevice(**bad)


def test_conformance_suite_passes() -> None:
    check_system(lambda seed: FakeDevice(seed=seed))
    check_system(lambda seed: FakeBatchDevice(seed=seed))


def test_an_interrupted_call_reconnects_before_the_next_measurement() -> None:
    class Interrupting(FakeDevice):
        def _acquire(self) -> np.ndarray:
            if self.acquires == 0:
                self.acquires += 1
                raise KeyboardInterrupt
            return super()._acquire()

    dev = Interrupting()
    with pytest.raises(KeyboardInterrupt):
        dev.forward(X[:1])
    assert dev.events[-1] == "disconnect"  # no stale reply can be read later
    np.testing.assert_allclose(dev.forward(X[:1]), dev.expected(X[:1]), rtol=1e-12)
    assert dev.events.count("connect") == 2


def test_out_of_range_outputs_are_retried_like_malformed_replies() -> None:
    dev = FakeDevice(actions={2: "huge"}, backoff=0.0)
    y = dev.forward(X[:3])
    np.testing.assert_allclose(y, dev.expected(X[:3]), rtol=1e-12)  # 1e308 never got through
    assert [m.retries for m in dev.last_metadata] == [0, 1, 0]
    dev.close()
    always = FakeDevice(actions={"always": "huge"}, retries=1, backoff=0.0)
    with pytest.raises(DeviceOutageError, match=r"1e\+308 for output 0, outside the output bounds"):
        always.forward(X[:1])


def test_declared_output_bounds_are_enforced() -> None:
    class Narrow(FakeDevice):
        @property
        def output_bounds(self) -> tuple[float, float]:
            return (-0.2, 0.2)

    dev = Narrow(gain=1.0, retries=0)
    x = np.full((1, 4), 0.9)  # two of the outputs leave [-0.2, 0.2]
    assert np.abs(dev.expected(x)).max() > 0.2
    with pytest.raises(DeviceOutageError, match=r"outside the output bounds \[-0.2, 0.2\]"):
        dev.forward(x)


def test_a_failed_query_hands_over_the_rows_it_measured() -> None:
    dev = FakeDevice(actions={4: "fatal"})
    with pytest.raises(DeviceFailedError) as info:
        dev.forward(X)
    assert not isinstance(info.value, DeviceOutageError)  # not transient: not an outage
    assert info.value.completed == 3
    np.testing.assert_allclose(info.value.partial_outputs, dev.expected(X[:3]), rtol=1e-12)
    dev.close()
    down = FakeDevice(actions={n: "transient" for n in range(3, 99)}, retries=1, backoff=0.0)
    with pytest.raises(DeviceOutageError) as outage:
        down.forward(X)
    assert isinstance(outage.value, DeviceFailedError) and outage.value.completed == 2
