"""Pictures that leave the program: private (0600), never over an existing file unless asked, and whole
under their name or not there at all (a killed run leaves only `name.partial.ext`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import FIXTURES, ROOT, run_cli

CLIP = str(FIXTURES / "smile_onset.mp4")


def test_video_and_screenshot_are_private_and_not_overwritten_without_asking(tmp_path):
    video, shot = tmp_path / "v.mp4", tmp_path / "s.png"
    args = ("--source", CLIP, "--headless", "--max-frames", "40", "--save-video", str(video), "--screenshot", str(shot))
    assert run_cli(*args).returncode == 0
    assert video.stat().st_mode & 0o777 == 0o600 and shot.stat().st_mode & 0o777 == 0o600
    before = video.read_bytes()
    again = run_cli(*args)
    assert again.returncode == 1 and again.stderr.strip().count("\n") == 0 and "--overwrite" in again.stderr
    assert video.read_bytes() == before
    assert run_cli(*args, "--overwrite").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.png", "v.mp4"]


@pytest.mark.slow
def test_a_killed_run_leaves_no_video_under_the_name_asked_for(tmp_path):
    video = tmp_path / "v.mp4"
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--source", CLIP, "--headless", "--realtime",
                                "--save-video", str(video)], cwd=ROOT, stderr=subprocess.PIPE)
    partial = tmp_path / "v.partial.mp4"
    deadline = time.monotonic() + 30
    while not partial.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # a second of the video written
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert not video.exists() and partial.exists()
    assert partial.stat().st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["v.partial.mp4"]
