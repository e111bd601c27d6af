"""`python -m avatar cameras`: the cameras OpenCV can open; this machine has none, a real condition."""

from __future__ import annotations

import threading
import time

from conftest import run_cli

from avatar.cameras import Camera, find_cameras, report_lines


def test_with_no_camera_it_says_so_in_one_line_how_to_use_a_file_and_exits_0():
    result = run_cli("cameras")
    if "camera:" in result.stdout:  # a machine with a camera lists it instead
        assert result.returncode == 0
        return
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("no camera found") and "--source FILE" in lines[0]
    assert result.stderr.strip() == ""  # OpenCV's warnings about missing indexes are not shown


def test_found_cameras_are_listed_by_index_with_size_and_backend():
    def opener(index):
        return Camera(index, 1280, 720, "V4L2") if index in (0, 2) else None

    found, hung = find_cameras(4, 2.0, opener)
    assert hung == []
    assert report_lines(found, hung) == ["camera:0  1280x720  V4L2", "camera:2  1280x720  V4L2"]


def test_a_driver_that_hangs_costs_the_timeout_not_the_command():
    release = threading.Event()

    def opener(index):
        if index == 1:
            release.wait(10)  # a stuck driver
            return None
        if index == 2:
            raise RuntimeError("driver fault")  # one index failing is "no camera there"
        return Camera(index, 640, 480, "V4L2")

    started = time.perf_counter()
    found, hung = find_cameras(3, 0.3, opener)
    took = time.perf_counter() - started
    release.set()
    assert took < 2.0
    assert [camera.index for camera in found] == [0] and hung == [1]
    lines = report_lines(found, hung)
    assert lines[0] == "camera:0  640x480  V4L2" and "index 1" in lines[1]


def test_a_bad_index_range_is_one_line():
    result = run_cli("cameras", "--max-index", "500")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == ["error: --max-index 500 is out of range: give 0-63"]
