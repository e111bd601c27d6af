"""Showing one answered frame: the mode's view or the plain avatar, the status line, video and screenshot.

An edge of the pipeline, used by the runners (runners.py) in the thread that draws. The window itself
and the mp4 writer live in window.py; the drawing in render.py and the modes.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from avatar.mode import Mode, ModeContext
from avatar.outcome import FrameOutcome
from avatar.rig import Controls
from avatar.strings import say
from avatar.window import Display, VideoRecorder, claim_output, save_into


class Overlay(Protocol):
    """Something drawn over the plain avatar that talks (the chat: window only)."""

    def tick(self) -> tuple[str | None, float]:
        """Once per drawn frame: the speech bubble's text and how far the mouth is open (0-1)."""

    def caption(self) -> str | None: ...

    def caption_marked(self) -> tuple[int, int] | None:
        """The caption's characters still being composed by an input method (underlined), or None."""


@dataclass(frozen=True)
class PresentSettings:
    status_source: str  # the source's name on the status line
    show_status: bool = True
    calibrate_s: float = 0.0
    screenshot: Path | None = None
    screenshot_at_s: float = 1.0
    overwrite: bool = False  # --overwrite: replace an existing screenshot
    recording: bool = False  # a log, a video or an LSL stream is being written: the window shows a red dot


class Presenter:
    """Draws into the display's surface; keeps pixels (video, screenshot) only when asked to."""

    def __init__(self, display: Display, renderer: Any, mode: Mode, context: ModeContext, settings: PresentSettings,
                 recorder: VideoRecorder | None = None, overlay: Overlay | None = None):
        self.display = display
        self.renderer = renderer
        self.mode = mode
        self.context = context
        self.settings = settings
        self.recorder = recorder
        self.overlay = overlay
        self.visitor_face: Any = None  # portrait_self.SelfPortrait: the visitor's own face as the portrait
        self.fps_estimate = 0.0
        self.last_latency_ms = 0.0
        self._screenshot_pending = settings.screenshot is not None
        # Claimed now, so a name already taken is refused before the run, not a second into it.
        self._screenshot_partial = (claim_output(settings.screenshot, "--screenshot", settings.overwrite)
                                    if settings.screenshot is not None else None)

    @property
    def keeps_pixels(self) -> bool:
        """Headless with no video and no screenshot, nobody sees a drawn frame: drawing is skipped."""
        return not self.display.headless or self.recorder is not None or self._screenshot_pending

    def follow_visitor(self, visitor_face) -> None:
        """Offer each answered frame to `visitor_face` (`offer(outcome)`), which may swap the portrait's face."""
        self.visitor_face = visitor_face

    def toggle_status(self) -> None:
        self.settings = dataclasses.replace(self.settings, show_status=not self.settings.show_status)

    def draw(self, controls: Controls, outcome: FrameOutcome | None) -> None:
        bubble, mouth = self.overlay.tick() if self.overlay is not None else (None, 0.0)
        if mouth > 0:  # the avatar "speaks" its reply
            controls = dataclasses.replace(controls, jaw_open=max(controls.jaw_open, 0.6 * mouth))
        typed = self.overlay.caption() if self.overlay is not None else None
        marked = self.overlay.caption_marked() if typed else None  # an input method's composition, underlined
        if self.mode.draw(self.context, self.display.surface, outcome, controls):
            # A mode that draws its own view (exhibit, classroom) still shows the chat's line and bubble.
            if typed or bubble:
                self.renderer.draw_overlays(self.display.surface, bubble=bubble, caption=typed, caption_marked=marked)
            return
        s = self.settings
        status = None
        if s.show_status:
            faces = outcome.faces if outcome is not None else 0
            status = say("avatar.status", source=s.status_source, faces=faces, fps=f"{self.fps_estimate:4.1f}",
                         latency_ms=f"{self.last_latency_ms:3.0f}")
            if self.context.camera_lost:
                status = say("avatar.looking_for_camera", status=status)
        caption = None
        if outcome is not None and outcome.frame.t_s < s.calibrate_s:
            caption = say("avatar.calibrate", seconds=f"{s.calibrate_s - outcome.frame.t_s:.0f}")
        self.renderer.draw(self.display.surface, controls, status=status, bubble=bubble, caption=typed or caption,
                           caption_marked=marked if typed else None)

    def present(self) -> None:
        """Put the drawn frame on the window, with the recording dot when data is being kept.

        The dot is for the person in front of the screen: it is drawn only for the flip and the pixels under
        it are put back, so the video (--save-video), the screenshot and the virtual camera never hold it.
        """
        if not self.settings.recording or self.display.headless:
            self.display.present()
            return
        surface = self.display.surface
        area = recording_mark_area(surface.get_size())
        under = surface.subsurface(area).copy()
        draw_recording_mark(surface, self.renderer.font, area)
        self.display.present()
        surface.blit(under, area.topleft)

    def show(self, outcome: FrameOutcome, controls: Controls) -> float:
        """Draw a newly answered frame (if anyone can see it), record it and take the screenshot.

        Returns the latency from the frame's capture to its being drawn, in ms.
        """
        if self.keeps_pixels:
            if self.visitor_face is not None:
                self.visitor_face.offer(outcome)
            self.draw(controls, outcome)
        self.last_latency_ms = latency_ms = (time.perf_counter() - outcome.frame.capture_perf) * 1000.0
        if self.recorder is not None:
            self.recorder.write_surface(self.display.surface)
        if self._screenshot_pending and outcome.frame.t_s >= self.settings.screenshot_at_s:
            self.save_screenshot()
        return latency_ms

    def save_screenshot(self) -> None:
        if self._screenshot_pending:
            self._screenshot_pending = False
            save_into(self.display.surface, self._screenshot_partial, self.settings.screenshot)


RECORDING_RED = (220, 30, 40)


def recording_mark_area(size: tuple[int, int]):
    """Where the recording dot and its word go: the top right corner, sized from the window's height
    (about 1/30 of it, so a projector's audience sees it without it covering the face)."""
    import pygame

    width, height = size
    unit = max(10, height // 30)
    area_w, area_h = min(width, unit * 5), min(height, unit * 2)
    return pygame.Rect(width - area_w, 0, area_w, area_h)


def draw_recording_mark(surface, font_at, area) -> None:
    """A red dot and the word for recording (strings: common.recording) on a dark backing, inside `area`."""
    import pygame

    from avatar.strings import say

    unit = area.height // 2
    backing = pygame.Surface(area.size, pygame.SRCALPHA)
    backing.fill((0, 0, 0, 140))
    surface.blit(backing, area.topleft)
    centre = (area.left + unit, area.centery)
    pygame.draw.circle(surface, RECORDING_RED, centre, max(3, unit * 6 // 10))
    word = font_at(max(8, unit * 3 // 2)).render(say("common.recording"), True, (255, 255, 255))
    room = area.right - (centre[0] + unit) - unit // 3
    if word.get_width() > room:  # a long translation is shrunk to the backing, not cut
        word = pygame.transform.smoothscale(word, (max(1, room), max(1, word.get_height() * room // word.get_width())))
    surface.blit(word, (centre[0] + unit, area.centery - word.get_height() // 2))
