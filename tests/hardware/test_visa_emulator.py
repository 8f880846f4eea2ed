"""VisaInstrumentSystem end to end over a real loopback socket to the SCPI emulator."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from hw_fakes import needs_emulator

needs_emulator()

from phyll_scpi_example import SPEC_FILE  # noqa: E402
from phyll_scpi_example.response import ResponseModel  # noqa: E402

from phyll_core.errors import HardwareError, ParameterError  # noqa: E402
from phyll_core.hardware import (  # noqa: E402
    DeviceFailedError,
    SetpointOutOfBoundsError,
    VisaSpec,
    load_visa_spec,
    read_log,
)
from phyll_core.hardware.visa import VisaInstrumentSystem  # noqa: E402
from phyll_core.probe import probe  # noqa: E402
from phyll_core.testing import check_system  # noqa: E402

X = np.random.default_rng(3).uniform(size=(40, 20))
MODEL = ResponseModel()
SPEC = load_visa_spec(SPEC_FILE)


def test_the_spec_file_describes_the_instrument() -> None:
    assert (SPEC.inputs, SPEC.outputs, SPEC.setpoint_low, SPEC.setpoint_high) == (20, 20, 0, 1)
    assert SPEC.measure_batch is not None and SPEC.idn_contains == "SCPI-EMULATOR"


def test_spec_errors_are_clear() -> None:
    base = {"inputs": 2, "outputs": 2, "apply": "SOUR {values}", "acquire": "FETC?"}
    with pytest.raises(ParameterError, match="unknown VISA spec key 'aply'; did you mean 'apply'"):
        VisaSpec.from_mapping({**base, "aply": "x"})
    with pytest.raises(ParameterError, match=r"unknown placeholder\(s\) \['volts'\]"):
        VisaSpec.from_mapping({**base, "apply": "SOUR {volts}"})
    with pytest.raises(ParameterError, match="trace_length 5 differs from outputs 2"):
        VisaSpec.from_mapping({**base, "trace_length": 5})
    with pytest.raises(ParameterError, match="output_select indices"):
        VisaSpec.from_mapping({**base, "trace_length": 3, "output_select": [0, 3]})
    with pytest.raises(HardwareError, match="invalid VISA resource string"):
        VisaInstrumentSystem(spec=SPEC, address="FOO::1")


@pytest.mark.parametrize("batch", [False, True])
def test_outputs_are_the_instruments_response(emulator: Any, make_visa: Any, batch: bool) -> None:
    emu = emulator()
    with make_visa(emu, use_batch=batch) as inst:
        y = inst.forward(X)
    np.testing.assert_allclose(y, MODEL(X), rtol=1e-8, atol=1e-9)  # 10-digit SCPI numbers
    assert emu.stats.acquisitions == X.shape[0]
    assert emu.stats.setpoint_commands == (0 if batch else X.shape[0])


def test_per_channel_templates(emulator: Any, make_visa: Any) -> None:
    emu = emulator()
    spec = attrs.evolve(SPEC, apply=("SOUR{ch}:VOLT {value}",), trigger=(), acquire="READ?")
    with make_visa(emu, spec=spec, use_batch=False) as inst:
        y = inst.forward(X[:3])
    np.testing.assert_allclose(y, MODEL(X[:3]), rtol=1e-8, atol=1e-9)
    assert emu.stats.setpoint_commands == 3 * 20


@pytest.mark.parametrize("fault", ["timeout", "drop", "malformed"])
def test_injected_faults_are_retried_and_the_run_completes(
    emulator: Any, make_visa: Any, fault: str, tmp_path: Path
) -> None:
    # timeout 1.5 s (a held reply, 2 s, still outlasts it): under load a healthy call can take
    # longer than 0.3 s, and its extra retry broke the one-retry-per-fault count
    emu = emulator(fault_rate=0.25, faults=(fault,), fault_seed=1, hang=2.0)
    log = tmp_path / "m.jsonl"
    with make_visa(emu, use_batch=False, timeout=1.5, retries=6, log_path=str(log)) as inst:
        y = inst.forward(X[:16])
        retries = inst.status()["retries"]
    np.testing.assert_allclose(y, MODEL(X[:16]), rtol=1e-8, atol=1e-9)
    assert emu.stats.faults >= 2 and retries == emu.stats.faults  # one retry per fault
    assert sum(m["retries"] for m in read_log(log).metadata) == retries


def test_faults_in_batched_mode_are_retried(emulator: Any, make_visa: Any) -> None:
    emu = emulator(fault_rate=0.3, faults=("malformed", "drop"), fault_seed=4)
    spec = attrs.evolve(SPEC, max_batch=8)
    with make_visa(emu, spec=spec, timeout=0.3, retries=8) as inst:
        y = inst.forward(X)
        assert inst.status()["retries"] == emu.stats.faults >= 1
    np.testing.assert_allclose(y, MODEL(X), rtol=1e-8, atol=1e-9)


def test_a_device_that_goes_down_gives_one_error_and_keeps_the_log(
    emulator: Any, make_visa: Any, tmp_path: Path
) -> None:
    emu = emulator(die_after=25)
    log = tmp_path / "m.jsonl"
    inst = make_visa(emu, use_batch=False, timeout=0.3, retries=2, log_path=str(log))
    start = time.perf_counter()
    with pytest.raises(DeviceFailedError) as info:
        inst.forward(X)
    assert time.perf_counter() - start < 10
    msg = str(info.value)
    assert msg.startswith(f"device 'scpi-demo' at {emu.resource}: step 'connect' failed after")
    assert "after 3 attempts: ConnectionRefusedError" in msg and "\n" not in msg
    inst.close()
    pairs = read_log(log)  # every completed measurement is in the log
    assert len(pairs) == 25
    np.testing.assert_array_equal(pairs.inputs, X[:25])
    np.testing.assert_allclose(pairs.outputs, MODEL(X[:25]), rtol=1e-8, atol=1e-9)


def test_unreachable_device(make_visa: Any) -> None:
    with socket.socket() as s:  # a free port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    class Nowhere:
        resource = f"TCPIP0::127.0.0.1::{port}::SOCKET"

    inst = make_visa(Nowhere(), timeout=0.3, retries=1)
    with pytest.raises(DeviceFailedError, match="step 'connect' failed after 2 attempts"):
        inst.forward(X[:1])
    assert not inst.is_open  # a failed open releases the lock


CHILD = textwrap.dedent(
    """
    import sys
    from phyll_core.hardware import load_visa_spec, VisaInstrumentSystem
    from phyll_core.errors import PhyllError
    from phyll_scpi_example import SPEC_FILE
    inst = VisaInstrumentSystem(spec=load_visa_spec(SPEC_FILE), address=sys.argv[1], timeout=2)
    try:
        y = inst.forward([[0.5] * 20])
    except PhyllError as exc:
        print(exc)
        sys.exit(3)
    print("measured", y[0, 0])
    """
)


def _child(resource: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, resource], capture_output=True, text=True, timeout=60
    )


def test_a_second_process_cannot_drive_the_same_instrument(emulator: Any, make_visa: Any) -> None:
    emu = emulator()
    inst = make_visa(emu)
    inst.forward(X[:2])
    commands = emu.stats.commands
    proc = _child(emu.resource.replace("TCPIP0::", "TCPIP::"))  # another spelling, same device
    assert proc.returncode == 3, proc.stderr
    assert f"is in use by process {os.getpid()} on host {socket.gethostname()}" in proc.stdout
    assert emu.stats.commands == commands  # the refused process sent nothing
    inst.close()
    proc = _child(emu.resource)
    assert proc.returncode == 0 and "measured" in proc.stdout, proc.stdout + proc.stderr


def test_safety_bounds_refuse_without_touching_the_instrument(
    emulator: Any, make_visa: Any
) -> None:
    emu = emulator()
    risky = attrs.evolve(SPEC, setpoint_scale=1.5)  # a misconfigured gain: up to 1.5 V
    inst = make_visa(emu, spec=risky)
    with pytest.raises(SetpointOutOfBoundsError, match="outside the safety bounds"):
        inst.forward(X)
    assert emu.stats.connections == 0 and emu.stats.commands == 0
    inst.forward(X * 0.5)  # within bounds: measured
    seen = (emu.stats.commands, emu.stats.acquisitions)
    with pytest.raises(SetpointOutOfBoundsError):
        inst.forward(X)
    assert (emu.stats.commands, emu.stats.acquisitions) == seen
    inst.close()


@pytest.mark.parametrize("drift", [0.0, 0.02])
def test_probe_reports_the_drift_estimate(emulator: Any, make_visa: Any, drift: float) -> None:
    emu = emulator(drift=drift)
    with make_visa(emu, reference_every=32) as inst:
        result = probe(inst, samples=128)
    status = result.status
    assert status["reference_measurements"] == 5  # at open, then after rows 32, 64, 96, 128
    if drift:
        assert status["drift"] > 0.005
    else:
        assert status["drift"] == 0.0


def test_phyll_probe_cli_shows_the_status(emulator: Any, cli: Any) -> None:
    emu = emulator(drift=0.02)
    res = cli(
        "probe", "scpi-demo", "--samples", "64", "--json",
        "-p", f"resource={emu.resource}", "-p", "reference_every=16",
    )
    assert res.code == 0, res.err
    status = res.json()["status"]
    assert status["address"] == emu.resource and status["drift"] > 0


def test_conformance_suite_passes(emulator: Any, make_visa: Any) -> None:
    emu = emulator()
    check_system(lambda seed: make_visa(emu))


def test_the_emulator_command_line_serves_and_stops(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [sys.executable, "-m", "phyll_scpi_example.emulator", "--port", "0",
         "--port-file", str(port_file), "--delay", "0.001"],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        port = int(port_file.read_text())
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"*IDN?\nSOUR:VOLT:LIST 2,0\nSYST:ERR?\n")
            reply = b""
            while reply.count(b"\n") < 2:
                chunk = conn.recv(4096)
                assert chunk, "connection closed early"
                reply += chunk
        idn, err = reply.decode().splitlines()[:2]
        assert idn.startswith("phyll,SCPI-EMULATOR") and err.startswith("-109")
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "listening on TCPIP0::127.0.0.1::" in stderr


def test_the_emulator_command_line_refuses_bad_options_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from phyll_scpi_example.emulator import main

    with pytest.raises(SystemExit) as info:
        main(["--port", "0", "--faults", "drop,bogus"])
    assert info.value.code == 2
    assert "error: faults must be a non-empty subset of" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SystemExit):
            main(["--port", str(taken.getsockname()[1])])
    assert "error: cannot listen on 127.0.0.1:" in capsys.readouterr().err
