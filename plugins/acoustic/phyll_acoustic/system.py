"""The ``acoustic`` physical system: loudspeakers playing tones into a reverberant cavity, read
by microphones as spectrum magnitudes.

Signal chain for one input row ``x`` (``inputs`` amplitudes in [0, 1]):

1. Input ``i`` sets the amplitude of tone ``k = i mod T`` (``T = ceil(inputs / speakers)``
   tones, ``f_k = tone_start + k * tone_spacing``) on loudspeaker ``s = i // T``; each tone
   has Schroeder's phase ``phi_k`` (low crest factor). Normalised drive of speaker ``s``:
   ``u_s(t) = (1/T) sum_k x_sk cos(w_k t + phi_k)``, so ``|u_s| <= 1``.
2. Loudspeaker nonlinearity ``v_s = g(u_s)`` (tanh saturation or polynomial) creates
   harmonics and intermodulation products, all lines at multiples of the base frequency.
3. Cavity: line ``p`` of speaker ``s`` reaches the microphone multiplied by ``H_s(w_p)``, the
   damped modal sum of :mod:`phyll_acoustic.cavity`, normalised by a constant fixed at
   construction so that the RMS of ``|H_s(w_k)|`` over speakers and tones is 1.
4. Microphones: each of ``microphones`` microphones records a Hann-windowed stretch of
   length ``record_time`` read at the same ``outputs / microphones`` bin frequencies
   (amplitude-calibrated; output ``m * B + b`` is microphone ``m``'s bin ``b``), times
   ``gain * T`` (so a lone tone through a linear speaker reads ``gain * x |H_ms(w_k)|`` at its
   own frequency), plus complex Gaussian noise of RMS ``noise``; the output is the magnitude.

A ``preset`` (:mod:`phyll_acoustic.presets`) fills in parameters left unset.

Steps 1-4 are linear maps around one elementwise nonlinearity, so ``_forward`` is two matrix
products: ``u = x @ D`` (drive samples), ``Y = g(u) @ G`` (G = DFT -> H -> read-out, all
precomputed), then ``|Y + noise|``. Drift: a temperature step changes the speed of sound and
scales every mode frequency by ``c(T) / c(T0)``; only ``G`` is recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from phyll_acoustic.cavity import (
    ZERO_CELSIUS,
    Modes,
    Room,
    chaotic_modes,
    shoebox_modes,
    speed_of_sound,
    transfer,
)
from phyll_acoustic.noise import add_complex_noise
from phyll_acoustic.parameters import CavityParameters
from phyll_acoustic.presets import preset_value
from phyll_acoustic.signals import (
    Nonlinearity,
    line_readout,
    samples_per_period,
    schroeder_phases,
    tone_grid,
)
from phyll_acoustic.validation import parse_points
from phyll_core.domain import Domain, Interval
from phyll_core.errors import ParameterError
from phyll_core.system import Controls, Dims, SeededNoise

_BLAS: Any = None


def _single_thread_blas() -> Any:
    """Context manager limiting BLAS to one thread (threadpoolctl, controller cached)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


#: Rows processed at once in ``_forward`` (keeps the temporaries in cache).
CHUNK = 1024
#: Lines this many window resolutions (1 / record_time) above the highest bin are still read.
READ_MARGIN = 6.0
#: Modes are summed up to this multiple of the highest line frequency.
MODE_MARGIN = 1.5
#: Most microphones used when neither ``microphones``, their positions nor a preset say: as
#: many (up to this) as divide ``outputs`` and still read a bin per tone each (four distinct
#: complex mixes of every tone by default: no output pairs correlated above 0.99, see docs).
MICROPHONES = 4


@attrs.define(kw_only=True, eq=False)
class AcousticCavity(SeededNoise, CavityParameters):
    """Tones from ``speakers`` loudspeakers in a reverberant cavity, read as spectrum magnitudes
    at ``outputs`` bins of ``microphones`` microphones (see the module docstring).

    Inputs: (batch, ``inputs``) amplitudes in [0, 1]. Outputs: (batch, ``outputs``)
    non-negative magnitudes. Frequencies in Hz, lengths in metres, temperatures in degrees
    Celsius. The same ``seed`` gives the same cavity, positions, tone phases and noise sequence.
    ``perturb(strength, rng)`` changes the air temperature by ``strength`` kelvin with a random
    sign drawn from ``rng``.

    ``tone_gains=True`` makes the drive gain of every tone (every input component, one tone on
    one loudspeaker) a trainable control in [0, 1], initially 1: the drive becomes
    ``u = (x * gains) @ D``, so the controls set how strongly each tone drives the speaker's
    nonlinearity and the cavity (see :attr:`controls`).

    The parameters are the fields of :class:`~phyll_acoustic.parameters.CavityParameters`.
    """

    name = "acoustic"

    # derived state
    temperature0: float = attrs.field(init=False)
    room: Room = attrs.field(init=False, repr=False)
    source_positions: np.ndarray = attrs.field(init=False, repr=False)
    microphone_positions: np.ndarray = attrs.field(init=False, repr=False)
    modes: Modes = attrs.field(init=False, repr=False)
    tone_frequencies: np.ndarray = attrs.field(init=False, repr=False)
    bin_frequencies: np.ndarray = attrs.field(init=False, repr=False)
    _mics: int = attrs.field(init=False, repr=False)
    line_frequencies: np.ndarray = attrs.field(init=False, repr=False)
    _tones: int = attrs.field(init=False, repr=False)
    _speaker_of: np.ndarray = attrs.field(init=False, repr=False)
    _tone_of: np.ndarray = attrs.field(init=False, repr=False)
    _samples: int = attrs.field(init=False, repr=False)
    _drive: np.ndarray = attrs.field(init=False, repr=False)
    _dft: np.ndarray = attrs.field(init=False, repr=False)
    _direct: np.ndarray = attrs.field(init=False, repr=False)
    _image: np.ndarray = attrs.field(init=False, repr=False)
    _scale: float = attrs.field(init=False, repr=False)
    _mix: np.ndarray = attrs.field(init=False, repr=False)
    _speaker: Nonlinearity = attrs.field(init=False, repr=False)
    _noise_rng: np.random.Generator = attrs.field(init=False, repr=False)
    _gains: np.ndarray | None = attrs.field(init=False, repr=False, default=None)

    def __attrs_post_init__(self) -> None:
        try:
            self._build()
        except ValueError as exc:
            if isinstance(exc, ParameterError):
                raise
            raise ParameterError(f"system 'acoustic': {exc}") from None

    # -- construction ------------------------------------------------------------------------
    def _build(self) -> None:
        rng = np.random.default_rng([self.seed, 0])
        self._noise_rng = np.random.default_rng([self.seed, 1])
        self.temperature0 = float(self.temperature)
        self._tones = -(-self.inputs // self.speakers)
        if -(-self.inputs // self._tones) != self.speakers:
            raise ParameterError(
                f"parameter 'speakers' ({self.speakers}) does not fit inputs ({self.inputs}):"
                f" with {self._tones} tone(s) per loudspeaker only"
                f" {-(-self.inputs // self._tones)} loudspeaker(s) would play"
            )
        i = np.arange(self.inputs)
        self._speaker_of, self._tone_of = i // self._tones, i % self._tones
        grid = tone_grid(self.tone_start, self.tone_spacing, self._tones)
        self.tone_frequencies = grid.frequencies
        self._speaker = Nonlinearity(self.nonlinearity, self.saturation, self.beta, self.gamma)

        # output bins (the same on every microphone) and the recording
        # microphones: as given, else as many as the positions given, else the preset's, else
        # the most (<= 4) that divide the outputs with at least one bin per tone each
        placed = len([p for p in self.microphone.split(";") if p.strip()])
        self._mics = self.microphones or placed or self._unset("microphones") or max(
            m
            for m in range(1, MICROPHONES + 1)
            if m == 1 or (self.outputs % m == 0 and self.outputs // m >= self._tones)
        )
        if self.outputs % self._mics:
            raise ParameterError(
                f"parameter 'outputs' ({self.outputs}) must be a multiple of microphones"
                f" ({self._mics}): every microphone reads the same bins (set microphones=1 for"
                " one microphone)"
            )
        bins = self.outputs // self._mics
        duration = self._unset("record_time") or 3.0 / self.tone_spacing
        # default: ``bins`` bins ``T * spacing / bins`` apart spanning the tone band, placed so
        # that every tone has a bin on it when bins is a multiple of T
        step = self._tones * self.tone_spacing / bins
        low = self._unset("bin_low") or self.tone_start - (bins // (2 * self._tones)) * step
        high = self._unset("bin_high") or low + (bins - 1) * step
        if high < low:
            raise ParameterError(f"bin_high ({high:g} Hz) must be >= bin_low ({low:g} Hz)")
        mic_bins = np.linspace(low, high, bins)
        self.bin_frequencies = np.tile(mic_bins, self._mics)

        # spectral lines seen by the read-out and the time grid holding them alias-free
        top = math.ceil((high + READ_MARGIN / duration) / grid.base)
        self._samples = self.time_samples or samples_per_period(
            int(grid.harmonics[-1]), top, self._speaker.order
        )
        if self._samples <= 2 * int(grid.harmonics[-1]):
            raise ParameterError(
                f"parameter 'time_samples' ({self._samples}) must exceed twice the highest tone"
                f" harmonic ({2 * int(grid.harmonics[-1])})"
            )
        lines = np.arange(1, min(top, (self._samples - 1) // 2) + 1)
        self.line_frequencies = lines * grid.base
        t = np.arange(self._samples) / self._samples  # in periods of the base frequency
        self._dft = (2.0 / self._samples) * np.exp(-2j * np.pi * np.outer(t, lines))  # (M, L)
        self._direct, self._image = line_readout(
            2 * np.pi * self.line_frequencies, 2 * np.pi * mic_bins, duration
        )

        # drive matrix: input i -> speaker s's time samples, D[i, s*M + j]; every speaker plays
        # its tones with Schroeder phases (a low crest-factor multitone)
        arg = 2 * np.pi * np.outer(grid.harmonics[self._tone_of], t)
        arg += schroeder_phases(self._tones)[self._tone_of][:, None]
        drive = np.zeros((self.inputs, self.speakers, self._samples))
        drive[i, self._speaker_of, :] = np.cos(arg) / self._tones
        self._drive = drive.reshape(self.inputs, -1).astype(np.float32)

        # cavity
        self.room = Room(self.room_length, self.room_width, self.room_height)
        self.source_positions = self._positions("sources", self.speakers, rng)
        self.microphone_positions = self._positions("microphone", self._mics, rng)
        c0 = speed_of_sound(self.temperature0)
        # the cut-off depends on the read band only (top >= high), not on the time grid, so the
        # cavity is the same whatever the loudspeaker model or time_samples
        k_max = MODE_MARGIN * 2 * np.pi * top * grid.base / c0
        if self.room.weyl_count(np.array(k_max)) > 2_000_000:
            raise ParameterError(
                "the cavity has more than 2,000,000 modes below the highest read frequency;"
                " use a smaller room or lower frequencies"
            )
        if self.cavity == "room":
            self.modes = shoebox_modes(
                self.room, self.source_positions, self.microphone_positions, k_max
            )
        else:
            self.modes = chaotic_modes(self.room, self.speakers, k_max, rng, self._mics)
        h_tones = self._raw_transfer(self.tone_frequencies, c0)  # (mics, S, T)
        used = np.zeros((self.speakers, self._tones), dtype=bool)
        used[self._speaker_of, self._tone_of] = True
        self._scale = float(1.0 / np.sqrt(np.mean(np.abs(h_tones[:, used]) ** 2)))
        self._update_mix()

    def _unset(self, name: str) -> Any:
        """Parameter ``name`` as given, or the preset's value when it was left unset."""
        return preset_value(self.preset, name, getattr(self, name))

    def _positions(self, what: str, count: int, rng: np.random.Generator) -> np.ndarray:
        # always draw, so the random stream does not depend on which positions were given
        drawn = rng.uniform(0.05, 0.95, (count, 3)) * self.room.sides
        text = getattr(self, what)
        if not text:  # a preset's positions serve only for its own number of points
            text = self._unset(what)
            text = text if len([p for p in text.split(";") if p.strip()]) == count else ""
        given = parse_points(text, what, count)
        if given is None:
            return drawn
        if not self.room.contains(given).all():
            raise ParameterError(
                f"parameter '{what}': every point must lie inside the room"
                f" [0, {self.room_length:g}] x [0, {self.room_width:g}] x"
                f" [0, {self.room_height:g}] m, got {text!r}"
            )
        return given

    def _raw_transfer(self, frequencies: np.ndarray, c: float) -> np.ndarray:
        damping: dict[str, Any] = (
            {"q": self.q}
            if self.q is not None
            else {
                "absorption": self.absorption,
                "surface": self.room.surface,
                "volume": self.room.volume,
            }
        )
        h = transfer(self.modes, 2 * np.pi * np.asarray(frequencies), c, **damping)
        return h.reshape(self._mics, self.speakers, -1)

    def _update_mix(self) -> None:
        """Recompute G (speaker time samples -> complex bins) for the current temperature."""
        h = self.transfer_functions(self.line_frequencies)  # (mics, S, L)
        # Y_b = sum_p H_p c_p direct[p, b] + conj(H_p c_p) image[p, b], c_p = v @ dft[:, p]
        hd = self._dft[None, None, :, :] * h[:, :, None, :]  # (mics, S, M, L)
        g = hd @ self._direct + np.conj(hd) @ self._image  # (mics, S, M, B)
        # rows: speaker s's time sample j (s * M + j); columns: microphone m's bin b (m * B + b)
        g = self.gain * self._tones * g.transpose(1, 2, 0, 3).reshape(-1, self.outputs)
        self._mix = np.concatenate([g.real, g.imag], axis=1).astype(np.float32)

    # -- public physics ----------------------------------------------------------------------
    @property
    def speed_of_sound(self) -> float:
        """Current speed of sound (m/s)."""
        return speed_of_sound(self.temperature)

    @property
    def microphone_position(self) -> np.ndarray:
        """Position (3,) of the first microphone (m); all of them: ``microphone_positions``."""
        return self.microphone_positions[0]

    def transfer_functions(self, frequencies: Any) -> np.ndarray:
        """Normalised complex transfer functions ``H_ms(f)`` from every loudspeaker ``s`` to
        every microphone ``m`` at ``frequencies`` (Hz) for the current temperature, shape
        (microphones, speakers, len(frequencies))."""
        f = np.atleast_1d(np.asarray(frequencies, dtype=np.float64))
        return self._scale * self._raw_transfer(f, self.speed_of_sound)

    def transfer_function(self, frequencies: Any, microphone: int = 0) -> np.ndarray:
        """``transfer_functions`` to one microphone: shape (speakers, len(frequencies))."""
        return self.transfer_functions(frequencies)[microphone]

    def mode_frequencies(self) -> np.ndarray:
        """Mode frequencies ``f_n = c(T) k_n / (2 pi)`` (Hz) at the current temperature."""
        return self.speed_of_sound * self.modes.k / (2 * np.pi)

    # -- PhysicalSystem ----------------------------------------------------------------------
    @classmethod
    def dims(cls, params: Mapping[str, Any]) -> Dims:
        """``inputs`` tone amplitudes in [0, 1] in, ``outputs`` bins out (without building
        the cavity)."""
        return Dims(params["inputs"], params["outputs"], Interval(0.0, 1.0))

    @property
    def noisy(self) -> bool:
        """Noisy whenever ``noise`` is on."""
        return self.noise > 0

    @property
    def input_dim(self) -> int:
        return self.inputs

    @property
    def output_dim(self) -> int:
        return self.outputs

    @property
    def domain(self) -> Domain:
        return Interval(0.0, 1.0)

    @property
    def controls(self) -> Controls | None:
        if not self.tone_gains:
            return None
        return Controls(self.inputs, Interval(0.0, 1.0), "drive gain of every tone")

    def _get_controls(self) -> np.ndarray:
        return np.ones(self.inputs) if self._gains is None else self._gains.copy()

    def _set_controls(self, theta: np.ndarray) -> None:
        self._gains = theta.copy()

    def _forward(self, x: np.ndarray) -> np.ndarray:
        # The products are thin (20 x ~200): multithreaded BLAS only adds synchronisation
        # (and is much slower on a busy machine), so run them on one thread.
        with _single_thread_blas():
            return self._compute(x)

    def _compute(self, x: np.ndarray) -> np.ndarray:
        g = self._speaker.function()
        out = np.empty((x.shape[0], self.outputs), dtype=np.float64)
        xf = x.astype(np.float32)
        if self.tone_gains and self._gains is not None:
            xf *= self._gains.astype(np.float32)
        b = self.outputs
        for start in range(0, x.shape[0], CHUNK):
            stop = min(start + CHUNK, x.shape[0])
            y = g(xf[start:stop] @ self._drive) @ self._mix  # (n, 2B): real | imag
            if self.noise > 0:
                add_complex_noise(y, self.noise, self._noise_rng)
            np.hypot(y[:, :b], y[:, b:], out=out[start:stop])
        return out

    def set_temperature(self, celsius: float) -> None:
        """Set the air temperature (degrees Celsius): every mode frequency becomes
        ``c(T) k_n / 2 pi``; the normalisation of H stays the one fixed at construction."""
        if not (math.isfinite(celsius) and celsius > -ZERO_CELSIUS):
            raise ValueError(f"temperature {celsius!r} C is not above absolute zero")
        self.temperature = float(celsius)
        self._update_mix()

    def _perturb(self, strength: float, rng: np.random.Generator) -> None:
        """Temperature step of ``strength`` kelvin, sign +/- drawn from ``rng``."""
        if strength == 0:
            return
        sign = 1.0 if rng.random() < 0.5 else -1.0
        new = self.temperature + sign * strength
        if new <= -ZERO_CELSIUS:
            raise ValueError(
                f"a temperature step of {sign * strength:+g} K from {self.temperature:g} C would"
                " go below absolute zero"
            )
        self.set_temperature(new)

    def status(self) -> dict[str, Any]:
        return {
            "temperature (C)": round(self.temperature, 4),
            "c(T)/c(T0)": round(self.speed_of_sound / speed_of_sound(self.temperature0), 6),
        }
