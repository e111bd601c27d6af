"""Modes: exhibit, classroom and study, on top of the mirror loop (avatar.app.Mode hooks).

`add_arguments` adds each mode's flags to the run parser; `make_mode` builds the chosen one.
"""

from __future__ import annotations

import argparse
import dataclasses
from enum import Enum
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent.parent / "assets"
DEFAULT_PROTOCOL = ASSETS / "protocols" / "example.toml"
CLASSROOM_SIZE = (1280, 720)  # a projector's usual 720p; --size overrides it
DEFAULT_SIZE = (800, 600)  # the run parser's default (avatar.cli)


class ModeName(Enum):
    MIRROR = "mirror"
    EXHIBIT = "exhibit"
    CLASSROOM = "classroom"
    STUDY = "study"


def add_arguments(parser: argparse.ArgumentParser, choice) -> None:
    group = parser.add_argument_group("modes")
    group.add_argument("--mode", type=choice("--mode", ModeName), default=ModeName.MIRROR, help="mirror (default), exhibit, classroom or study")
    study = parser.add_argument_group("study mode")
    study.add_argument("--participant", help="participant ID (required in study mode), e.g. P07")
    study.add_argument("--protocol", type=Path, help=f"protocol TOML (default {DEFAULT_PROTOCOL.relative_to(ASSETS.parent)})")
    study.add_argument("--allow-repeat", action="store_true", help="allow another session for the same participant and protocol")
    exhibit = parser.add_argument_group("exhibit mode")
    exhibit.add_argument("--attract-text", help="the line shown while nobody is there (default: a friendly invitation)")
    classroom = parser.add_argument_group("classroom mode")
    classroom.add_argument("--no-camera-image", action="store_true", help="classroom: draw the face mesh without the camera image")
    classroom.add_argument("--no-captions", action="store_true", help="classroom: start with the explanations off (toggle with T)")


def make_mode(args: argparse.Namespace, settings):
    """Return (mode, settings): a mode may adjust the run's settings (fullscreen, looping, ...)."""
    from avatar.app import Mode

    name = getattr(args, "mode", ModeName.MIRROR)
    if name is ModeName.EXHIBIT:
        from avatar.modes.exhibit import ExhibitMode

        mode = ExhibitMode(attract_text=args.attract_text)
        return mode, mode.adjust(settings)
    if name is ModeName.CLASSROOM:
        from avatar.modes.classroom import ClassroomMode

        if settings.size == DEFAULT_SIZE:
            settings = dataclasses.replace(settings, size=CLASSROOM_SIZE)
        return ClassroomMode(camera_image=not args.no_camera_image, captions=not args.no_captions), settings
    if name is ModeName.STUDY:
        from avatar.modes.study import make_study_mode

        return make_study_mode(args, settings)
    return Mode(), settings


class TextPainter:
    """Cached text surfaces in pygame's default font, for the modes' panels (pygame is imported lazily)."""

    def __init__(self, limit: int = 512):
        self._fonts: dict[int, object] = {}
        self._cache: dict[tuple, object] = {}
        self._limit = limit

    def font(self, size_px: int):
        import pygame

        size_px = max(8, int(size_px))
        if size_px not in self._fonts:
            if not pygame.font.get_init():
                pygame.font.init()
            self._fonts[size_px] = pygame.font.Font(None, size_px)
        return self._fonts[size_px]

    def render(self, text: str, size_px: int, color):
        key = (text, int(size_px), tuple(color))
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            surf = self._cache[key] = self.font(size_px).render(text, True, color)
        return surf

    def blit(self, surface, text: str, size_px: int, color, pos, anchor: str = "topleft"):
        img = self.render(text, size_px, color)
        rect = img.get_rect(**{anchor: (round(pos[0]), round(pos[1]))})
        surface.blit(img, rect)
        return rect

    def wrap(self, text: str, size_px: int, width_px: int) -> list[str]:
        from avatar.render import wrap_text

        return wrap_text(self.font(size_px), text, width_px)


def draw_message_screen(surface, painter: TextPainter, title: str, body: str = "", footer: str = "",
                        background=(16, 20, 32), color=(240, 240, 240), accent=(255, 210, 90)) -> None:
    """A calm full-screen message: a title, wrapped body text and a footer line (instructions, breaks)."""
    w, h = surface.get_size()
    surface.fill(background)
    big = max(18, round(min(h * 0.085, w * 0.06)))
    mid = max(14, round(big * 0.62))
    y = h * 0.22
    if title:
        y = painter.blit(surface, title, big, accent, (w / 2, y), "midtop").bottom + big * 0.6
    for line in painter.wrap(body, mid, int(w * 0.8)):
        y = painter.blit(surface, line, mid, color, (w / 2, y), "midtop").bottom + mid * 0.25
    if footer:
        painter.blit(surface, footer, max(12, round(mid * 0.8)), (170, 180, 200), (w / 2, h * 0.86), "midtop")
