"""Device locks: one key per device whatever the address spelling, identity locks, and a lock
folder nobody else can tamper with."""

from __future__ import annotations

import os
import signal
import stat
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hw_fakes import needs_emulator, start_record

from phyll_core.errors import HardwareError
from phyll_core.hardware import DeviceBusyError, DeviceLock
from phyll_core.hardware import lock as lock_module
from phyll_core.hardware.lock import default_lock_dir, identity_key

X = np.random.default_rng(2).uniform(size=(4, 20))


def test_one_key_per_device_whatever_the_spelling() -> None:
    needs_emulator()
    from phyll_core.hardware.visa_io import device_key

    same = [
        "TCPIP0::127.0.0.1::5025::SOCKET",
        "TCPIP::localhost::5025::SOCKET",
        "tcpip::LOCALHOST::5025::socket",
        "TCPIP1::127.0.0.1::5025::SOCKET",
        " TCPIP0::127.0.0.1::05025::SOCKET ",
    ]
    assert len({device_key(r) for r in same}) == 1
    assert device_key(same[0]) != device_key("TCPIP0::127.0.0.1::5026::SOCKET")
    assert device_key("GPIB::5::INSTR") == device_key("gpib0::5::instr")
    assert device_key("GPIB0::5::INSTR") != device_key("GPIB1::5::INSTR")  # another bus
    usb = "USB::0x1AB1::0x04CE::ds1za1::INSTR"
    assert device_key(usb) == device_key("usb0::6833::1230::DS1ZA1::0::INSTR")
    assert device_key("TCPIP::localhost::INSTR") == device_key("TCPIP0::127.0.0.1::inst0::INSTR")


def test_identity_keys_ignore_case_spacing_and_firmware() -> None:
    key = identity_key("Keysight Technologies,34465A,MY1234,A.02.14")
    assert key == identity_key(" KEYSIGHT TECHNOLOGIES, 34465a ,my1234,A.03.01\n")
    assert key != identity_key("Keysight Technologies,34465A,MY1235,A.02.14")
    assert identity_key("") == identity_key(" , , ") == ""


def _record_args(resource: str, out: Path, *extra: str) -> list[str]:
    return [
        "record", "scpi-demo", "-n", "3000", "-o", str(out), "--batch", "10",
        "-p", f"resource={resource}", "-p", "batch=false", *extra,
    ]


def test_two_spellings_of_one_address_cannot_both_record(
    cli: Any, emulator: Any, tmp_path: Path
) -> None:
    needs_emulator()
    emu = emulator(delay=0.002)
    first = tmp_path / "a.npz"
    proc = start_record(
        _record_args(emu.resource, first), first.with_name("a.npz.progress.jsonl")
    )
    try:
        other = emu.resource.replace("127.0.0.1", "localhost")
        res = cli(*_record_args(other, tmp_path / "b.npz"))
        errors = [line for line in res.err_lines if line.startswith("error:")]
        assert res.code == 1 and len(errors) == 1
        assert f"device '{other}' is in use by process {proc.pid}" in errors[0]
        assert not (tmp_path / "b.npz.progress.jsonl").exists()  # nothing left behind
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


def test_one_instrument_at_two_addresses_is_locked_by_its_identity(
    emulator: Any, make_visa: Any
) -> None:
    needs_emulator()
    a = emulator(serial="SN-42")
    b = emulator(serial="SN-42")  # the same instrument reached on a second address
    # generous timeouts: the connect step (TCP connect, the emulator's accept and *IDN?) runs
    # under one timeout, which 1 s did not always cover on a loaded machine; with retries=0 a
    # late *IDN? reply then failed the step instead of meeting the identity lock
    slow = 30.0
    with make_visa(a, timeout=slow) as first:
        first.forward(X)
        second = make_visa(b, retries=0, timeout=slow)
        with pytest.raises(DeviceBusyError, match=r"'phyll,SCPI-EMULATOR,SN-42,1.0' is in use by"):
            second.forward(X)
        assert not second.is_open
        assert b.stats.commands == 1  # only *IDN?: no *RST reached the instrument in use
    with make_visa(b, timeout=slow) as later:  # released with the first
        later.forward(X)


def test_another_instrument_at_the_same_address_is_refused(
    emulator: Any, make_visa: Any
) -> None:
    needs_emulator()
    a = emulator(serial="SN-1")
    # one retry, so a generous timeout (as above): the reconnect must reach *IDN? under load
    inst = make_visa(a, retries=1, backoff=0.0, timeout=30.0)
    inst.forward(X)
    port = a.port
    a.stop()
    emulator(port=port, serial="SN-2")  # someone swapped the instrument
    with pytest.raises(HardwareError, match=r"now identifies as 'phyll,SCPI-EMULATOR,SN-2,1\.0'"):
        inst.forward(X)
    inst.close()


def test_a_planted_symbolic_link_is_refused_not_followed(lock_dir: Path, tmp_path: Path) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("do not truncate me")
    lock = DeviceLock("GPIB0::3::INSTR")
    lock_dir.mkdir(mode=0o700)
    lock.path.symlink_to(victim)
    with pytest.raises(HardwareError, match="is a symbolic link; refusing to follow it"):
        lock.acquire()
    assert victim.read_text() == "do not truncate me" and not lock.held
    lock.path.unlink()
    lock.path.mkdir()  # not a regular file either
    with pytest.raises(HardwareError, match=r"cannot open the lock file|not a regular file"):
        lock.acquire()


def test_a_lock_folder_of_another_user_is_refused(
    lock_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock_dir.mkdir(mode=0o700)
    if os.geteuid() == 0:
        os.chown(lock_dir, 65534, 65534)  # as root: give the folder to 'nobody'
    else:
        monkeypatch.setattr(lock_module, "_uid", lambda: os.geteuid() + 1)
    with pytest.raises(HardwareError, match=r"belongs to user id \d+, not to you"):
        DeviceLock("GPIB0::4::INSTR").acquire()


def test_a_folder_others_can_write_must_be_sticky(lock_dir: Path) -> None:
    lock_dir.mkdir()
    lock_dir.chmod(0o777)
    with pytest.raises(HardwareError, match="writable by other users and not sticky"):
        DeviceLock("GPIB0::5::INSTR").acquire()
    lock_dir.chmod(0o1777)  # a shared folder, like /tmp: fine, and its lock files are shared
    with DeviceLock("GPIB0::5::INSTR") as lock:
        assert stat.S_IMODE(lock.path.stat().st_mode) == 0o666


def test_the_default_lock_folder_is_per_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PHYLL_LOCK_DIR")
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert default_lock_dir() == runtime / "phyll-locks"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = default_lock_dir()
    assert folder == tmp_path / f"phyll-locks-{os.geteuid()}"
    with DeviceLock("GPIB0::6::INSTR"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
