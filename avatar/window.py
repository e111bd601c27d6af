"""Where pixels leave the program: the pygame window (or an off-screen surface) and the mp4 recorder.

An edge of the pipeline, used by the loop in app.py; it draws nothing itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from avatar.errors import AvatarError, DisplayError

PRIVATE_FILE_MODE = 0o600  # a video or screenshot may hold the camera picture (classroom)


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


def partial_path(path: Path) -> Path:
    """Where a picture or video is written until it is whole: `name.partial.ext` (players and image
    viewers still know the format by its extension, and the name says what it is)."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def claim_output(path: Path, flag: str, overwrite: bool = False) -> Path:
    """Check that `path` may be written and create its partial file, empty, readable only by the user
    (0600). A file already there is replaced only with --overwrite. Returns the partial's path."""
    path = Path(path)
    if not path.parent.is_dir():
        raise AvatarError(f"{flag} {path}: folder {path.parent} does not exist")
    partial = partial_path(path)
    for existing in (path, partial):
        if existing.exists() or existing.is_symlink():
            if not overwrite:
                raise AvatarError(f"{flag} {path}: {existing.name} exists; use --overwrite to replace it")
            existing.unlink()
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE_MODE))
    except OSError as exc:
        raise AvatarError(f"{flag} {path}: cannot write there ({exc.strerror or exc})") from None
    return partial


def publish(partial: Path, path: Path) -> None:
    """Make a whole partial file the final one: to disk first, then renamed in one step."""
    fd = os.open(partial, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(partial, PRIVATE_FILE_MODE)
    os.replace(partial, path)


class VideoRecorder:
    """Writes what the avatar showed as an mp4, one frame per processed frame.

    The video is written to `name.partial.mp4` (0600) and renamed to its name only when it is closed
    whole, so a killed run never leaves an unreadable mp4 under the name that was asked for.
    """

    def __init__(self, path: Path, fps: float, size: tuple[int, int], overwrite: bool = False):
        import cv2

        self._cv2 = cv2
        self.path = Path(path)
        self.partial = claim_output(self.path, "--save-video", overwrite)
        self.size = size
        # OpenCV opens the file we created (truncating it), so it keeps its private mode.
        self._writer = cv2.VideoWriter(str(self.partial), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        if not self._writer.isOpened():
            self.partial.unlink(missing_ok=True)
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
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        publish(self.partial, self.path)


def save_into(surface, partial: Path, path: Path) -> None:
    """A PNG of `surface` written into its claimed partial file (claim_output), then made final."""
    import pygame

    try:
        pygame.image.save(surface, str(partial))
    except (pygame.error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise AvatarError(f"--screenshot {path}: cannot write it ({exc})") from None
    publish(partial, Path(path))
