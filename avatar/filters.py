"""Smoothing that adapts to speed: the One Euro filter (Casiez, Roussel & Vogel, CHI 2012).

Used by the expression stage on each channel, on the SOURCE clock (t_s), so a file gives the
same result on any machine. Pure numpy-free Python: one small state object per channel.

Why our own and not the PyPI package `OneEuroFilter` (0.2.1, by the filter's authors, BSD): the
filter is twenty lines, we need an explicit reset for a new person, a guard for repeated or
backwards timestamps (a looped or still source repeats one; the package divides by the time
step), and a documented guarantee that the output never leaves the range of its inputs since
the last reset, which the tests check with hypothesis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class OneEuroSettings:
    """min_cutoff_hz: smoothing when still (lower = smoother); beta: how fast the cutoff rises with
    speed (higher = less lag on fast moves); d_cutoff_hz: smoothing of the speed estimate."""

    min_cutoff_hz: float = 1.5
    beta: float = 4.0
    d_cutoff_hz: float = 1.0


MIN_STEP_S = 1e-6


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    # The exponential smoothing factor of a first-order low-pass at `cutoff_hz` for a step of dt_s;
    # always in (0, 1], which is what keeps the output between the previous output and the input.
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """One scalar channel. `__call__(x, t_s)` returns the filtered value.

    The first sample (or the first after `reset`) passes through unchanged. A sample whose time
    does not advance (by more than a microsecond) leaves the state alone and returns the current output.
    """

    def __init__(self, settings: OneEuroSettings = OneEuroSettings()):
        if settings.min_cutoff_hz <= 0 or settings.d_cutoff_hz <= 0 or settings.beta < 0:
            raise ValueError(f"One Euro settings must be positive: {settings}")
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        self._x: float | None = None
        self._dx = 0.0
        self._t_s: float | None = None

    @property
    def value(self) -> float | None:
        return self._x

    def __call__(self, x: float, t_s: float) -> float:
        x = float(x)
        if self._x is None or self._t_s is None or not math.isfinite(self._x):
            self._x, self._dx, self._t_s = x, 0.0, float(t_s)
            return x
        dt_s = float(t_s) - self._t_s
        # Under a microsecond is no real step (frames are milliseconds apart), and a denormal one
        # would turn the speed into inf and 0 * inf into NaN.
        if not dt_s > MIN_STEP_S:
            return self._x
        s = self.settings
        dx = (x - self._x) / dt_s
        self._dx = self._dx + _alpha(s.d_cutoff_hz, dt_s) * (dx - self._dx)
        cutoff_hz = s.min_cutoff_hz + s.beta * abs(self._dx)
        blended = self._x + _alpha(cutoff_hz, dt_s) * (x - self._x)
        # Clamp away floating-point rounding: the result is a convex blend of the two.
        self._x = min(max(blended, min(self._x, x)), max(self._x, x))
        self._t_s = float(t_s)
        return self._x
