"""Where pixels leave the program: the pygame window (or an off-screen surface) and the mp4 recorder.

An edge of the pipeline, used by the loop in app.py; it draws nothing itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from avatar.errors import AvatarError, DisplayError


def check_display(headless: bool) -> None:
    """Refuse early, in one line, to open a window where there is no display."""
    if headless or not sys.platform.startswith("linux"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("SDL_VIDEODRIVER")):
        raise DisplayError("no display found to open a window on; use --headless")


class Display:
    """A pygame window, or an off-screen surface for --headless (SDL's dummy driver)."""

    def __init__(self, size: tuple[int, int], headless: bool, fullscreen: bool = False, title: str = "Mirror avatar", screen: int = 0):
        self.headless = headless
        self.screen = screen
        check_display(headless)
        if headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pygame = pygame
        pygame.display.init()
        pygame.font.init()
        try:
            if headless:
                pygame.display.set_mode((1, 1))
                self.surface = pygame.Surface(size)
            else:
                screens = pygame.display.get_num_displays()
                if not 0 <= screen < screens:
                    pygame.quit()
                    raise DisplayError(f"--display {screen}: there is no such display (this machine has {screens}: 0-{screens - 1})")
                flags = pygame.RESIZABLE | (pygame.FULLSCREEN if fullscreen else 0)
                self.surface = pygame.display.set_mode((0, 0) if fullscreen else size, flags, display=screen)
                pygame.display.set_caption(title)
        except pygame.error as exc:
            pygame.quit()
            raise DisplayError(f"cannot open a window ({exc}); use --headless") from None
        self.fullscreen = fullscreen
        self.window_size = size

    def present(self) -> None:
        if not self.headless:
            self.pygame.display.flip()

    def toggle_fullscreen(self) -> None:
        pygame = self.pygame
        self.fullscreen = not self.fullscreen
        if self.fullscreen:
            self.surface = pygame.display.set_mode((0, 0), pygame.FULLSCREEN, display=self.screen)
        else:
            self.surface = pygame.display.set_mode(self.window_size, pygame.RESIZABLE, display=self.screen)

    def close(self) -> None:
        self.pygame.quit()


class VideoRecorder:
    """Writes what the avatar showed as an mp4, one frame per processed frame."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]):
        import cv2

        self._cv2 = cv2
        path = Path(path)
        if path.parent and not path.parent.exists():
            raise AvatarError(f"--save-video {path}: folder {path.parent} does not exist")
        self.path = path
        self.size = size
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        if not self._writer.isOpened():
            raise AvatarError(f"--save-video {path}: cannot write a video there")
        self.frames = 0

    def write_surface(self, surface) -> None:
        import pygame

        if surface.get_size() != self.size:
            surface = pygame.transform.smoothscale(surface, self.size)
        rgb = pygame.surfarray.pixels3d(surface).swapaxes(0, 1)
        self._writer.write(self._cv2.cvtColor(rgb, self._cv2.COLOR_RGB2BGR))
        del rgb  # release the surface lock
        self.frames += 1

    def close(self) -> None:
        self._writer.release()
