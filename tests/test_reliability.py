"""Faults while running: a failing source, a bad frame, a lost camera, a full disk, signals."""

from __future__ import annotations

import json
import shutil
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


TINY_DISK = r'''
mount -t tmpfs -o size="$SIZE" tmpfs "$DISK" || exit 97
"$@"
code=$?
cp -a "$DISK/logs" "$OUT/" 2>/dev/null
exit $code
'''


def _tiny_disks_work() -> bool:
    if not sys.platform.startswith("linux") or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


def _run_on_a_tiny_disk(tmp_path, size: str, *args: str) -> subprocess.CompletedProcess:
    """The real program with --log-dir on a tmpfs of `size` (a mount namespace of its own); the
    logs are copied out afterwards for the test to read."""
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    command = ["env", f"SIZE={size}", f"DISK={disk}", f"OUT={out}", "unshare", "-rm", "sh", "-c", TINY_DISK, "tiny",
               sys.executable, str(ROOT / "run.py"), *args, "--log-dir", str(disk / "logs")]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.slow
@pytest.mark.skipif(not _tiny_disks_work(), reason="needs unshare -rm to mount a tiny tmpfs")
def test_a_full_disk_ends_with_whole_rows_closing_lines_and_a_true_session_json(tmp_path):
    result = _run_on_a_tiny_disk(tmp_path, "360k", "--source", str(ROOT / "tests" / "fixtures" / "smile_on_off.mp4"),
                                 "--headless")
    assert result.returncode == 1, result.stderr
    assert "disk full" in result.stderr and "Traceback" not in result.stderr
    folder = only_session(tmp_path / "out" / "logs")
    data = (folder / "frames.csv").read_bytes()
    assert data.endswith(b"\n")
    rows = read_frames(folder)
    assert 20 < len(rows) < 600 and all(None not in r.values() for r in rows)  # every row whole
    events = _events(folder)
    assert [e["type"] for e in events][-2:] == ["aborted", "session_end"] and events[-2]["reason"] == "disk full"
    info = json.loads((folder / "session.json").read_text())
    assert info["status"] == "aborted" and info["reason"] == "disk full" and info["end"]
    assert sorted(p.name for p in folder.iterdir()) == ["events.jsonl", "frames.csv", "session.json"]  # no .tmp, no .reserve


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


# --- a hostile world: every bad input is one short line that names what is at fault ------------------------

LONG_NAME = "x" * 300  # longer than any file name the system allows (255 bytes)


def _hostile_inputs(tmp_path):
    from test_sources import write_png_bomb

    def config(name, text):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    deep = "[run]\nsource = " + "[" * 400 + "]" * 400 + "\n"
    return {
        "image bomb": (["--source", str(write_png_bomb(tmp_path / "bomb.png"))], "bomb.png is 30000 x 30000 pixels"),
        "long --source": (["--source", str(tmp_path / (LONG_NAME + ".mp4"))], "--source "),
        "long --log-dir": (["--source", str(ASTRONAUT), "--log-dir", str(tmp_path / LONG_NAME)], "--log-dir "),
        "long --config": (["--config", str(tmp_path / (LONG_NAME + ".toml"))], ".toml: cannot read it"),
        "long --avatar": (["--source", str(ASTRONAUT), "--avatar", LONG_NAME], "avatar style"),
        "NUL in log_dir": (["--source", str(ASTRONAUT), "--config", config("nul.toml", '[run]\nlog_dir = "a\\u0000b"\n')],
                           "nul.toml:2: run.log_dir"),
        "deep nesting": (["--config", config("deep.toml", deep)], "deep.toml:2: lists or tables nested"),
        "huge value": (["--config", config("huge.toml", '[run]\nsource = "' + "v" * 900_000 + '"\n')], "huge.toml:2: run.source"),
        "huge key": (["--config", config("key.toml", "[run]\n" + "k" * 900_000 + " = 1\n")], "key.toml:2: run.kkk"),
        "huge file": (["--config", config("big.toml", "# " + "c" * 1_100_000 + "\n")], "big.toml: too large"),
    }


@pytest.mark.parametrize("case", ["image bomb", "long --source", "long --log-dir", "long --config", "long --avatar",
                                  "NUL in log_dir", "deep nesting", "huge value", "huge key", "huge file"])
def test_hostile_input_ends_as_one_short_line_naming_it(tmp_path, case):
    args, named = _hostile_inputs(tmp_path)[case]
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), *args, "--headless"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr[:500]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[:500]
    assert "unexpected" not in lines[0] and "Traceback" not in result.stderr
    assert named in lines[0] and len(lines[0]) < 400
