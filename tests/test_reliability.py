"""Faults while running: a failing source, a bad frame, a lost camera, a full disk, signals."""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from conftest import ASTRONAUT, ROOT, only_session, read_frames

from avatar.app import RunSettings, run_mirror
from avatar.face import FaceReader
from avatar.sources import CameraSource, ImageSource, Source, SourceKind


def _events(session_dir):
    return [json.loads(line) for line in (session_dir / "events.jsonl").read_text().splitlines()]


def _settings(tmp_path, **changes):
    return RunSettings(source=str(ASTRONAUT), headless=True, log_dir=tmp_path, duration_s=0.5, size=(160, 120), **changes)


class FailingSource(Source):
    """Gives a few frames of a real photo, then raises, as a broken driver might."""

    kind = SourceKind.VIDEO
    description = "failing"

    def __init__(self, good_frames: int):
        self.notices = []
        self._inner = ImageSource(ASTRONAUT, duration_s=10)
        self._left = good_frames

    def read(self):
        if self._left == 0:
            raise OSError("device went away")
        self._left -= 1
        return self._inner.read()


def test_a_source_that_fails_part_way_ends_the_run_cleanly(tmp_path, capsys):
    code = run_mirror(_settings(tmp_path), source=FailingSource(good_frames=6))
    assert code == 0
    session = only_session(tmp_path)
    assert len(read_frames(session)) == 6
    types = [e["type"] for e in _events(session)]
    assert "source_error" in types and types[-1] == "session_end"
    assert "device went away" in capsys.readouterr().err


def test_an_error_in_one_frame_is_logged_and_the_loop_goes_on(tmp_path, monkeypatch):
    real_read = FaceReader.read
    calls = {"n": 0}

    def flaky_read(self, rgb, t_s=None):
        calls["n"] += 1
        if calls["n"] in (3, 7):
            raise ValueError("bad frame")
        return real_read(self, rgb, t_s)

    monkeypatch.setattr(FaceReader, "read", flaky_read)
    assert run_mirror(_settings(tmp_path)) == 0
    folder = only_session(tmp_path)
    errors = [e for e in _events(folder) if e["type"] == "frame_error"]
    assert [e["count"] for e in errors] == [1, 2] and errors[0]["error"] == "ValueError"
    assert len(read_frames(folder)) == 15 - 2


def test_a_full_disk_stops_cleanly_with_what_was_written(tmp_path, monkeypatch, capsys):
    from avatar import logs

    original = logs.SessionLog.write_row
    rows = {"n": 0}

    def frame_until_full(self, values):
        rows["n"] += 1
        if rows["n"] > 5:
            raise_full = OSError(errno.ENOSPC, "No space left on device")
            self._write(self._frames_file, lambda: (_ for _ in ()).throw(raise_full))
        original(self, values)

    monkeypatch.setattr(logs.SessionLog, "write_row", frame_until_full)
    assert run_mirror(_settings(tmp_path)) == 1
    assert "disk full" in capsys.readouterr().err
    folder = only_session(tmp_path)
    assert len(read_frames(folder)) == 5
    assert (folder / "frames.csv").read_text().endswith("\n")


class FakeCapture:
    """A capture that gives frames, then fails as an unplugged camera does."""

    def __init__(self, frames_before_unplug: int | None):
        self.left = frames_before_unplug

    def get(self, prop):
        return 30.0

    def read(self):
        time.sleep(0.005)
        if self.left is not None:
            if self.left <= 0:
                return False, None
            self.left -= 1
        return True, np.zeros((48, 64, 3), np.uint8)

    def release(self):
        pass


def test_a_camera_that_disconnects_is_reopened_when_it_returns():
    opened = []
    plugged = {"in": True}

    def opener(index):
        if not plugged["in"]:
            return None
        capture = FakeCapture(frames_before_unplug=20 if not opened else None)
        opened.append(capture)
        return capture

    CameraSource.BACKOFF_S = (0.05, 0.2)
    camera = CameraSource(0, opener=opener)
    try:
        plugged["in"] = False
        deadline = time.time() + 5
        while not camera.lost and time.time() < deadline:
            time.sleep(0.01)
        assert camera.lost
        plugged["in"] = True
        before = camera.read().index
        after = camera.read().index
        assert after > before and not camera.lost
        kinds = [event.type for _, event in camera.drain_state_changes()]
        assert kinds == ["camera_lost", "camera_back"] and len(opened) == 2
    finally:
        camera.close()
        CameraSource.BACKOFF_S = (0.5, 8.0)


def test_a_cut_video_is_read_as_far_as_it_goes(tmp_path):
    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 30, (256, 256))
    face = cv2.resize(cv2.imread(str(ASTRONAUT)), (256, 256))
    for i in range(60):
        writer.write(np.roll(face, i % 3, axis=1))
    writer.release()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    result = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--source", str(cut), "--headless", "--log-dir", str(tmp_path / "logs")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert 20 < len(read_frames(only_session(tmp_path / "logs"))) < 60


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_stops_the_run_with_whole_files(tmp_path, sig):
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "--source", str(ASTRONAUT), "--duration", "60", "--realtime", "--headless", "--log-dir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        folders = [p for p in tmp_path.iterdir() if p.is_dir()]
        if folders and (folders[0] / "frames.csv").exists() and len((folders[0] / "frames.csv").read_text().splitlines()) > 10:
            break
        time.sleep(0.2)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    folder = only_session(tmp_path)
    assert (folder / "frames.csv").read_text().endswith("\n")
    events = _events(folder)
    assert [e["type"] for e in events][-2:] == ["aborted", "session_end"]
    assert json.loads((folder / "session.json").read_text())["status"] == "aborted"


def test_an_mp4_cut_to_300_kb_is_read_to_its_end(tmp_path):
    # An H.264 mp4 with its index at the front (as phones and `-movflags +faststart` write it),
    # cut the way a failed copy cuts it: every whole frame before the cut is read.
    cut = tmp_path / "cut.mp4"
    cut.write_bytes((ROOT / "tests" / "fixtures" / "faststart_h264.mp4").read_bytes()[:300_000])
    result = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--source", str(cut), "--headless", "--log-dir", str(tmp_path / "logs")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "cut or corrupt" in result.stderr and "Traceback" not in result.stderr
    assert len(read_frames(only_session(tmp_path / "logs"))) > 20


def test_an_mp4_cut_before_its_index_is_named_as_such(tmp_path):
    from avatar.errors import SourceError
    from avatar.sources import open_source

    cut = tmp_path / "recording.mp4"
    ftyp = (24).to_bytes(4, "big") + b"ftypisom" + bytes(12)
    mdat = (10_000_000).to_bytes(4, "big") + b"mdat" + bytes(5000)
    cut.write_bytes(ftyp + mdat)
    with pytest.raises(SourceError, match="without its index"):
        open_source(str(cut))
