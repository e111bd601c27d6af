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


def test_help_lists_every_registered_subcommand_with_its_one_line_description():
    from avatar.cli import SUBCOMMANDS, summary_of_subcommands

    result = run_cli("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m avatar [SUBCOMMAND] [options]")
    listing = summary_of_subcommands().splitlines()[1:]
    assert [line.split()[0] for line in listing] == list(SUBCOMMANDS)  # each registered one, batch and the rest
    for line in listing:
        assert line in result.stdout and len(line.split(None, 1)[1]) > 10  # a description, not just a name
    assert {"run", "read", "chat", "styles", "bench", "report", "evaluate", "cameras"} <= set(SUBCOMMANDS)
    assert "--source SOURCE" in result.stdout  # run's own options follow


def _settings_of_run(monkeypatch, *argv):
    """The RunSettings `python -m avatar ARGV` would run with, on this machine (no camera)."""
    import avatar.app
    import avatar.sources
    from avatar.arguments import run_subcommand
    from avatar.cli import add_run

    taken = []
    monkeypatch.setattr(avatar.sources, "camera_available", lambda index=0: False)
    monkeypatch.setattr(avatar.app, "run_mirror", lambda settings, mode, **_: taken.append(settings) or 0)
    assert run_subcommand(add_run, list(argv)) == 0
    return taken[0]


@pytest.mark.parametrize("argv, loops", [
    ((), True),  # no camera: the demo stands in, looping like a camera until Esc
    (("--source", "demo"), True),
    (("--source", "demo", "--once"), False),
    (("--headless",), False),  # a headless run ends at the clip's end
    (("--headless", "--source", "demo", "--loop"), True),
])
def test_the_demo_loops_in_a_window_unless_once(monkeypatch, argv, loops):
    settings = _settings_of_run(monkeypatch, *argv)
    assert settings.source == "demo" and settings.loop is loops
    assert settings.realtime is ("--headless" not in argv)  # a file plays at its own speed only in a window


def test_once_and_loop_together_are_one_line():
    _one_line_error(run_cli("--headless", "--once", "--loop"), "--once", "--loop")


@pytest.mark.slow
def test_a_headless_run_ends_with_one_summary_line(tmp_path):
    import re

    from conftest import only_session, real_media

    clip = real_media("real/single_face.mp4")  # 72 frames of a real person at 30 fps
    result = run_cli("--headless", "--source", str(clip), "--log-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.strip().splitlines()
    found = re.fullmatch(r"done: (\d+) frames, a face in (\d+) \((\d+)%\), ([\d.]+) s of source time; logs in (.+)", line)
    assert found, line
    frames, faces, share, seconds, folder = found.groups()
    assert int(frames) == 72 and 0 < int(faces) <= 72 and seconds == "2.4"
    assert folder == str(only_session(tmp_path))

    nothing_kept = run_cli("--headless", "--source", str(clip), "--max-frames", "10")
    assert nothing_kept.stdout.strip().endswith("; no logs kept")
