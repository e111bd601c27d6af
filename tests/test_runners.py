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


class TypedLines(Mode):
    """Keeps the lines the chat hands on and the keys the window gives the mode."""

    name = "typed"

    def __init__(self):
        self.lines: list[str] = []
        self.keys: list[str] = []

    def on_line(self, context, line):
        self.lines.append(line)

    def on_key(self, context, key):
        self.keys.append(key.char)
        return False


def test_the_window_takes_typed_text_from_sdls_text_events_once_with_accents_and_japanese():
    """Real pygame events, posted as SDL sends them, through the window runner's own event handling."""
    from types import SimpleNamespace

    from avatar.chat.overlay import ChatOverlay
    from avatar.chat.settings import ChatSettings
    from avatar.presenter import Presenter, PresentSettings
    from avatar.render import AvatarRenderer
    from avatar.rig import NEUTRAL
    from avatar.runners import WindowRunner
    from avatar.window import Display

    display = Display((640, 360), headless=True)
    pygame = display.pygame
    mode = TypedLines()
    overlay = ChatOverlay(ChatSettings(), lambda t_s, event: None, opens_on_typing=False)
    presenter = Presenter(display, AvatarRenderer(), mode, None, PresentSettings("test"), overlay=overlay)
    runner = WindowRunner(SimpleNamespace(presenter=presenter, chat=overlay, mode=mode, context=None))

    def typed(*events):
        pygame.event.clear()
        for kind, value in events:
            if kind == "key":
                char = value if isinstance(value, str) else ""
                key = ord(value) if isinstance(value, str) else value
                pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=char, mod=0, scancode=0))
            else:
                pygame.event.post(pygame.event.Event(kind, text=value, start=0, length=0))
        runner._handle_window_events()

    try:
        typed(("key", "h"), (pygame.TEXTINPUT, "h"))  # the line is closed: h is the status key, and text input goes off
        assert not presenter.settings.show_status and not overlay.text_input.active and runner._text_input_on is False
        assert mode.keys == ["h"]
        typed(("key", pygame.K_RETURN))  # Enter opens the line, and text input comes on
        assert overlay.text_input.active and runner._text_input_on is True
        typed(("key", "t"), (pygame.TEXTINPUT, "t"), ("key", "r"), (pygame.TEXTINPUT, "r"),
              (pygame.TEXTINPUT, "è"),  # a dead key's or a layout's letter: no KEYDOWN carries it
              ("key", "s"), (pygame.TEXTINPUT, "s"), ("key", " "), (pygame.TEXTINPUT, " "),
              (pygame.TEXTEDITING, "にほんご"))
        assert overlay.caption() == "> très にほんご_" and overlay.caption_marked() == (7, 11)
        presenter.draw(NEUTRAL, None)  # the composition is drawn underlined, without error
        typed((pygame.TEXTINPUT, "日本語"), ("key", "f"), (pygame.TEXTINPUT, "f"))
        assert overlay.caption() == "> très 日本語f_" and overlay.caption_marked() is None
        typed(("key", pygame.K_BACKSPACE), ("key", pygame.K_RETURN))
        assert mode.lines == ["très 日本語"] and mode.keys == ["h"]  # the line's keys never reached the mode
        assert not overlay.text_input.active and runner._text_input_on is False
    finally:
        overlay.close()
