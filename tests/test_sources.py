"""Sources: files on their own clock, stills held, clear errors for bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import ASTRONAUT

from avatar.errors import SourceError
from avatar.sources import ImageSource, VideoFileSource, open_source, parse_camera_spec


def _write_clip(path, frames=12, fps=25.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), i * 10, np.uint8))
    writer.release()


def test_video_time_comes_from_the_frame_rate(tmp_path):
    clip = tmp_path / "c.mp4"
    _write_clip(clip)
    with open_source(str(clip)) as source:
        frames = list(source)
    assert len(frames) == 12
    assert [f.t_s for f in frames] == pytest.approx([i / 25.0 for i in range(12)])


def test_a_looped_video_keeps_time_increasing(tmp_path):
    clip = tmp_path / "c.mp4"
    _write_clip(clip, frames=5)
    source = VideoFileSource(clip, loop=True)
    times = [source.read().t_s for _ in range(12)]
    assert all(b > a for a, b in zip(times, times[1:], strict=False))


def test_a_still_is_held_for_its_duration():
    frames = list(ImageSource(ASTRONAUT, duration_s=0.5))
    assert len(frames) == 15 and frames[-1].t_s == pytest.approx(14 / 30)


@pytest.mark.parametrize("content,message", [(b"", "empty"), (b"hello", "not a video or image")])
def test_bad_files_are_named(tmp_path, content, message):
    path = tmp_path / "thing.dat"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        open_source(str(path))


def test_camera_specs():
    assert parse_camera_spec("camera") == 0 and parse_camera_spec("camera:2") == 2
    assert parse_camera_spec("clip.mp4") is None
    with pytest.raises(SourceError, match="camera:x"):
        parse_camera_spec("camera:x")
