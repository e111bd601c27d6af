"""When to take a visitor's own face for `--avatar portrait:self`, and when to let it go.

The avatar becomes the person in front of it only from a calm face: one face, looking at the
camera, not smiling, open-mouthed, talking or blinking, held still for a whole second. A face caught
mid-expression would be warped again by every echo and look wrong. The captured face is the
caller's to keep in memory; this module only says when to take it and when it belongs to nobody
any more (the person left or another took their place), so nothing here sees or keeps pixels.

Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class CalmFaceRule:
    seconds: float = 1.0  # a calm face held this long on the source clock
    # Smile, surprise, an open mouth or talking: what the portrait's own warps would show twice. A
    # resting face often reads some distress (brows, lip corners), so it is not asked for.
    max_expression: float = 0.35
    max_blink: float = 0.5  # lids half closed or more spoil the eyes of the portrait
    max_head_deg: float = 20.0  # yaw and pitch: near enough frontal for the mesh warp, as a visitor looks at a screen
    max_roll_deg: float = 20.0
    max_drift: float = 0.04  # face centre movement over the calm second, a fraction of the frame
    min_face_size: float = 0.12  # the face's larger side, a fraction of the frame: enough pixels to warp
    left_after_s: float = 3.0  # no face this long: the visitor has gone and their face is dropped


@dataclass(frozen=True)
class FaceMoment:
    """The parts of one frame's reading that decide calmness (channels as logged, 0-1)."""

    t_s: float
    faces: int
    switched: bool  # the primary face became another person on this frame
    smile: float = 0.0
    surprise: float = 0.0
    mouth_open: float = 0.0
    talking: float = 0.0
    blink: float = 0.0
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    face_x: float = 0.0
    face_y: float = 0.0
    face_size: float = 0.0


class Verdict(Enum):
    WAIT = "wait"  # nothing to do
    CAPTURE = "capture"  # this frame ends a calm second: take the face from it
    FORGET = "forget"  # the visitor changed or left: drop the captured face


class CalmSecondFinder:
    """Fed one FaceMoment per frame in source-time order; says when to capture and when to forget.

    After a capture it waits for the next person (FORGET) before it captures again, so one visitor
    is captured once.
    """

    def __init__(self, rule: CalmFaceRule = CalmFaceRule()):
        self.rule = rule
        self._calm_since: float | None = None
        self._anchor: tuple[float, float] = (0.0, 0.0)
        self._last_face_t: float | None = None
        self.captured = False

    def _is_calm(self, m: FaceMoment) -> bool:
        r = self.rule
        return (
            m.faces == 1
            and max(m.smile, m.surprise, m.mouth_open, m.talking) <= r.max_expression
            and m.blink <= r.max_blink
            and abs(m.yaw_deg) <= r.max_head_deg
            and abs(m.pitch_deg) <= r.max_head_deg
            and abs(m.roll_deg) <= r.max_roll_deg
            and m.face_size >= r.min_face_size
        )

    def offer(self, m: FaceMoment) -> Verdict:
        if m.faces == 0:
            gone = self._last_face_t is not None and m.t_s - self._last_face_t >= self.rule.left_after_s
            self._calm_since = None
            if gone:
                self._last_face_t = None
                return self._forget()
            return Verdict.WAIT
        self._last_face_t = m.t_s
        if m.switched:
            self._calm_since = None
            if self.captured:
                return self._forget()
        if self.captured:
            return Verdict.WAIT
        if not self._is_calm(m):
            self._calm_since = None
            return Verdict.WAIT
        if self._calm_since is None or max(abs(m.face_x - self._anchor[0]), abs(m.face_y - self._anchor[1])) > self.rule.max_drift:
            self._calm_since, self._anchor = m.t_s, (m.face_x, m.face_y)
            return Verdict.WAIT
        if m.t_s - self._calm_since >= self.rule.seconds:
            self.captured = True
            self._calm_since = None
            return Verdict.CAPTURE
        return Verdict.WAIT

    def _forget(self) -> Verdict:
        if not self.captured:
            return Verdict.WAIT
        self.captured = False
        return Verdict.FORGET
