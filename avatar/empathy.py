"""The empathy model: Expression -> Echo, how strongly and how soon the avatar answers a face.

The fourth stage, and a pure module: no pygame, cv2 or mediapipe, so it can be tested and plotted
on its own. Figures come from the facial-mimicry papers docs/empathy.md lists (References), with the equations.

One `EmpathyModel` per session owns everything that persists across frames (familiarity, the delay
line, the per-event lapse draws, what it learned of this visitor, the sham timeline). It runs on the
source's clock (`t_s` handed to `step`), never on wall-clock time, so a file gives the same echo on
any machine, and every random choice comes from `EmpathySettings.seed`.
"""

from __future__ import annotations

import math
import random
import threading
from bisect import bisect_right
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from avatar.events import Event, Lapse, Learned, LoadClipped, NewPerson, SettingChanged
from avatar.expression import Expression
from avatar.settings_schema import setting, validate_settings

FAMILIARITY_PRESETS = {"stranger": 0.1, "acquaintance": 0.5, "friend": 0.9}


class Condition(Enum):
    MIMIC = "mimic"  # the model below
    DELAYED = "delayed"  # the same echo, its total lag fixed to `delay_s` (Bailenson & Yee 2005)
    SHAM = "sham"  # realistic echo statistics that do not follow this person
    STATIC = "static"  # no echo at all; the rig keeps idle life


class Mapping(Enum):
    MIRROR = "mirror"  # the avatar moves like a mirror image (VIRTUO: liked)
    ANATOMICAL = "anatomical"  # left is left (VIRTUO: not liked); a study variable


# Defaults that module-level helpers share with `EmpathySettings`.
GAIN_FLOOR = 0.1
SMILE_FAMILIARITY_BASE = 0.2
WINCE_FAMILIARITY_BASE = 0.05
LOAD_DAMPING = 0.6


@dataclass(frozen=True)
class EmpathySettings:
    """Every knob of the model, with its default and where it comes from (see docs/empathy.md)."""

    # --- the study variables -------------------------------------------------------------------
    familiarity: float | None = setting(None, low=0, high=1, names=FAMILIARITY_PRESETS)  # fixed 0-1, or None: starts at `familiarity_start` and grows
    load: float = setting(0.2, low=0, high=1, soft_high=True)  # the avatar's own simulated load 0-1 (above 1 is clipped, with a note)
    condition: Condition = setting(Condition.MIMIC)
    delay_s: float = setting(4.0, low=0, high=60, aliases=("delay",))  # total lag in the `delayed` condition (Bailenson & Yee 2005: 4 s)
    mapping: Mapping = setting(Mapping.MIRROR)  # mirror is liked, anatomical is not (VIRTUO)
    guard: bool = setting(True)  # the sweet-spot guard (Wicher, Farmer & Hamilton 2024)
    seed: int = setting(0)
    anticipation: bool = setting(True)  # a familiar face's echo leads toward where the expression is going

    # --- familiarity -----------------------------------------------------------------------------
    familiarity_start: float = setting(0.2, low=0, high=1)  # a visitor who sits down is a little more than a stranger (0.1)
    familiarity_tau_s: float = setting(120.0, above=0)  # grows over minutes of engaged contact
    familiarity_decay_tau_s: float = setting(600.0, above=0)  # fades, more slowly, toward the start while the face is gone
    new_person_after_s: float | None = setting(30.0, low=0)  # absent this long: the next face is a new visitor (None: never)
    engaged_yaw_deg: float = setting(30.0, low=0)  # looking at the avatar: |yaw| and |pitch| within these (soft edge)
    engaged_pitch_deg: float = setting(25.0, low=0)
    expressive_level: float = setting(0.3, low=0)  # a smile or wince above this counts as expressive ...
    expressive_memory_s: float = setting(10.0, low=0)  # ... for this long

    # --- gain (Bourgeois & Hess 2008; Fischer et al. 2012; Cannon et al. 2009; Ramsey et al. 2019) --
    gain_floor: float = setting(GAIN_FLOOR, above=0, high=1)  # it always tries: load never silences mimicry
    smile_familiarity_base: float = setting(SMILE_FAMILIARITY_BASE, low=0, high=1)  # smiles are echoed for everyone ...
    wince_familiarity_base: float = setting(WINCE_FAMILIARITY_BASE, low=0, high=1)  # ... winces mainly for the in-group
    load_damping: float = setting(LOAD_DAMPING, low=0, high=1)  # gain x (1 - damping * load^2): light load hardly matters
    smile_full: float = setting(0.6, above=0)  # a smile channel this high is a broad smile, answered in full by the gain
    wince_full: float = setting(0.6, above=0)
    wince_softening: float = setting(0.5, low=0, high=1)  # a wince is answered with concern, the wince itself softened (Sun et al. 2015)

    # --- distress: pain or sadness is answered with concern, never with a smile (Sun et al. 2015) ------
    distress_no_smile_from: float = setting(0.15, low=0, high=1, less_than="distress_no_smile_at")  # distress above this starts to take the smile out of the echo ...
    distress_no_smile_at: float = setting(0.35, low=0, high=1)  # ... and from here no smile is echoed at all, whatever the smile channel says
    distress_smile_release_s: float = setting(0.3, above=0)  # a smile already shown leaves this fast once distress appears
    distress_memory_s: float = setting(4.0, above=0)  # distress keeps the smile away, fading with this time constant (crying flickers)
    concern_floor: float = setting(0.35, low=0, high=1)  # clear distress gets at least this much concern, even from a stranger
    concern_attack_s: float = setting(0.6, above=0)  # concern comes on slower and gentler than a smile (attack_s)

    # --- timing (Dimberg & Thunberg 1998; Dimberg et al. 2000) ------------------------------------
    delay_min_s: float = setting(0.35, low=0)  # onset delay for a friend at no load
    delay_unfamiliar_s: float = setting(0.35, low=0)  # added for a complete stranger
    delay_load_s: float = setting(0.3, low=0)  # added at full load: 0.4 s (friend, calm) .. ~0.95 s (stranger, loaded)
    attack_s: float = setting(0.25, above=0)  # attack 0.2-0.3 s (Dimberg & Thunberg 1998)
    release_s: float = setting(0.8, above=0)  # release 0.6-1.0 s: the echo outlasts the expression (Dimberg & Thunberg 1998)
    absent_fade_s: float = setting(0.6, above=0)  # release time when the face is gone
    delayed_smoothing_s: float = setting(0.12, above=0)  # the short smoothing of the `delayed` echo (its lag is compensated)

    # --- what the scene adds to load ---------------------------------------------------------------
    load_per_extra_face: float = setting(0.15, low=0)  # each face beyond the first ...
    load_faces_max: float = setting(0.3, low=0)  # ... up to this
    load_motion_max: float = setting(0.2, low=0)  # fast head motion adds up to this ...
    motion_low_deg_s: float = setting(45.0, low=0)  # ... from this head speed ...
    motion_high_deg_s: float = setting(150.0, low=0)  # ... to this

    # --- expression events and lapses (Greta: 0.6-0.8 mimicked; Furhat: ~50 %) --------------------
    event_on: float = setting(0.25, low=0, high=1)  # a channel crossing this starts an expression event ...
    event_off: float = setting(0.12, low=0, high=1, less_than="event_on")  # ... and dropping below this ends it
    rest_level: float = setting(0.08, low=0, high=1)  # below this the face is at rest (an event's echo starts from here)
    lapse_max: float = setting(0.6, low=0, high=1)  # lapse chance = lapse_max * load^exponent * (1 - relief * familiarity)
    lapse_load_exponent: float = setting(1.5, above=0)  # lapses are a heavy-load effect: ~0.05 at load 0.2, ~0.5 at 0.9
    lapse_familiarity_relief: float = setting(0.5, low=0, high=1)
    lapse_residual: float = setting(0.15, low=0, high=1)  # a lapsed event is echoed at this fraction: a trace, never quite silent
    lapse_grace_events: int = setting(1, low=0)  # the first events of a visit are always answered
    variability: float = setting(0.05, low=0)  # per-event echo size varies by +-(variability + variability_load * load)
    variability_load: float = setting(0.15, low=0)

    # --- anticipation ------------------------------------------------------------------------------
    anticipation_window_s: float = setting(0.3, above=0)  # fit a line to the channel's last 0.3 s ...
    anticipation_horizon_s: float = setting(0.25, low=0)  # ... and read it 250 ms ahead
    anticipation_strength: float = setting(0.8, low=0, high=1)  # the lead weight is strength * familiarity

    # --- learning by imitation ---------------------------------------------------------------------
    imitation_strength: float = setting(0.5, low=0, high=1)  # how far the avatar takes on the visitor's tempo and smile size
    imitation_events_half: float = setting(2.0, low=0)  # confidence n / (n + this) after n smile events

    # --- the sweet-spot guard ---------------------------------------------------------------------
    guard_ratio: float = setting(0.85, low=0, high=1)  # the echo stays at most 85 % of the person's expression

    # --- sham (the tuples are set in Python only; a config file cannot give them) -------------------
    sham_on_s: tuple[float, float] = (1.0, 4.0)  # sham smile durations
    sham_off_s: tuple[float, float] = (1.5, 6.0)  # gaps between them
    sham_amplitude: tuple[float, float] = (0.5, 0.9)
    sham_max_lag_s: float = setting(4.5, low=0)  # the sham is kept uncorrelated with the person at lags 0..this

    def __post_init__(self) -> None:
        # The ranges are the fields' own (avatar.settings_schema): a config file is checked against the same ones.
        validate_settings(self, "empathy")


def familiarity_factor(familiarity: float, base: float = SMILE_FAMILIARITY_BASE) -> float:
    """The familiarity part of the gain: `base` for a complete stranger, 1 for a close friend."""
    return base + (1.0 - base) * familiarity


def load_factor(load: float, damping: float = LOAD_DAMPING) -> float:
    """The load part of the gain: 1 at no load, 1 - damping at full load; quadratic, so light load hardly matters."""
    return 1.0 - damping * min(1.0, max(0.0, load)) ** 2


def gain_for(familiarity: float, load: float, floor: float = GAIN_FLOOR, familiarity_base: float = SMILE_FAMILIARITY_BASE,
             load_damping: float = LOAD_DAMPING) -> float:
    """Monotone up in familiarity, down in load, never below `floor` (the avatar always tries)."""
    return floor + (1.0 - floor) * familiarity_factor(familiarity, familiarity_base) * load_factor(load, load_damping)


def onset_delay_for(familiarity: float, load: float, settings: EmpathySettings | None = None) -> float:
    """About 0.4 s for a familiar, calm partner, towards 1 s for a stranger under load (Dimberg & Thunberg 1998; Cannon, Hayes & Tipper 2009)."""
    s = settings or _DEFAULTS
    return s.delay_min_s + s.delay_unfamiliar_s * (1.0 - familiarity) + s.delay_load_s * min(1.0, max(0.0, load))


def lapse_probability(familiarity: float, load: float, settings: EmpathySettings | None = None) -> float:
    """The chance that an expression event goes unanswered: grows with load, familiarity relieves it."""
    s = settings or _DEFAULTS
    return s.lapse_max * min(1.0, max(0.0, load)) ** s.lapse_load_exponent * (1.0 - s.lapse_familiarity_relief * familiarity)


@dataclass(frozen=True)
class EchoDiagnostics:
    """Why the avatar answered as it did in one frame: for the logs, the classroom and the plots.

    `target_wince` and `gain_wince` keep their names from before there was a sadness channel: they
    are the distress target and gain.
    """

    target_smile: float = 0.0  # what the echo is moving toward this frame
    target_wince: float = 0.0
    lapse: bool = False  # this frame echoes a lapsed expression event
    p_lapse: float = 0.0  # the lapse chance for an event starting now
    anticipated_smile: float = 0.0  # the smile channel predicted `anticipation_horizon_s` ahead
    gain_familiarity: float = 1.0  # the familiarity part of the smile gain
    gain_load: float = 1.0  # the load part of the gain
    gain_wince: float = 0.0  # the wince gain (weighted more by familiarity)
    load_scene: float = 0.0  # what the scene added to the configured load (faces, head motion, chat)
    attack_s: float = 0.25  # attack and release used (adapted to the visitor's tempo)
    release_s: float = 0.8
    learned_smile_peak: float = 0.0  # the visitor's typical smile size, learned by imitation
    learned_smile_rise_s: float = 0.0  # the visitor's typical smile rise time (tempo)
    learned_smile_fall_s: float = 0.0
    learned_smile_roll_deg: float = 0.0  # the head tilt that comes with their smile
    learned_events: int = 0  # smile events learned from this visitor


NO_DIAGNOSTICS = EchoDiagnostics()


@dataclass(frozen=True)
class Echo:
    """What the avatar answers in one frame, under which familiarity and load; `diagnostics` says why.

    `smile`, `wince` and `concern` are 0-1. `concern` is how much it answers the person's distress
    (pain or sadness) with concern (raised inner brows, a soft closed mouth), and `wince` the softened
    wince that goes with it. Lateral values (`smile_roll_deg`) are in the person's frame, like
    `Expression.roll_deg`; `mirror` says how the rig should turn them into the avatar's own (the same
    way it turns the tracked head pose).
    """

    smile: float
    wince: float
    familiarity: float
    load: float
    gain: float  # the smile gain actually used (after the guard)
    delay_s: float  # the onset delay used (mimic), or the total lag (delayed)
    concern: float = 0.0
    smile_roll_deg: float = 0.0  # the head tilt that goes with this echo (person's frame)
    mirror: bool = True
    diagnostics: EchoDiagnostics = NO_DIAGNOSTICS

    @staticmethod
    def neutral(familiarity: float = 0.0, load: float = 0.0) -> Echo:
        return Echo(smile=0.0, wince=0.0, familiarity=familiarity, load=load, gain=0.0, delay_s=0.0)


_DEFAULTS = EmpathySettings()
_LOOKBACK_S = 0.3  # how far back an event's onset marks the frames of its rise
_EPS_T = 1e-9  # samples at t - delay on the same frame grid must be read exactly, despite float sums


@dataclass(slots=True)
class _Heard:
    """One channel of one frame in the delay line, stored with how the avatar would answer it then.

    `factor` is what the frame's expression event is echoed at (1 +- variability, or the lapse
    residual); it is set retroactively back to where the event left rest, once the event's lapse has
    been drawn (so this is mutable, unlike the types between stages).
    """

    value: float
    gain: float
    factor: float = 1.0
    lapsed: bool = False


@dataclass(slots=True)
class _DelayedFrame:
    """One frame of the delay line. The smile is stored as it may be echoed: already without the
    part that came with distress."""

    smile: _Heard
    distress: _Heard
    smile_full: float  # what counts as a full smile for this visitor at the time

    def channel(self, name: str) -> _Heard:
        return self.smile if name == "smile" else self.distress


class _History:
    """The delay line: one _DelayedFrame per processed frame, found by time."""

    def __init__(self) -> None:
        self.ts: list[float] = []
        self.rows: list[_DelayedFrame] = []

    def push(self, t_s: float, row: _DelayedFrame) -> None:
        self.ts.append(t_s)
        self.rows.append(row)

    def at(self, t_s: float) -> _DelayedFrame | None:
        i = bisect_right(self.ts, t_s + _EPS_T) - 1
        return self.rows[i] if i >= 0 else None

    def since(self, t_s: float) -> range:
        return range(bisect_right(self.ts, t_s + _EPS_T), len(self.ts))

    def trim(self, keep_after_s: float) -> None:
        i = bisect_right(self.ts, keep_after_s) - 1
        if i > 512:  # trim in batches so the cost stays amortised O(1)
            del self.ts[:i]
            del self.rows[:i]

    def clear(self) -> None:
        self.ts.clear()
        self.rows.clear()


CHANNELS = ("smile", "distress")


class _EventTracker:
    """Finds the onset and end of one channel's expression events and draws each event's lapse."""

    def __init__(self, channel: str, rng: random.Random):
        self.channel = channel
        self.rng = rng
        self.reset()

    def reset(self) -> None:
        self.in_event = False
        self.count = 0
        self.factor = 1.0
        self.lapsed = False
        self.rest_t = -math.inf  # the last time the channel was at rest
        self.samples: list[tuple[float, float, float]] = []  # (t, value, roll) of the current event

    def update(self, t_s: float, value: float, roll_deg: float, p_lapse: float, load: float, s: EmpathySettings,
               history: _History) -> tuple[dict | None, dict | None]:
        """Returns (onset info, finished event) when this frame starts or ends an event."""
        onset = finished = None
        if not self.in_event and value >= s.event_on:
            self.in_event = True
            self.count += 1
            # Always draw both numbers, so the stream (and so every later draw) depends only on the seed
            # and on how many events there were: same seed, same input -> same lapses.
            u_lapse, u_size = self.rng.random(), self.rng.random()
            self.lapsed = self.count > s.lapse_grace_events and u_lapse < p_lapse
            size = 1.0 + (s.variability + s.variability_load * load) * (2.0 * u_size - 1.0)
            self.factor = (s.lapse_residual if self.lapsed else 1.0) * size
            # The rise from rest belongs to this event, as far back as _LOOKBACK_S: frames older than that
            # may already have been echoed (the shortest onset delay is 0.35 s), and an echo never changes
            # a frame it has already shown.
            start_t = max(self.rest_t, t_s - _LOOKBACK_S)
            for i in history.since(start_t):
                heard = history.rows[i].channel(self.channel)
                heard.factor, heard.lapsed = self.factor, self.lapsed
            self.samples = [(history.ts[i], history.rows[i].channel(self.channel).value, math.nan)
                            for i in history.since(self.rest_t)]
            onset = {"event": self.count, "lapsed": self.lapsed, "p_lapse": p_lapse}
        elif self.in_event and value < s.event_off:
            self.in_event = False
            finished = self._summary(t_s)
        if self.in_event:
            self.samples.append((t_s, value, roll_deg))
            if len(self.samples) > 2000:  # a very long smile: keep its start, thin the rest
                del self.samples[1000:1500]
        if value < s.rest_level:
            self.rest_t = t_s
            if not self.in_event:
                self.lapsed = False
        return onset, finished

    def _summary(self, t_end: float) -> dict | None:
        if len(self.samples) < 3 or t_end - self.samples[0][0] < 0.3:
            return None
        ts = np.array([x[0] for x in self.samples])
        vs = np.array([x[1] for x in self.samples])
        rolls = np.array([x[2] for x in self.samples])
        peak = float(np.percentile(vs, 90))
        high = np.nonzero(vs >= 0.9 * peak)[0]
        held = (vs >= 0.5 * peak) & ~np.isnan(rolls)
        return {
            "peak": peak,
            "rise_s": float(ts[high[0]] - ts[0]),
            "fall_s": float(t_end - ts[high[-1]]),
            "roll_deg": float(np.mean(rolls[held])) if held.any() else 0.0,
        }


@dataclass
class _Learned:
    """What the avatar has learned of this visitor's smile (a small per-visitor state)."""

    events: int = 0
    peak: float = 0.0
    rise_s: float = 0.0
    fall_s: float = 0.0
    roll_deg: float = 0.0  # relative to their head roll at rest

    def add(self, summary: dict, rest_roll_deg: float) -> None:
        self.events += 1
        k = max(0.3, 1.0 / self.events)  # a running mean at first, then an EMA that follows the visit
        self.peak += k * (summary["peak"] - self.peak)
        self.rise_s += k * (summary["rise_s"] - self.rise_s)
        self.fall_s += k * (summary["fall_s"] - self.fall_s)
        self.roll_deg += k * (summary["roll_deg"] - rest_roll_deg - self.roll_deg)


class _Sham:
    """A seeded timeline of smile events (durations 1-4 s) kept uncorrelated with this person.

    A replay of random events correlates with a 20 s session by chance (|r| ~ 0.3 is common), so the
    timeline is steered: while an event or gap may end (within its allowed duration), it ends or goes on
    in the direction that pulls the running correlation between the echo and the person's smile, at every
    lag 0..`sham_max_lag_s`, back toward zero. Durations and sizes keep their realistic ranges.
    """

    MAX_LAGS = 600

    def __init__(self, seed: int, s: EmpathySettings):
        self.rng = random.Random(f"sham-{seed}")
        self.on = False
        self.since_t: float | None = None
        self.amplitude = 0.0
        self._plan(s)
        n = self.MAX_LAGS
        self.n = np.zeros(n)
        self.sx = np.zeros(n)
        self.sxx = np.zeros(n)
        self.sy = np.zeros(n)
        self.syy = np.zeros(n)
        self.sxy = np.zeros(n)
        self.horizon = 30  # frames looked ahead (~1 s); set from the frame rate as frames arrive
        self.frame_s = 1.0 / 30.0
        self.x_recent: list[float] = []  # newest first
        self.t_recent: list[float] = []

    def _plan(self, s: EmpathySettings) -> None:
        lo, hi = s.sham_on_s if self.on else s.sham_off_s
        self.min_s, self.max_s = lo, hi
        self.preferred_s = self.rng.uniform(lo, hi)
        if self.on:
            self.amplitude = self.rng.uniform(*s.sham_amplitude)

    def _direction(self) -> float:
        """> 0: a higher echo over the coming second would raise the correlations' size; < 0: lower it.

        0 while there is no view yet. It is the gradient of the sum over lags of the squared
        correlation. For lag k the coming echo frames meet the person's smile k frames earlier: known
        for the first k of them, assumed to stay at its present value after that.
        """
        m = len(self.x_recent)
        if m == 0:
            return 0.0
        n, sx, sxx, sy, syy, sxy = (a[:m] for a in (self.n, self.sx, self.sxx, self.sy, self.syy, self.sxy))
        vx = n * sxx - sx * sx
        vy = n * syy - sy * sy
        good = (n >= 30) & (vx > 1e-9 * n * n) & (vy > 1e-9 * n * n)
        if not good.any():
            return 0.0
        r = np.zeros(m)
        r[good] = (n[good] * sxy[good] - sx[good] * sy[good]) / np.sqrt(vx[good] * vy[good])
        if np.max(np.abs(r)) < 0.03:
            return 0.0
        x = np.array(self.x_recent)  # x[i] = the person's smile i frames ago
        h = self.horizon
        padded = np.concatenate([np.full(h - 1, x[0]), x])
        c = np.concatenate([[0.0], np.cumsum(padded)])
        window = (c[h:h + m] - c[:m]) / h  # mean of x[k], x[k-1], ..., x[k-h+1], for every lag k
        mean_x = sx / np.maximum(n, 1.0)
        sd_x = np.sqrt(np.maximum(vx, 1e-12)) / np.maximum(n, 1.0)
        return float(np.sum(np.where(good, r * (window - mean_x) / np.maximum(sd_x, 1e-3), 0.0)))

    def step(self, t_s: float, s: EmpathySettings) -> float:
        """The sham smile channel at `t_s`."""
        if self.since_t is None:
            self.since_t = t_s
        elapsed = t_s - self.since_t
        if elapsed >= self.max_s:
            switch = True
        elif elapsed < self.min_s:
            switch = False
        else:
            d = self._direction()
            switch = elapsed >= self.preferred_s if d == 0.0 else (d < 0.0) != self.on
        if switch:
            self.on = not self.on
            self.since_t = t_s
            self._plan(s)
        return self.amplitude if self.on else 0.0

    def observe(self, t_s: float, person_smile: float, echo_smile: float, max_lag_s: float) -> None:
        """Add one frame (the person's smile, the echo shown) to the running lagged correlations."""
        self.x_recent.insert(0, person_smile)
        self.t_recent.insert(0, t_s)
        while len(self.x_recent) > self.MAX_LAGS or (len(self.t_recent) > 1 and t_s - self.t_recent[-1] > max_lag_s):
            self.x_recent.pop()
            self.t_recent.pop()
        m = len(self.x_recent)
        if m > 10:
            self.frame_s = max(1e-3, (self.t_recent[0] - self.t_recent[-1]) / (m - 1))
            self.horizon = max(1, min(120, int(round(1.0 / self.frame_s))))  # look ~1 s ahead
        x = np.array(self.x_recent)
        y = echo_smile
        self.n[:m] += 1.0
        self.sx[:m] += x
        self.sxx[:m] += x * x
        self.sy[:m] += y
        self.syy[:m] += y * y
        self.sxy[:m] += y * x


def _approach(current: float, target: float, dt: float, attack_s: float, release_s: float) -> float:
    """First-order follow with separate time constants for rising (attack) and falling (release)."""
    tau = attack_s if target > current else release_s
    alpha = 1.0 - math.exp(-dt / tau) if tau > 0 else 1.0
    return min(1.0, max(0.0, current + alpha * (target - current)))


def _soft_window(value: float, limit: float) -> float:
    """1 well inside +-limit, falling to 0 at 1.5 x limit."""
    return min(1.0, max(0.0, (1.5 * limit - abs(value)) / (0.5 * limit)))


def _clip01(x: float) -> float:
    return min(1.0, max(0.0, x))


@dataclass(frozen=True)
class Configure:
    """A live change of settings (a classroom key, a study block), applied between two frames."""

    changes: tuple[tuple[str, object], ...]

    @staticmethod
    def of(**changes) -> Configure:
        return Configure(tuple(changes.items()))

    def apply(self, model: EmpathyModel) -> None:
        model.configure(**dict(self.changes))


@dataclass(frozen=True)
class ResetPerson:
    """A new visitor or a new block: start again as with a stranger."""

    def apply(self, model: EmpathyModel) -> None:
        model.reset_person()


ModelCommand = Configure | ResetPerson


class ModelCommands:
    """The model's one ordered inbox: any thread sends, the thread that steps the model drains.

    `settings` is what the model's settings will be once everything sent has been applied, so a
    sender that changes a value twice before the next frame builds on its own first change.
    """

    def __init__(self, settings: EmpathySettings):
        self._lock = threading.Lock()
        self._pending: list[ModelCommand] = []
        self.settings = settings

    def send(self, command: ModelCommand) -> None:
        with self._lock:
            self._pending.append(command)
            if isinstance(command, Configure):
                self.settings = replace(self.settings, **dict(command.changes))

    def apply_to(self, model: EmpathyModel) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for command in pending:
            command.apply(model)


class EmpathyModel:
    """Owns the state that persists across frames. Call `step` once per processed frame."""

    def __init__(self, settings: EmpathySettings | None = None):
        self.settings = settings or EmpathySettings()
        self._events: list[Event] = []
        self._rng = {ch: random.Random(f"lapse-{ch}-{self.settings.seed}") for ch in CHANNELS}
        self._trackers = {ch: _EventTracker(ch, self._rng[ch]) for ch in CHANNELS}
        self._sham = _Sham(self.settings.seed, self.settings)
        self._history = _History()
        self._echo_smile = 0.0
        self._concern = 0.0
        self._distress_held = 0.0  # recent distress, fading (distress_memory_s)
        self._last_t: float | None = None
        self._absent_s = 0.0
        self._last_seen = False
        self._load_clipped = False
        self._pose: tuple[float, float, float] | None = None
        self._head_speed_deg_s = 0.0
        self._expressive_t = -math.inf
        self._rest_roll_deg = 0.0
        self._reset_visitor_state()

    # --- live changes (the classroom's keys) -----------------------------------------------------

    def configure(self, **changes) -> None:
        """Change any settings live (validated); each change is logged as a `setting` event."""
        old = self.settings
        self.settings = replace(old, **changes)
        for name, value in changes.items():
            if name == "familiarity":
                if value is not None:
                    self.familiarity = float(value)
            self._events.append(SettingChanged(name, value.value if isinstance(value, Enum) else value))

    def set_familiarity(self, familiarity: float | None) -> None:
        """Fix familiarity now (0-1), or None to let it grow from where it is."""
        self.configure(familiarity=familiarity)

    def set_load(self, load: float) -> None:
        self.configure(load=load)

    def set_condition(self, condition: Condition) -> None:
        self.configure(condition=condition)

    def set_mapping(self, mapping: Mapping) -> None:
        self.configure(mapping=mapping)

    def set_guard(self, guard: bool) -> None:
        self.configure(guard=guard)

    def set_delay(self, delay_s: float) -> None:
        self.configure(delay_s=delay_s)

    def set_anticipation(self, anticipation: bool) -> None:
        self.configure(anticipation=anticipation)

    def reset_person(self) -> None:
        """A new visitor: familiarity back to its start, what was learned and the delay line cleared."""
        self._reset_visitor_state()
        self._events.append(NewPerson(self.familiarity))

    def _reset_visitor_state(self) -> None:
        s = self.settings
        self.familiarity = s.familiarity if s.familiarity is not None else s.familiarity_start
        self.learned = _Learned()
        for tracker in self._trackers.values():
            tracker.reset()
        self._history.clear()
        self._expressive_t = -math.inf

    def pop_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    # --- the frame step ------------------------------------------------------------------------

    def step(self, t_s: float, expression: Expression, faces: int = 1, extra_load: float = 0.0) -> Echo:
        s = self.settings
        dt = 0.0 if self._last_t is None else max(0.0, t_s - self._last_t)
        self._last_t = t_s
        present = bool(expression.present)
        # A face lost for a moment carries its last reading, fading (expression.py's dropout hold).
        distress = _clip01(max(float(expression.distress), float(expression.wince), float(expression.sad)))
        # Distress takes the smile out of the answer, here and in the delay line (Bourgeois & Hess 2008;
        # Sun et al. 2015: the sign of the answer to pain or sadness never flips to a smile).
        self._distress_held = max(distress, self._distress_held * math.exp(-dt / s.distress_memory_s))
        smile_allowed = 1.0 - _clip01(
            (self._distress_held - s.distress_no_smile_from) / (s.distress_no_smile_at - s.distress_no_smile_from))
        smile = _clip01(float(expression.smile)) * smile_allowed

        self._track_presence(present, dt)
        load_scene = self._scene_load(expression, present, faces, extra_load, dt)
        load = self._total_load(s.load + load_scene)
        self._grow_familiarity(expression, present, smile, distress, t_s, dt)
        fam = self.familiarity

        gain_fam = familiarity_factor(fam, s.smile_familiarity_base)
        gain_load = load_factor(load, s.load_damping)
        gain = s.gain_floor + (1.0 - s.gain_floor) * gain_fam * gain_load
        gain_wince = gain_for(fam, load, s.gain_floor, s.wince_familiarity_base, s.load_damping)
        p_lapse = lapse_probability(fam, load, s)

        conf = self.learned.events / (self.learned.events + s.imitation_events_half)
        k = s.imitation_strength * conf
        attack_s, release_s = s.attack_s, s.release_s
        if self.learned.events:
            # Timing adapts to the visitor's rhythm: a first-order rise reaches 90 % in ~2.3 tau.
            attack_s += k * (min(0.5, max(0.12, self.learned.rise_s / 2.3)) - attack_s)
            release_s += k * (min(1.5, max(0.4, self.learned.fall_s / 2.3 + 0.3)) - release_s)
        smile_full = s.smile_full
        if self.learned.events and self.learned.peak > s.event_on:
            smile_full += k * (0.9 * self.learned.peak - smile_full)  # their broad smile is a full smile

        # The frame is stored with how the avatar would answer it now (gain, full smile), so a delayed
        # echo replays exactly what it would have been: a later change shows after the delay.
        smiles, distresses = self._trackers["smile"], self._trackers["distress"]
        self._history.push(t_s, _DelayedFrame(
            smile=_Heard(smile, gain, smiles.factor, smiles.lapsed),
            distress=_Heard(distress, gain_wince, distresses.factor, distresses.lapsed),
            smile_full=smile_full,
        ))
        for ch, value in (("smile", smile), ("distress", distress)):
            self._event_step(ch, t_s, value, expression.roll_deg if present else 0.0, p_lapse, load)
        if present and not self._trackers["smile"].in_event:
            self._rest_roll_deg += (1.0 - math.exp(-dt / 3.0)) * (expression.roll_deg - self._rest_roll_deg)

        anticipated = self._anticipate(t_s, smile) if present else 0.0
        delay_s = onset_delay_for(fam, load, s)
        lapse = False
        target_smile = target_wince = 0.0
        if s.condition in (Condition.MIMIC, Condition.DELAYED):
            if s.condition is Condition.DELAYED:
                delay_s = s.delay_s
                read = self._history.at(t_s - max(0.0, s.delay_s - s.delayed_smoothing_s))
            else:
                read = self._history.at(t_s - delay_s)
            if read is not None:
                target_smile = self._target(read.smile.value, read.smile.factor, read.smile.gain, read.smile_full)
                target_wince = self._concern_target(read.distress.value, read.distress.factor, read.distress.gain)
                lapse = bool((read.smile.lapsed and read.smile.value >= s.rest_level)
                             or (read.distress.lapsed and read.distress.value >= s.rest_level))
            if s.condition is Condition.MIMIC and s.anticipation and present:
                lead = gain * self._trackers["smile"].factor * min(1.0, anticipated / smile_full)
                if s.guard:
                    lead = min(lead, s.guard_ratio * smile)  # the guard: never ahead of where the person is now
                target_smile += s.anticipation_strength * fam * max(0.0, lead - target_smile)
        elif s.condition is Condition.SHAM:
            sham = self._sham.step(t_s, s) if present else 0.0
            target_smile = self._target(sham, 1.0, gain, smile_full)
        target_smile, target_wince = _clip01(target_smile * smile_allowed), _clip01(target_wince)

        if s.condition is Condition.DELAYED:
            attack = release = s.delayed_smoothing_s
        else:
            attack, release = attack_s, (release_s if present else s.absent_fade_s)
        smile_release = release if smile_allowed >= 1.0 else min(release, s.distress_smile_release_s)
        self._echo_smile = _approach(self._echo_smile, target_smile, dt, attack, smile_release)
        concern_attack = attack if s.condition is Condition.DELAYED else s.concern_attack_s
        self._concern = _approach(self._concern, target_wince, dt, concern_attack, release)
        if s.condition is Condition.STATIC:
            self._echo_smile = self._concern = 0.0
        if s.condition is Condition.SHAM and present:
            self._sham.observe(t_s, smile, self._echo_smile, s.sham_max_lag_s)
        self._history.trim(t_s - max(s.delay_s, s.delay_min_s + s.delay_unfamiliar_s + s.delay_load_s) - 2.0)

        used_gain = min(gain, s.guard_ratio) if s.guard else gain
        smile_roll = self.learned.roll_deg * k * min(1.0, self._echo_smile / 0.5)
        return Echo(
            smile=self._echo_smile,
            wince=s.wince_softening * self._concern,
            familiarity=fam,
            load=load,
            gain=used_gain,
            delay_s=delay_s,
            concern=self._concern,
            smile_roll_deg=smile_roll,
            mirror=s.mapping is Mapping.MIRROR,
            diagnostics=EchoDiagnostics(
                target_smile=target_smile,
                target_wince=target_wince,
                lapse=lapse,
                p_lapse=p_lapse,
                anticipated_smile=anticipated,
                gain_familiarity=gain_fam,
                gain_load=gain_load,
                gain_wince=gain_wince,
                load_scene=load_scene,
                attack_s=attack,
                release_s=release,
                learned_smile_peak=self.learned.peak,
                learned_smile_rise_s=self.learned.rise_s,
                learned_smile_fall_s=self.learned.fall_s,
                learned_smile_roll_deg=self.learned.roll_deg,
                learned_events=self.learned.events,
            ),
        )

    # --- the parts of a step ---------------------------------------------------------------------

    def _target(self, value: float, factor: float, gain: float, full: float) -> float:
        """gain x event factor x the channel read as a fraction of a full expression, guarded."""
        s = self.settings
        target = gain * factor * min(1.0, value / full)
        if s.guard:
            target = min(target, s.guard_ratio * value)  # the sweet spot: always a bit smaller than the person
        return target

    def _concern_target(self, distress: float, factor: float, gain: float) -> float:
        """The concern answer to distress: as the wince answer (familiarity-weighted gain), but clear
        distress gets at least `concern_floor` from anyone, a lapse included (never quite silent)."""
        s = self.settings
        target = self._target(distress, factor, gain, s.wince_full)
        floor = s.concern_floor * min(1.0, distress / s.wince_full)
        if s.guard:
            floor = min(floor, s.guard_ratio * distress)
        return max(target, floor * min(1.0, factor))

    def _event_step(self, ch: str, t_s: float, value: float, roll_deg: float, p_lapse: float, load: float) -> None:
        s = self.settings
        onset, finished = self._trackers[ch].update(t_s, value, roll_deg, p_lapse, load, s, self._history)
        echoing = s.condition in (Condition.MIMIC, Condition.DELAYED)
        if onset and onset["lapsed"] and echoing:
            self._events.append(Lapse(ch, onset["event"], round(onset["p_lapse"], 4), s.lapse_residual))
        if finished and ch == "smile":
            self.learned.add(finished, self._rest_roll_deg)
            le = self.learned
            self._events.append(Learned("smile", le.events, round(le.peak, 4), round(le.rise_s, 4), round(le.fall_s, 4),
                                        round(le.roll_deg, 3)))

    def _anticipate(self, t_s: float, now: float) -> float:
        """Linear extrapolation of a least-squares line through the channel's last `anticipation_window_s`."""
        s = self.settings
        idx = self._history.since(t_s - s.anticipation_window_s)
        if len(idx) < 3:
            return now
        ts = np.array([self._history.ts[i] for i in idx]) - t_s
        vs = np.array([self._history.rows[i].smile.value for i in idx])
        tm, vm = ts.mean(), vs.mean()
        var = float(np.sum((ts - tm) ** 2))
        slope = float(np.sum((ts - tm) * (vs - vm)) / var) if var > 0 else 0.0
        return _clip01(vm + slope * (s.anticipation_horizon_s - tm))

    def _track_presence(self, present: bool, dt: float) -> None:
        s = self.settings
        if present:
            if s.new_person_after_s is not None and self._absent_s >= s.new_person_after_s and self._last_seen:
                self._reset_visitor_state()
                self._events.append(NewPerson(self.familiarity, reason="absent"))
            self._absent_s = 0.0
            self._last_seen = True
        else:
            self._absent_s += dt

    def _scene_load(self, e: Expression, present: bool, faces: int, extra_load: float, dt: float) -> float:
        s = self.settings
        faces_load = min(s.load_faces_max, s.load_per_extra_face * max(0, faces - 1))
        if present:
            pose = (e.yaw_deg, e.pitch_deg, e.roll_deg)
            if self._pose is not None and dt > 0:
                speed = math.dist(pose, self._pose) / dt
                self._head_speed_deg_s += (1.0 - math.exp(-dt / 0.3)) * (speed - self._head_speed_deg_s)
            # The pose is smoothed before it is differentiated, so landmark jitter does not read as motion.
            self._pose = pose if self._pose is None else tuple(
                p + (1.0 - math.exp(-dt / 0.15)) * (q - p) for p, q in zip(self._pose, pose, strict=True))
        else:
            self._pose = None
            self._head_speed_deg_s = 0.0
        span = max(1e-6, s.motion_high_deg_s - s.motion_low_deg_s)
        motion_load = s.load_motion_max * _clip01((self._head_speed_deg_s - s.motion_low_deg_s) / span)
        return faces_load + motion_load + max(0.0, float(extra_load))

    def _total_load(self, raw: float) -> float:
        if raw > 1.0 and not self._load_clipped:
            self._events.append(LoadClipped(round(raw, 4)))
        self._load_clipped = raw > 1.0
        return min(1.0, max(0.0, raw))

    def _grow_familiarity(self, e: Expression, present: bool, smile: float, wince: float, t_s: float, dt: float) -> None:
        s = self.settings
        if s.familiarity is not None:
            self.familiarity = s.familiarity
            return
        if present:
            if max(smile, wince) >= s.expressive_level:
                self._expressive_t = t_s
            looking = _soft_window(e.yaw_deg, s.engaged_yaw_deg) * _soft_window(e.pitch_deg, s.engaged_pitch_deg)
            expressive = 1.0 if t_s - self._expressive_t <= s.expressive_memory_s else 0.0
            engaged = looking * (0.4 + 0.6 * expressive)
            self.familiarity += engaged * (1.0 - self.familiarity) * (1.0 - math.exp(-dt / s.familiarity_tau_s))
        else:
            self.familiarity += (s.familiarity_start - self.familiarity) * (1.0 - math.exp(-dt / s.familiarity_decay_tau_s))
