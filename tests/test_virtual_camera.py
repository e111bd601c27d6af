"""The virtual camera (avatar/virtual_camera.py, `--virtual-camera`), through pyvirtualcam's own backend registry.

The frames reach a backend registered with `pyvirtualcam.register_backend`, as OBS's or v4l2loopback's
would: pyvirtualcam itself checks their size and format and hands them on.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import FIXTURES, only_session, read_frames, run_cli

pyvirtualcam = pytest.importorskip("pyvirtualcam")

from avatar.app import RunSettings, run_mirror  # noqa: E402
from avatar.virtual_camera import VirtualCamera, VirtualCameraError, VirtualCameraSettings  # noqa: E402


class RecordingBackend:
    """A pyvirtualcam backend (pyvirtualcam.camera.Backend's interface) that keeps what it is sent."""

    opened: list[RecordingBackend] = []

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        self.width, self.height, self.fps, self.fourcc, self._device = width, height, fps, fourcc, device
        self.frames: list[np.ndarray] = []
        self.closed = 0
        RecordingBackend.opened.append(self)

    def send(self, frame: np.ndarray) -> None:
        self.frames.append(frame.copy())

    def close(self) -> None:
        self.closed += 1

    def device(self) -> str:
        return self._device or "recording camera"

    def native_fourcc(self):
        return None


@pytest.fixture
def recording_backend():
    RecordingBackend.opened.clear()
    pyvirtualcam.register_backend("recording", RecordingBackend)
    yield RecordingBackend
    pyvirtualcam.camera.BACKENDS.pop("recording", None)


def test_every_presented_frame_of_a_run_reaches_the_virtual_camera_as_rgb(tmp_path, recording_backend):
    settings = RunSettings(source=str(FIXTURES / "smile_on_off.mp4"), headless=True, size=(320, 240), max_frames=24,
                           log_dir=tmp_path, virtual_camera=VirtualCameraSettings(backend="recording"))
    assert run_mirror(settings) == 0
    (camera,) = recording_backend.opened
    assert (camera.width, camera.height, camera.fps) == (320, 240, 30.0)
    assert camera.fourcc == pyvirtualcam.util.encode_fourcc(pyvirtualcam.PixelFormat.RGB.value)
    assert len(camera.frames) == len(read_frames(only_session(tmp_path))) == 24
    first = camera.frames[0].reshape(240, 320, 3)
    assert first.std() > 10  # the avatar was drawn, not an empty frame
    assert camera.closed == 1


def test_with_a_video_too_both_get_every_frame(tmp_path, recording_backend):
    video = tmp_path / "avatar.mp4"
    settings = RunSettings(source=str(FIXTURES / "smile_on_off.mp4"), headless=True, size=(160, 120), max_frames=10,
                           save_video=video, virtual_camera=VirtualCameraSettings(backend="recording"))
    assert run_mirror(settings) == 0
    assert len(recording_backend.opened[0].frames) == 10 and video.stat().st_size > 0


def test_a_named_device_is_passed_to_the_backend(recording_backend):
    camera = VirtualCamera((64, 48), 25.0, VirtualCameraSettings(device="/dev/video42", backend="recording"))
    assert camera.device == "/dev/video42"
    camera.close()


def test_no_virtual_camera_device_is_a_one_line_error_before_the_run():
    result = run_cli("--source", str(FIXTURES / "smile_on_off.mp4"), "--headless", "--virtual-camera", "/dev/video99")
    if result.returncode == 0:
        pytest.skip("this machine has a virtual camera at /dev/video99")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --virtual-camera: no virtual camera device"), result.stderr


def test_without_pyvirtualcam_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # as if the extra were not installed
    with pytest.raises(VirtualCameraError, match=r"needs pyvirtualcam, an optional extra: pip install 'mirror-avatar\[virtualcam\]'"):
        VirtualCamera((64, 48), 30.0)
