"""A virtual camera (`--virtual-camera`): the avatar's frames as a webcam that a video call can pick.

An edge of the pipeline, a frame consumer like window.VideoRecorder: the presenter hands it each
drawn frame. pyvirtualcam (GPL-2.0, an optional extra: `pip install .[virtualcam]`) talks to
v4l2loopback on Linux and OBS's virtual camera on Windows and macOS; it is imported only here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar.errors import AvatarError, first_line

INSTALL_HINT = "pip install 'mirror-avatar[virtualcam]'"


class VirtualCameraError(AvatarError):
    """No pyvirtualcam, or no virtual camera device to send to."""


@dataclass(frozen=True)
class VirtualCameraSettings:
    device: str | None = None  # e.g. /dev/video10; None: the first virtual camera found
    backend: str | None = None  # a pyvirtualcam backend by name (v4l2loopback, obs, ...); None: any that works


class VirtualCamera:
    """Sends RGB frames of the drawn surface to a virtual camera, one per presented frame."""

    def __init__(self, size: tuple[int, int], fps: float, settings: VirtualCameraSettings | None = None):
        settings = settings or VirtualCameraSettings()
        try:
            import pyvirtualcam
        except ImportError:
            raise VirtualCameraError(f"--virtual-camera needs pyvirtualcam, an optional extra: {INSTALL_HINT}") from None
        width, height = size
        try:
            self._camera = pyvirtualcam.Camera(width, height, max(1.0, float(fps)), fmt=pyvirtualcam.PixelFormat.RGB,
                                               device=settings.device, backend=settings.backend)
        except Exception as exc:  # noqa: BLE001 (each backend raises its own kind; all mean "no camera")
            hint = "on Linux load v4l2loopback (sudo modprobe v4l2loopback); on Windows and macOS start OBS's virtual camera once"
            raise VirtualCameraError(f"--virtual-camera: no virtual camera device ({_one_line(exc)}); {hint}") from None
        self.size = (width, height)
        self.device = self._camera.device
        self.frames = 0

    def write_surface(self, surface) -> None:
        import pygame

        if surface.get_size() != self.size:
            surface = pygame.transform.smoothscale(surface, self.size)
        rgb = np.ascontiguousarray(pygame.surfarray.pixels3d(surface).swapaxes(0, 1))  # a copy: the lock is released
        self._camera.send(rgb)
        self.frames += 1

    def close(self) -> None:
        if self._camera is not None:
            self._camera.close()
            self._camera = None


class FrameTee:
    """Hands each presented frame to several consumers (the mp4 and the virtual camera)."""

    def __init__(self, *consumers):
        self.consumers = consumers

    def write_surface(self, surface) -> None:
        for consumer in self.consumers:
            consumer.write_surface(surface)


def _one_line(exc: BaseException) -> str:
    # pyvirtualcam joins each backend's error with newlines: keep them all, on one line.
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text[:300] if text else first_line(exc)
