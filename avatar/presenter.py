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
from avatar.window import Display, VideoRecorder, claim_output, save_into


class Overlay(Protocol):
    """Something drawn over the plain avatar that talks (the chat: window only)."""

    def tick(self) -> tuple[str | None, float]:
        """Once per drawn frame: the speech bubble's text and how far the mouth is open (0-1)."""

    def caption(self) -> str | None: ...


@dataclass(frozen=True)
class PresentSettings:
    status_source: str  # the source's name on the status line
    show_status: bool = True
    calibrate_s: float = 0.0
    screenshot: Path | None = None
    screenshot_at_s: float = 1.0
    overwrite: bool = False  # --overwrite: replace an existing screenshot


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

    def toggle_status(self) -> None:
        self.settings = dataclasses.replace(self.settings, show_status=not self.settings.show_status)

    def draw(self, controls: Controls, outcome: FrameOutcome | None) -> None:
        bubble, mouth = self.overlay.tick() if self.overlay is not None else (None, 0.0)
        if mouth > 0:  # the avatar "speaks" its reply
            controls = dataclasses.replace(controls, jaw_open=max(controls.jaw_open, 0.6 * mouth))
        typed = self.overlay.caption() if self.overlay is not None else None
        if self.mode.draw(self.context, self.display.surface, outcome, controls):
            # A mode that draws its own view (exhibit, classroom) still shows the chat's line and bubble.
            if typed or bubble:
                self.renderer.draw_overlays(self.display.surface, bubble=bubble, caption=typed)
            return
        s = self.settings
        status = None
        if s.show_status:
            faces = outcome.faces if outcome is not None else 0
            status = f"{s.status_source}  faces {faces}  {self.fps_estimate:4.1f} fps  {self.last_latency_ms:3.0f} ms"
            if self.context.camera_lost:
                status = f"looking for the camera...  {status}"
        caption = None
        if outcome is not None and outcome.frame.t_s < s.calibrate_s:
            caption = f"Please hold a relaxed, neutral face ({s.calibrate_s - outcome.frame.t_s:.0f} s)"
        self.renderer.draw(self.display.surface, controls, status=status, bubble=bubble, caption=typed or caption)

    def show(self, outcome: FrameOutcome, controls: Controls) -> float:
        """Draw a newly answered frame (if anyone can see it), record it and take the screenshot.

        Returns the latency from the frame's capture to its being drawn, in ms.
        """
        if self.keeps_pixels:
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
