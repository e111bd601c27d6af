"""The empathy model: Expression -> Echo, how strongly and how soon the avatar answers a face.

The fourth stage, and a pure module: no pygame, cv2 or mediapipe, so it can be tested and plotted
on its own. Figures come from ../shared/SCIENCE.md; docs/empathy.md gives the equations.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from avatar.expression import Expression

FAMILIARITY_PRESETS = {"stranger": 0.1, "acquaintance": 0.5, "friend": 0.9}


class Condition(Enum):
    MIMIC = "mimic"
    DELAYED = "delayed"
    SHAM = "sham"
    STATIC = "static"


class Mapping(Enum):
    MIRROR = "mirror"
    ANATOMICAL = "anatomical"


@dataclass(frozen=True)
class EmpathySettings:
    """Every knob of the model, with its default and where it comes from."""

    familiarity: float | None = None  # None: grows while a face stays in view
    load: float = 0.2  # the avatar's own simulated load, a low constant by default
    condition: Condition = Condition.MIMIC
    delay_s: float = 4.0  # total lag in the `delayed` condition (Bailenson & Yee 2005)
    mapping: Mapping = Mapping.MIRROR
    guard: bool = True
    seed: int = 0
    familiarity_start: float = 0.1
    familiarity_tau_s: float = 120.0  # grows over minutes of engaged contact
    gain_floor: float = 0.25  # it always tries (Cannon et al. 2009; Ramsey et al. 2019)
    attack_s: float = 0.25  # SCIENCE.md: attack 0.2-0.3 s
    release_s: float = 0.8  # SCIENCE.md: release 0.6-1.0 s
    absent_fade_s: float = 0.6  # with no face the echo decays to neutral within ~2 s


@dataclass(frozen=True)
class Echo:
    """What the avatar answers in one frame, and why."""

    smile: float
    wince: float
    familiarity: float
    load: float
    gain: float
    delay_s: float


@dataclass
class _DelayLine:
    """Holds (t, value) samples so the echo can read the channel as it was `delay_s` ago."""

    samples: deque = field(default_factory=deque)

    def push(self, t_s: float, smile: float, wince: float) -> None:
        self.samples.append((t_s, smile, wince))

    def at(self, t_s: float) -> tuple[float, float]:
        while len(self.samples) > 1 and self.samples[1][0] <= t_s:
            self.samples.popleft()
        if not self.samples or self.samples[0][0] > t_s:
            return 0.0, 0.0
        return self.samples[0][1], self.samples[0][2]


def gain_for(familiarity: float, load: float, floor: float) -> float:
    """Monotone up in familiarity, down in load, never below `floor`."""
    return floor + (1.0 - floor) * (0.5 + 0.5 * familiarity) * (1.0 - 0.4 * load)


def onset_delay_for(familiarity: float, load: float) -> float:
    """About 0.4 s for a familiar, calm partner, towards 1 s for a stranger under load (SCIENCE.md)."""
    return 0.4 + 0.3 * (1.0 - familiarity) + 0.3 * load


class EmpathyModel:
    """Owns the state that persists across frames: familiarity, the delay line, the echo."""

    def __init__(self, settings: EmpathySettings = EmpathySettings()):
        self.settings = settings
        self.familiarity = settings.familiarity if settings.familiarity is not None else settings.familiarity_start
        self._delay_line = _DelayLine()
        self._echo_smile = 0.0
        self._echo_wince = 0.0
        self._last_t: float | None = None
        self._events: list[dict] = []

    def pop_events(self) -> list[dict]:
        events, self._events = self._events, []
        return events

    def step(self, t_s: float, expression: Expression, faces: int = 1) -> Echo:
        s = self.settings
        dt = 0.0 if self._last_t is None else max(0.0, t_s - self._last_t)
        self._last_t = t_s
        if s.familiarity is None and expression.present:
            self.familiarity += (1.0 - self.familiarity) * (1.0 - math.exp(-dt / s.familiarity_tau_s))
        load = min(1.0, s.load)
        gain = gain_for(self.familiarity, load, s.gain_floor)
        delay_s = onset_delay_for(self.familiarity, load)
        self._delay_line.push(t_s, expression.smile if expression.present else 0.0, expression.wince if expression.present else 0.0)
        seen_smile, seen_wince = self._delay_line.at(t_s - delay_s)
        target_smile, target_wince = gain * seen_smile, gain * seen_wince * (0.4 + 0.6 * self.familiarity)
        if s.condition is Condition.STATIC:
            target_smile = target_wince = 0.0
        self._echo_smile = _approach(self._echo_smile, target_smile, dt, s.attack_s, s.release_s)
        self._echo_wince = _approach(self._echo_wince, target_wince, dt, s.attack_s, s.release_s)
        return Echo(
            smile=self._echo_smile,
            wince=self._echo_wince,
            familiarity=self.familiarity,
            load=load,
            gain=gain,
            delay_s=delay_s,
        )


def _approach(current: float, target: float, dt: float, attack_s: float, release_s: float) -> float:
    """First-order follow with separate time constants for rising (attack) and falling (release)."""
    tau = attack_s if target > current else release_s
    alpha = 1.0 - math.exp(-dt / tau) if tau > 0 else 1.0
    return min(1.0, max(0.0, current + alpha * (target - current)))
