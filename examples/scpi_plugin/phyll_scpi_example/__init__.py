"""phyll example plugin: a SCPI instrument (and its emulator) driven through PyVISA.

- :mod:`phyll_scpi_example.emulator`: the instrument emulator (a TCP server on 127.0.0.1);
- ``instrument.toml``: the instrument's VISA spec, the whole driver;
- :mod:`phyll_scpi_example.plugin`: registers the systems ``scpi-demo`` (the instrument through
  PyVISA) and ``scpi-demo-model`` (the same response function computed directly).
"""

from pathlib import Path

SPEC_FILE = Path(__file__).with_name("instrument.toml")
DEFAULT_RESOURCE = "TCPIP0::127.0.0.1::5025::SOCKET"
