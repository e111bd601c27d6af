"""Bad input: one line on stderr naming the fault, a non-zero exit, no traceback."""

from __future__ import annotations

import pytest
from conftest import ASTRONAUT, run_cli


def _one_line_error(result, *needles):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_missing_source_file(tmp_path):
    _one_line_error(run_cli("--headless", "--source", str(tmp_path / "gone.mp4")), "gone.mp4")


def test_text_file_named_mp4(tmp_path):
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video\n")
    _one_line_error(run_cli("--headless", "--source", str(fake)), "fake.mp4")


def test_random_bytes_model(tmp_path):
    model = tmp_path / "random.task"
    model.write_bytes(bytes(range(256)) * 40)
    _one_line_error(run_cli("--headless", "--source", str(ASTRONAUT), "--model", str(model)), "random.task")


def test_familiarity_out_of_range():
    _one_line_error(run_cli("--headless", "--familiarity", "2"), "--familiarity")


def test_camera_that_does_not_open():
    _one_line_error(run_cli("--headless", "--source", "camera:7"), "camera")


def test_log_dir_under_a_file():
    _one_line_error(run_cli("--headless", "--source", str(ASTRONAUT), "--log-dir", "/etc/passwd/logs"), "/etc/passwd")


def test_no_display_suggests_headless():
    result = run_cli("--source", str(ASTRONAUT), env={"DISPLAY": "", "WAYLAND_DISPLAY": "", "SDL_VIDEODRIVER": ""})
    _one_line_error(result, "--headless")


@pytest.mark.parametrize("flag,value", [("--condition", "party"), ("--mapping", "sideways"), ("--load", "-1")])
def test_bad_values_name_their_flag(flag, value):
    _one_line_error(run_cli("--headless", flag, value), flag)


def test_python_m_avatar_is_the_same_program():
    import subprocess
    import sys

    from conftest import ROOT

    a = subprocess.run([sys.executable, "-m", "avatar", "--help"], capture_output=True, text=True, cwd=ROOT)
    b = run_cli("--help")
    assert a.returncode == b.returncode == 0
    assert a.stdout.split("\n", 1)[1] == b.stdout.split("\n", 1)[1]


def test_an_error_comes_alone_even_when_the_demo_stands_in_for_the_camera():
    # With no --source the demo stands in, with a notice; a bad log dir must still be one line.
    _one_line_error(run_cli("--headless", "--log-dir", "/etc/passwd/logs"), "/etc/passwd")


def test_an_error_message_is_one_short_line_whatever_it_quotes():
    from avatar.cli import MAX_MESSAGE_CHARS, one_line

    text = one_line("bad value \x1b[2J" + "x" * 5000 + "\nsecond line")
    assert "\n" not in text and "\x1b" not in text and len(text) <= MAX_MESSAGE_CHARS
    assert one_line("née 😀") == "née 😀"
