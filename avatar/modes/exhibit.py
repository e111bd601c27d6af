"""Exhibit mode: an unattended kiosk. Attract mode when nobody is there, a greeting for each visitor.

Sits on top of the loop through avatar.mode.Mode hooks. Timing runs on source time (t_s). Nothing is
kept unless --log-dir is given, and then only events and aggregate visitor statistics, never images.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from dataclasses import dataclass

from avatar.empathy import FAMILIARITY_PRESETS, ResetPerson
from avatar.errors import StopRequested
from avatar.events import AttractEnd, AttractStart, SessionStatus, VisitorEnd, VisitorStart
from avatar.mode import KeyPress, Mode, ModeContext
from avatar.outcome import FrameOutcome, ModeFrame
from avatar.strings import say

DEFAULT_ATTRACT_TEXT = ""  # none given: the `exhibit.attract` string, in the run's language (avatar.strings)


@dataclass(frozen=True)
class ExhibitSettings:
    attract_after_start_s: float = 1.0  # no face at start-up: invite at once (a visitor is invited within 2 s)
    attract_after_s: float = 4.0  # after a visitor has gone: a short pause, then invite again
    visitor_gap_s: float = 3.0  # a face gone this long ends the visit; a glance away does not
    greet_s: float = 1.8  # the greeting: an eyebrow flash, a look and a smile
    quit_hold_s: float = 2.0  # Esc must be held this long to quit
    quit_word: str = "quit"  # ... or this typed on the keyboard
    attract_text: str = DEFAULT_ATTRACT_TEXT


def attract_controls(controls, t_s: float):
    """The avatar looks around and smiles now and then: slow, unhurried, inviting."""
    look = math.sin(2 * math.pi * t_s / 6.0)
    smile = 0.35 + 0.3 * max(0.0, math.sin(2 * math.pi * t_s / 5.0))
    return dataclasses.replace(
        controls,
        gaze_x=0.75 * look,
        gaze_y=-0.15 + 0.15 * math.sin(2 * math.pi * t_s / 8.5),
        head_yaw_deg=14.0 * look,
        head_pitch_deg=3.0 * math.sin(2 * math.pi * t_s / 8.5),
        head_roll_deg=4.0 * math.sin(2 * math.pi * t_s / 11.0),
        mouth_corner_left=max(controls.mouth_corner_left, smile),
        mouth_corner_right=max(controls.mouth_corner_right, smile),
        cheek_left=max(controls.cheek_left, smile * 0.8),
        cheek_right=max(controls.cheek_right, smile * 0.8),
    )


def greet_controls(controls, since_s: float, greet_s: float):
    """A greeting: the eyebrows flash up (a greeting in every culture studied), a direct look, a smile."""
    k = min(1.0, max(0.0, since_s / greet_s))
    envelope = math.sin(math.pi * k)  # up and back down over the greeting
    flash = max(0.0, math.sin(math.pi * min(1.0, since_s / 0.6)))  # the brow flash is brief (~0.5 s)
    smile = 0.75 * envelope
    return dataclasses.replace(
        controls,
        gaze_x=controls.gaze_x * (1.0 - envelope),
        gaze_y=controls.gaze_y * (1.0 - envelope),
        brow_inner_left=max(controls.brow_inner_left, 0.7 * flash),
        brow_inner_right=max(controls.brow_inner_right, 0.7 * flash),
        brow_outer_left=max(controls.brow_outer_left, 0.7 * flash),
        brow_outer_right=max(controls.brow_outer_right, 0.7 * flash),
        mouth_corner_left=max(controls.mouth_corner_left, smile),
        mouth_corner_right=max(controls.mouth_corner_right, smile),
        cheek_left=max(controls.cheek_left, smile),
        cheek_right=max(controls.cheek_right, smile),
        head_roll_deg=controls.head_roll_deg + 5.0 * envelope,
    )


@dataclass(frozen=True)
class ExhibitFrame(ModeFrame):
    caption: str | None  # the attract line, shown over the avatar


class ExhibitMode(Mode):
    name = "exhibit"
    window_close_quits = False  # only Esc held 2 s or the quit sequence; signals still stop it
    shows_cursor = False

    def __init__(self, attract_text: str | None = None, settings: ExhibitSettings | None = None):
        self.settings = settings or ExhibitSettings()
        if attract_text:
            self.settings = dataclasses.replace(self.settings, attract_text=attract_text)
        self.first_t: float | None = None
        self.last_t = 0.0
        self.last_face_t: float | None = None
        self.attract = False
        self.attract_start_t = 0.0
        self.attract_total_s = 0.0
        self.visitor = False
        self.visitor_start_t = 0.0
        self.visits_s: list[float] = []
        self.errors = 0
        self._esc_since: float | None = None  # wall time Esc went down (main thread)
        self._typed = ""

    def adjust(self, settings):
        """Fullscreen without status text; each visitor starts as a stranger unless --familiarity fixes it."""
        empathy = settings.empathy
        if empathy.familiarity is None:
            empathy = dataclasses.replace(empathy, familiarity_start=FAMILIARITY_PRESETS["stranger"])
        return dataclasses.replace(settings, fullscreen=not settings.headless, show_status=False, empathy=empathy)

    # -- hooks -------------------------------------------------------------------------------------

    def session_info(self) -> dict:
        return {"exhibit": self._stats()}

    def after_frame(self, context: ModeContext, outcome: FrameOutcome) -> FrameOutcome:
        try:
            return self._step(context, outcome)
        except Exception as exc:  # an exhibit runs all day: one bad frame never ends it
            self.errors += 1
            if self.errors <= 3:
                context.notice(f"exhibit: a frame failed ({type(exc).__name__}: {exc}); going on")
            return outcome

    def _step(self, context: ModeContext, outcome: FrameOutcome) -> FrameOutcome:
        s = self.settings
        t = outcome.frame.t_s
        if self.first_t is None:
            self.first_t = t
        self.last_t = t
        if outcome.faces > 0:
            self.last_face_t = t
            if self.attract:
                self._end_attract(context, t)
            if not self.visitor:
                self.visitor, self.visitor_start_t = True, t
                context.send(ResetPerson())
                context.emit(t, VisitorStart(len(self.visits_s) + 1))
        else:
            gone_s = t - (self.last_face_t if self.last_face_t is not None else self.first_t)
            if self.visitor and gone_s >= s.visitor_gap_s:
                self._end_visit(context, t)
            wait_s = s.attract_after_s if self.last_face_t is not None else s.attract_after_start_s
            if not self.attract and not self.visitor and gone_s >= wait_s:
                self.attract, self.attract_start_t = True, t
                context.emit(t, AttractStart())
        controls = outcome.controls
        caption = None
        if self.attract:
            controls = attract_controls(controls, t - self.attract_start_t)
            caption = s.attract_text or say("exhibit.attract")
        elif self.visitor and t - self.visitor_start_t < s.greet_s:
            controls = greet_controls(controls, t - self.visitor_start_t, s.greet_s)
        return dataclasses.replace(outcome, controls=controls, mode_frame=ExhibitFrame(caption))

    def _end_attract(self, context: ModeContext, t: float) -> None:
        self.attract = False
        self.attract_total_s += t - self.attract_start_t
        context.emit(t, AttractEnd(round(t - self.attract_start_t, 3)))

    def _end_visit(self, context: ModeContext, t: float, reason: str = "face gone") -> None:
        self.visitor = False
        end = self.last_face_t if self.last_face_t is not None else t
        length = max(0.0, end - self.visitor_start_t)
        self.visits_s.append(length)
        context.emit(t, VisitorEnd(len(self.visits_s), round(length, 3), reason))

    def draw(self, context: ModeContext, surface, outcome: FrameOutcome | None, controls) -> bool:
        frame = outcome.mode_frame if outcome is not None else None
        caption = frame.caption if isinstance(frame, ExhibitFrame) else None
        if context.camera_lost:
            caption = say("exhibit.camera_lost")
            controls = dataclasses.replace(controls, gaze_x=0.0, gaze_y=0.2, lid_left=max(controls.lid_left, 0.35),
                                           lid_right=max(controls.lid_right, 0.35), mouth_corner_left=0.1,
                                           mouth_corner_right=0.1, head_yaw_deg=0.0, head_pitch_deg=-3.0)
        context.painter.draw(surface, controls, caption=caption)
        if context.windowed:
            self._check_quit_hold()
        return True

    def _check_quit_hold(self) -> None:
        import pygame

        if self._esc_since is None:
            return
        if not pygame.key.get_pressed()[pygame.K_ESCAPE]:
            self._esc_since = None
            return
        if time.monotonic() - self._esc_since >= self.settings.quit_hold_s:
            raise StopRequested("quit key (Esc held)")

    def on_key(self, context: ModeContext, key: KeyPress) -> bool:
        import pygame

        if key.key == pygame.K_ESCAPE:
            if self._esc_since is None:
                self._esc_since = time.monotonic()
            return True
        char = key.char
        if char.isprintable() and char:
            self._typed = (self._typed + char.lower())[-len(self.settings.quit_word):]
            if self._typed == self.settings.quit_word:
                raise StopRequested("quit key (typed quit)")
        return True  # visitors' keys do nothing else: no fullscreen toggle, no single-key quit

    def on_line(self, context: ModeContext, line: str) -> None:
        # With the chat on, letters go to its text line: the quit word then comes as a sent line.
        if line.strip().lower() == self.settings.quit_word:
            raise StopRequested("quit key (typed quit)")

    def on_control(self, context: ModeContext, name: str, value) -> bool:
        # A show's technician changes the invitation from OSC (--osc-in); the next attract frame shows it.
        if name != "attract_text":
            return False
        self.settings = dataclasses.replace(self.settings, attract_text=str(value))
        return True

    def on_end(self, context: ModeContext, status: SessionStatus, reason: str) -> dict:
        if self.attract:
            self._end_attract(context, self.last_t)
        if self.visitor:
            self._end_visit(context, self.last_t, reason="session end")
        return {"exhibit": self._stats()}

    def _stats(self) -> dict:
        """Aggregate statistics only: how many visits and how long, never who."""
        visits = [round(v, 1) for v in self.visits_s]
        return {
            "visitors": len(visits),
            "visit_lengths_s": visits,
            "mean_visit_s": round(statistics.fmean(visits), 1) if visits else None,
            "median_visit_s": round(statistics.median(visits), 1) if visits else None,
            "attract_s": round(self.attract_total_s, 1),
            "frame_errors": self.errors,
        }
