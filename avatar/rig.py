"""The face rig: Echo (+ head pose, idle life) -> Controls, the named controls the renderer draws.

The fifth stage, pure: no pygame, cv2 or mediapipe. Rendering draws from Controls only.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from avatar.empathy import Echo


@dataclass(frozen=True)
class Controls:
    """The avatar's face. Unitless controls are in -1..1 or 0..1 as noted; angles in degrees.

    Left and right are the avatar's own (its left is on the viewer's right).
    """

    mouth_corner_left: float = 0.0  # -1 down .. +1 up
    mouth_corner_right: float = 0.0
    upper_lip: float = 0.0  # 0 rest .. 1 raised
    lower_lip: float = 0.0  # 0 rest .. 1 lowered
    lip_press: float = 0.0  # 0 .. 1 lips pressed thin
    jaw_open: float = 0.0  # 0 .. 1
    brow_inner_left: float = 0.0  # -1 lowered .. +1 raised
    brow_inner_right: float = 0.0
    brow_outer_left: float = 0.0
    brow_outer_right: float = 0.0
    lid_left: float = 0.0  # 0 open .. 1 closed
    lid_right: float = 0.0
    gaze_x: float = 0.0  # -1 avatar's right .. +1 avatar's left, as the viewer sees it: -1 left, +1 right
    gaze_y: float = 0.0  # -1 up .. +1 down
    head_yaw_deg: float = 0.0  # + turns toward the avatar's own left (the viewer's right)
    head_pitch_deg: float = 0.0  # + tilts up
    head_roll_deg: float = 0.0  # + tilts toward the avatar's own right shoulder (the viewer's left)
    cheek_left: float = 0.0  # 0 .. 1 raised
    cheek_right: float = 0.0
    breath: float = 0.0  # -1 .. 1, the slow breathing phase

    def lerp(self, other: Controls, k: float) -> Controls:
        """Interpolate toward `other` (k in 0..1), for rendering between readings."""
        target = vars(other)
        return Controls(**{name: value + (target[name] - value) * k for name, value in vars(self).items()})


NEUTRAL = Controls()


@dataclass(frozen=True)
class IdleState:
    blink: float  # 0 open .. 1 closed
    breath: float
    gaze_x: float
    gaze_y: float


class IdleLife:
    """Blinks every ~3-5 s (seeded), slow breathing and small gaze shifts: a still face looks dead.

    `at(t_s)` takes the source time and must be called with non-decreasing times; if time goes
    backwards (a looping file) the schedule restarts from there.
    """

    def __init__(
        self,
        seed: int = 0,
        blink_interval_s: tuple[float, float] = (2.8, 5.2),
        blink_duration_s: float = 0.16,
        double_blink_p: float = 0.12,
    ):
        self._rng = random.Random(f"idle-{seed}")
        self.blink_interval_s = blink_interval_s
        self.blink_duration_s = blink_duration_s
        self.double_blink_p = double_blink_p  # people sometimes blink twice in a row
        self._last_t: float | None = None
        self._schedule(0.0)

    def _schedule(self, t_s: float) -> None:
        self._next_blink_t = t_s + self._rng.uniform(*self.blink_interval_s) * 0.5
        self._next_gaze_t = t_s + self._rng.uniform(1.0, 3.0)
        self._gaze = (0.0, 0.0)

    def at(self, t_s: float) -> IdleState:
        if self._last_t is not None and t_s < self._last_t:
            self._schedule(t_s)
        self._last_t = t_s
        since_blink = t_s - self._next_blink_t
        if since_blink > self.blink_duration_s:
            gap = 0.25 if self._rng.random() < self.double_blink_p else self._rng.uniform(*self.blink_interval_s)
            self._next_blink_t = max(t_s, self._next_blink_t + self.blink_duration_s) + gap
            since_blink = t_s - self._next_blink_t
        blink = 0.0
        if 0.0 <= since_blink <= self.blink_duration_s:
            # Lids close fast and open a little slower, as in real blinks.
            phase = since_blink / self.blink_duration_s
            blink = math.sin(math.pi / 2 * phase / 0.4) if phase < 0.4 else math.cos(math.pi / 2 * (phase - 0.4) / 0.6)
            blink = max(0.0, min(1.0, blink))
        if t_s >= self._next_gaze_t:
            self._gaze = (self._rng.uniform(-0.3, 0.3), self._rng.uniform(-0.2, 0.15))
            self._next_gaze_t = t_s + self._rng.uniform(1.5, 4.0)
        breath = math.sin(2.0 * math.pi * t_s / 4.0)  # ~15 breaths a minute
        return IdleState(blink=blink, breath=breath, gaze_x=self._gaze[0], gaze_y=self._gaze[1])


HEAD_LIMITS_DEG = (35.0, 25.0, 25.0)  # yaw, pitch, roll: beyond these a cartoon head looks broken


def _clamp(x: float, lo: float, hi: float) -> float:
    # NaN from a bad reading becomes the rest value rather than poisoning the frame.
    if x != x:
        return 0.0 if lo <= 0.0 <= hi else lo
    return lo if x < lo else hi if x > hi else x


@dataclass(frozen=True)
class HeadPose:
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0


class HeadFollower:
    """Damped follow of the person's head pose, on source time.

    A first-order lag (time constant `tau_s`) so the avatar's head moves like a head, not a tracker;
    with no face it drifts back to rest over `rest_tau_s`.
    """

    def __init__(self, tau_s: float = 0.25, rest_tau_s: float = 1.5):
        self.tau_s = tau_s
        self.rest_tau_s = rest_tau_s
        self._pose = HeadPose()
        self._last_t: float | None = None

    def update(
        self, t_s: float, yaw_deg: float = 0.0, pitch_deg: float = 0.0, roll_deg: float = 0.0, present: bool = True
    ) -> HeadPose:
        dt = 0.0 if self._last_t is None else max(0.0, t_s - self._last_t)
        first = self._last_t is None
        self._last_t = t_s
        target = (yaw_deg, pitch_deg, roll_deg) if present else (0.0, 0.0, 0.0)
        target = tuple(_clamp(v, -lim, lim) for v, lim in zip(target, HEAD_LIMITS_DEG, strict=True))
        if first and present:
            alpha = 1.0
        else:
            tau = self.tau_s if present else self.rest_tau_s
            alpha = 1.0 - math.exp(-dt / tau) if tau > 0 else 1.0
        cur = (self._pose.yaw_deg, self._pose.pitch_deg, self._pose.roll_deg)
        self._pose = HeadPose(*(c + alpha * (g - c) for c, g in zip(cur, target, strict=True)))
        return self._pose


# How the echo moves the face. Weights are per unit of echo (0..1); the renderer's style gains
# scale them again per style. Smile follows the Duchenne pattern (AU12 corners + AU6 cheeks, which
# narrow the eyes from below); a wince is answered with concern (AU1 inner brows, AU24 lip press,
# a small AU7 squint), and the softened wince the echo shows adds only a little squint and press.
SMILE_SQUINT = 0.22
CONCERN_SQUINT = 0.18
WINCE_SQUINT = 0.15
CONCERN_CORNERS_DOWN = 0.3


def controls_from_echo(
    echo: Echo,
    idle: IdleState,
    head_yaw_deg: float = 0.0,
    head_pitch_deg: float = 0.0,
    head_roll_deg: float = 0.0,
    mirror: bool | None = None,
) -> Controls:
    """Echo + idle life + the person's head pose -> the avatar's controls (pure; every control in range).

    Smile: corners up, cheeks raised, eyes narrowed. Wince: answered with concern, not copied.
    The head pose is the person's (face.py convention: +yaw to their left, +roll to their right
    shoulder), already damped (HeadFollower). `mirror` True moves the avatar like the person's
    reflection; False (anatomical) turns it to its own left when the person turns to theirs;
    None takes the echo's own `mirror`.
    """
    if mirror is None:
        mirror = echo.mirror
    smile = _clamp(float(echo.smile), 0.0, 1.0)
    wince = _clamp(float(echo.wince), 0.0, 1.0)
    concern = _clamp(float(echo.concern), 0.0, 1.0)
    # Concern softens the smile rather than fighting it: a warm, worried face, not a grimace.
    corners = smile * (1.0 - 0.5 * concern) - CONCERN_CORNERS_DOWN * concern - 0.15 * wince
    squint = SMILE_SQUINT * smile + CONCERN_SQUINT * concern + WINCE_SQUINT * wince
    blink = _clamp(float(idle.blink), 0.0, 1.0)
    lid = _clamp(max(squint, blink), 0.0, 1.0)
    open_smile = _clamp((smile - 0.45) / 0.55, 0.0, 1.0) * (1.0 - concern)  # the mouth opens in a broad smile
    side = -1.0 if mirror else 1.0
    roll = float(head_roll_deg) + float(echo.smile_roll_deg)
    yaw_lim, pitch_lim, roll_lim = HEAD_LIMITS_DEG
    return Controls(
        mouth_corner_left=_clamp(corners, -1.0, 1.0),
        mouth_corner_right=_clamp(corners, -1.0, 1.0),
        upper_lip=_clamp(0.5 * open_smile, 0.0, 1.0),
        lower_lip=_clamp(0.7 * open_smile, 0.0, 1.0),
        lip_press=_clamp(0.8 * concern + 0.3 * wince, 0.0, 1.0),
        jaw_open=_clamp(0.35 * open_smile, 0.0, 1.0),
        brow_inner_left=_clamp(0.15 * smile + 0.95 * concern - 0.2 * wince, -1.0, 1.0),
        brow_inner_right=_clamp(0.15 * smile + 0.95 * concern - 0.2 * wince, -1.0, 1.0),
        brow_outer_left=_clamp(0.2 * smile - 0.35 * concern - 0.1 * wince, -1.0, 1.0),
        brow_outer_right=_clamp(0.2 * smile - 0.35 * concern - 0.1 * wince, -1.0, 1.0),
        lid_left=lid,
        lid_right=lid,
        gaze_x=_clamp(float(idle.gaze_x), -1.0, 1.0),
        gaze_y=_clamp(float(idle.gaze_y), -1.0, 1.0),
        head_yaw_deg=_clamp(side * float(head_yaw_deg), -yaw_lim, yaw_lim),
        head_pitch_deg=_clamp(float(head_pitch_deg), -pitch_lim, pitch_lim),
        head_roll_deg=_clamp(side * roll, -roll_lim, roll_lim),
        cheek_left=_clamp(smile, 0.0, 1.0),
        cheek_right=_clamp(smile, 0.0, 1.0),
        breath=_clamp(float(idle.breath), -1.0, 1.0),
    )
