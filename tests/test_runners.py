"""The runners: a signal while the closing records are written is only remembered; the records come out
whole, and a mode's last step after them (a study's report) is skipped, not half done."""

from __future__ import annotations

import json
import os
import signal

import pytest
from conftest import FIXTURES, only_session

from avatar.app import RunSettings, run_mirror
from avatar.errors import StopRequested
from avatar.events import SessionStatus
from avatar.mode import Mode
from avatar.runners import SignalGuard


def test_a_signal_while_closing_is_remembered_then_raised_when_work_may_stop():
    with SignalGuard() as guard:
        guard.defer()
        os.kill(os.getpid(), signal.SIGTERM)  # must not interrupt the closing lines
        assert guard.deferred == "SIGTERM"
        with pytest.raises(StopRequested, match="SIGTERM"):
            guard.resume()


class SignalledWhileClosing(Mode):
    """Sends SIGTERM to its own process at the end of the run and again during its last step."""

    name = "signalled"

    def __init__(self):
        self.last_step_done = False

    def on_end(self, context, status, reason):
        os.kill(os.getpid(), signal.SIGTERM)
        return {"closing": "signalled"}

    def after_records(self, context, status):
        self.last_step_done = True


def test_sigterm_while_the_records_close_leaves_them_whole_and_skips_the_last_step(tmp_path, capsys):
    mode = SignalledWhileClosing()
    settings = RunSettings(source=str(FIXTURES / "smile_onset.mp4"), headless=True, log_dir=tmp_path, max_frames=15)
    assert run_mirror(settings, mode) == 0
    session = only_session(tmp_path)
    info = json.loads((session / "session.json").read_text())
    assert info["status"] == SessionStatus.FINISHED.value and info["closing"] == "signalled" and info["end"]
    assert json.loads((session / "events.jsonl").read_text().splitlines()[-1])["type"] == "session_end"
    assert not mode.last_step_done
    assert "SIGTERM" in capsys.readouterr().err


QUIT_SCRIPT = r'''
import os, sys, time
os.environ["SDL_VIDEODRIVER"] = "dummy"
from avatar.isolation import isolate_unless_networked
isolate_unless_networked([])  # first, as python -m avatar does
from avatar.app import RunSettings, run_mirror
from avatar.mode import Mode


class PressEscape(Mode):
    """Presses Esc in the window once the avatar has answered a second of the demo clip."""

    def after_frame(self, context, outcome):
        if outcome.frame.index == 30:
            import pygame
            print(f"pressed {time.time()!r}", file=sys.stderr, flush=True)
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, unicode="\x1b"))
        return outcome


from avatar.cli import exit_process  # noqa: E402  (how python -m avatar ends, once all is closed)

exit_process(run_mirror(RunSettings(source="demo", realtime=True, headless=False), PressEscape()))
'''


@pytest.mark.slow
def test_quitting_the_window_ends_the_process_within_half_a_second(tmp_path):
    import subprocess
    import sys
    import time

    from conftest import ROOT

    script = tmp_path / "quit.py"
    script.write_text(QUIT_SCRIPT)
    process = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    pressed = None
    for line in process.stderr:
        if line.startswith("pressed "):
            pressed = float(line.split()[1])
            break
    process.wait(timeout=30)
    exited = time.time()
    assert pressed is not None and process.returncode == 0
    assert exited - pressed <= 0.5, f"{exited - pressed:.2f} s from Esc to the process's end"
