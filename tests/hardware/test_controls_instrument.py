"""InstrumentSystem controls: extra setpoints inside the safety bounds, sent under the lock,
logged with each measurement; the conformance suite's controls checks pass."""

from __future__ import annotations

import json

import attrs
import numpy as np
import pytest
from hw_fakes import FakeDevice

from phyll_core.domain import Interval
from phyll_core.hardware.errors import SetpointOutOfBoundsError
from phyll_core.system import Controls
from phyll_core.testing import check_system


@attrs.define(kw_only=True, eq=False)
class TunedDevice(FakeDevice):
    """FakeDevice with 2 control knobs in [0, 1.5] appended to the setpoints; its response
    matrix has rows for them (bounds stay [0, 1], so a knob above 1 is refused)."""

    name = "tuned-device"

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        rng = np.random.default_rng(self.seed + 7)
        self.matrix = np.vstack([self.matrix, rng.normal(size=(2, self.outputs))])

    @property
    def controls(self) -> Controls | None:
        return Controls(2, Interval(0.0, 1.5), "bias knobs")


def test_conformance_with_controls() -> None:
    check_system(lambda seed: TunedDevice(seed=seed))


def test_controls_are_extra_setpoints_of_every_row() -> None:
    dev = TunedDevice()
    assert np.array_equal(dev.get_controls(), [0.0, 0.0])
    dev.set_controls([0.25, 0.75])
    x = np.random.default_rng(0).random((3, 4))
    assert np.array_equal(dev.encode(x)[:, 4:], np.tile([0.25, 0.75], (3, 1)))
    y = dev.forward(x)
    full = np.hstack([x, np.tile([0.25, 0.75], (3, 1))])
    assert np.allclose(y, np.tanh(full @ dev.matrix))
    assert dev.events.count("apply") == 3 and dev.events[0] == "connect"
    dev.close()


def test_controls_outside_the_safety_bounds_are_refused_before_the_device(tmp_path) -> None:
    dev = TunedDevice(log_path=str(tmp_path / "log.jsonl"))
    dev.set_controls([0.5, 0.5])
    with pytest.raises(SetpointOutOfBoundsError, match="safety bounds"):
        dev.set_controls([1.2, 0.5])  # in the declared domain, outside the bounds
    assert np.array_equal(dev.get_controls(), [0.5, 0.5]) and dev.events == []
    dev.forward(np.full((2, 4), 0.5))
    dev.close()
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    measured = [r for r in records if r.get("type") == "measurement"]
    assert len(measured) == 2 and all(r["controls"] == [0.5, 0.5] for r in measured)


def test_a_device_without_controls_is_unchanged() -> None:
    dev = FakeDevice()
    x = np.full((1, 4), 0.5)
    assert dev.controls is None and dev.encode(x).shape == (1, 4)
