"""`python -m avatar bench`: bad flags are one-line errors before anything is measured."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

from avatar.bench import command_bench
from avatar.errors import AvatarError, CliError


@pytest.mark.parametrize(("argv", "flag"), [(["--frames", "0"], "--frames"), (["--repeats", "0"], "--repeats"), (["--soak", "-1"], "--soak")])
def test_a_bad_value_is_a_usage_error_naming_its_flag(argv, flag):
    with pytest.raises(CliError, match=flag):
        command_bench(argv)


def test_a_clip_that_is_not_there_is_named_before_anything_runs():
    with pytest.raises(AvatarError, match="nowhere/clip.mp4"):
        command_bench(["--clip", "/nowhere/clip.mp4"])


def test_a_bad_flag_is_one_line_on_stderr_and_exit_code_2():
    done = subprocess.run([sys.executable, "-m", "avatar", "bench", "--frames", "0"], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == ["error: --frames 0 must be at least 1"]
    unknown = subprocess.run([sys.executable, "-m", "avatar", "bench", "--framez", "3"], capture_output=True, text=True, cwd=ROOT,
                             timeout=60)
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1 and "--framez" in unknown.stderr
