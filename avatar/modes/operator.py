"""The experimenter's view of a study run: where the session is, how long is left, what was logged.

Drawn by the study mode (avatar.modes.study) either in a corner of the participant's screen, hidden until
the experimenter presses O, or in a window of its own on a second display (--operator-display N). A
marker's confirmation ("Marker 3 logged") shows here, never over the participant's face. pygame is
imported lazily; the second window uses pygame 2's SDL2 window API (pygame._sdl2.video), the one way a
pygame 2.6 process opens a second window.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass
from pathlib import Path

from avatar.errors import CliError
from avatar.modes.screens import TextPainter
from avatar.strings import say

MARKER_NOTE_S = 1.5  # how long "Marker 3 logged" stays
WINDOW_SIZE = (760, 500)
WINDOW_TITLE = "Mirror avatar - operator"
REDRAW_S = 0.1  # the operator window is text: ten drawings a second are plenty
PANEL = (10, 12, 20)
EDGE = (90, 100, 130)
INK = (235, 235, 235)
QUIET = (160, 170, 190)
NOTE = (255, 210, 90)
SDL_WINDOWPOS_CENTERED_DISPLAY = 0x2FFF0000  # | display index: SDL centres the window on that display


@dataclass(frozen=True)
class OperatorStatus:
    """What the experimenter reads, as the study mode knows it at one moment."""

    participant: str
    position: int  # 1-based place of the current (or next) block; 0 before the first step
    total: int
    block: str
    condition: str
    phase: str
    step_left_s: float | None  # None: a questionnaire, which lasts until answered
    session_left_s: float  # the timed steps still to come, questionnaires not counted
    markers: int
    faces: int
    fps: float
    log_folder: Path | None


def clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.999))
    return f"{seconds // 60}:{seconds % 60:02d}"


def status_lines(status: OperatorStatus) -> list[str]:
    lines = [
        say("study.operator_participant", participant=status.participant),
        say("study.operator_block", position=status.position, total=status.total, block=status.block,
            condition=status.condition),
        say("study.operator_phase", phase=status.phase),
    ]
    if status.step_left_s is not None:
        lines.append(say("study.operator_block_left", left=clock_text(status.step_left_s)))
    lines += [
        say("study.operator_session_left", left=clock_text(status.session_left_s)),
        say("study.operator_markers", n=status.markers),
        say("study.operator_faces", faces=status.faces, fps=f"{status.fps:.1f}"),
        say("study.operator_folder", folder=status.log_folder) if status.log_folder is not None
        else say("study.operator_no_folder"),
    ]
    return lines


def draw_operator_panel(surface, painter: TextPainter, status: OperatorStatus, note: str, rect, line_px: int,
                        hint: str = "study.operator_hint") -> None:
    """The operator's lines in `rect` (x, y, w, h) of `surface`: a dark panel, the status, the marker note, a hint."""
    import pygame

    box = pygame.Rect(rect)
    panel = pygame.Surface(box.size, pygame.SRCALPHA)
    panel.fill((*PANEL, 235))
    surface.blit(panel, box.topleft)
    pygame.draw.rect(surface, EDGE, box, width=2)
    pad = line_px * 0.5
    y = box.y + pad
    y = painter.blit(surface, say("study.operator_title"), line_px, QUIET, (box.x + pad, y)).bottom + line_px * 0.2
    for line in status_lines(status):
        for part in painter.wrap(line, line_px, int(box.width - 2 * pad)):
            y = painter.blit(surface, part, line_px, INK, (box.x + pad, y)).bottom + line_px * 0.15
    if note:
        y = painter.blit(surface, note, round(line_px * 1.2), NOTE, (box.x + pad, y + line_px * 0.3)).bottom
    painter.blit(surface, say(hint), max(12, round(line_px * 0.75)), QUIET,
                 (box.x + pad, box.bottom - pad), "bottomleft")


def operator_panel_height(painter: TextPainter, status: OperatorStatus, note: str, width: int, line_px: int) -> int:
    """What draw_operator_panel's lines take at `width`: the corner covers no more of the participant's screen."""
    pad = line_px * 0.5
    line = painter.font(line_px).get_linesize()
    rows = 1 + sum(len(painter.wrap(text, line_px, int(width - 2 * pad))) for text in status_lines(status))
    height = 2 * pad + line + line_px * 0.2 + (rows - 1) * (line + line_px * 0.15)
    if note:
        height += painter.font(round(line_px * 1.2)).get_linesize() + line_px * 0.3
    height += painter.font(max(12, round(line_px * 0.75))).get_linesize() + pad  # the hint at the bottom
    return round(height)


def check_operator_display(index: int, participant_screen: int) -> None:
    """Refuse, before anything opens, an operator display that is not there or is the participant's."""
    if index == participant_screen:
        raise CliError(f"--operator-display {index} is the participant's display (--display {participant_screen}): "
                       "give the other screen, or leave it out and press O for the corner view")
    import os

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    try:
        pygame.display.init()
        screens = pygame.display.get_num_displays()
    except pygame.error:
        return  # no display at all: the window's own check says so in one line
    if not 0 <= index < screens:
        raise CliError(f"--operator-display {index}: there is no such display (this machine has {screens}: 0-{screens - 1})")


class OperatorWindow:
    """A second window, centred on another display, showing the operator panel."""

    def __init__(self, display_index: int, size: tuple[int, int] = WINDOW_SIZE):
        import pygame
        from pygame._sdl2.video import Renderer, Window

        centred = SDL_WINDOWPOS_CENTERED_DISPLAY | display_index
        self._pygame = pygame
        self.window = Window(WINDOW_TITLE, size=size, position=(centred, centred), resizable=True)
        self.renderer = Renderer(self.window)
        self.surface = pygame.Surface(size)

    def show(self, draw) -> None:
        """draw(surface) onto a surface of the window's size, then put it on the window."""
        from pygame._sdl2.video import Texture

        if self.surface.get_size() != tuple(self.window.size):
            self.surface = self._pygame.Surface(self.window.size)
        draw(self.surface)
        texture = Texture.from_surface(self.renderer, self.surface)
        self.renderer.clear()
        texture.draw()
        self.renderer.present()

    def close(self) -> None:
        self.window.destroy()


class OperatorView:
    """The operator view's state: shown or not (O), the marker note, the frame rate, the second window."""

    def __init__(self, display_index: int | None = None, clock=time.monotonic):
        self.display_index = display_index
        self.visible = False  # the corner view starts hidden: the participant must not read the condition
        self.clock = clock
        self.window: OperatorWindow | None = None
        self._note = ""
        self._note_until = 0.0
        self._frames: collections.deque[float] = collections.deque(maxlen=60)
        self._next_redraw = 0.0
        self._painter = TextPainter()

    def open(self) -> None:
        """[main] The second window, if one was asked for."""
        if self.display_index is not None and self.window is None:
            self.window = OperatorWindow(self.display_index)

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window = None

    def toggle(self) -> None:
        self.visible = not self.visible

    def marker_logged(self, n: int) -> None:
        self._note, self._note_until = say("study.marker_logged", n=n), self.clock() + MARKER_NOTE_S

    def note(self) -> str:
        return self._note if self.clock() < self._note_until else ""

    def frame_seen(self) -> None:
        """[respond] One more frame answered: the frame rate is over the last 60."""
        self._frames.append(time.perf_counter())

    def fps(self) -> float:
        frames = list(self._frames)
        if len(frames) < 2 or frames[-1] <= frames[0]:
            return 0.0
        return (len(frames) - 1) / (frames[-1] - frames[0])

    @property
    def in_corner(self) -> bool:
        """Something to draw on the participant's screen: the corner view, or a marker's note without a second window."""
        return self.window is None and (self.visible or bool(self.note()))

    def draw(self, surface, status: OperatorStatus) -> None:
        """[present] The view: in its window (at most ten times a second), or in the screen's lower left corner."""
        note = self.note()
        if self.window is not None:
            now = self.clock()
            if now >= self._next_redraw:
                self._next_redraw = now + REDRAW_S
                self.window.show(lambda target: self._draw_full(target, status, note))
            return
        w, h = surface.get_size()
        line_px = max(14, round(h * 0.028))
        margin = round(h * 0.02)
        if self.visible:
            font = self._painter.font(line_px)
            widest = max(font.size(text)[0] for text in (*status_lines(status), say("study.operator_hint"), note))
            width = round(min(w * 0.4, widest + line_px * 1.2))  # as narrow as its lines: it covers the participant's screen
            height = operator_panel_height(self._painter, status, note, width, line_px)
            draw_operator_panel(surface, self._painter, status, note, (margin, h - margin - height, width, height), line_px)
        elif note:  # hidden view: only the note, small, in the corner, away from the face
            self._painter.blit(surface, note, line_px, NOTE, (margin, h - margin), "bottomleft")

    def _draw_full(self, surface, status: OperatorStatus, note: str) -> None:
        w, h = surface.get_size()
        surface.fill(PANEL)
        draw_operator_panel(surface, self._painter, status, note, (0, 0, w, h), max(14, round(h * 0.055)),
                            "study.operator_hint_window")
