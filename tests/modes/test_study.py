"""Study mode end to end: the example protocol on a video, refusal of a repeat, and SIGTERM mid-session."""

from __future__ import annotations

import html
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
from conftest import FIXTURES, ROOT, only_session, read_frames, run_cli

from avatar.modes.study import Phase, schedule
from avatar.protocol import load_protocol

EXAMPLE = ROOT / "assets" / "protocols" / "example.toml"


def _events(session: Path) -> list[dict]:
    return [json.loads(line) for line in (session / "events.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A face clip at 10 fps (every third frame of a fixture), so a 65 s protocol runs in seconds."""
    source = cv2.VideoCapture(str(FIXTURES / "smile_on_off.mp4"))
    path = tmp_path_factory.mktemp("clip") / "face10.mp4"
    writer = None
    index = 0
    while True:
        ok, image = source.read()
        if not ok:
            break
        if index % 3 == 0:
            if writer is None:
                h, w = image.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (w, h))
            writer.write(image)
        index += 1
    writer.release()
    return path


@pytest.fixture(scope="module")
def study_run(clip, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("study")
    result = run_cli("--mode", "study", "--participant", "P01", "--source", str(clip), "--headless", "--log-dir", str(log_dir))
    assert result.returncode == 0, result.stderr
    return log_dir, only_session(log_dir), result


def test_example_protocol_has_three_blocks_and_runs_under_two_minutes():
    protocol = load_protocol(EXAMPLE)
    assert {b.condition.value for b in protocol.blocks} >= {"mimic", "delayed", "static"}
    assert protocol.total_s < 120


def test_schedule_puts_breaks_between_blocks_only():
    protocol = load_protocol(EXAMPLE)
    steps = schedule(protocol, [0, 1, 2])
    phases = [s.phase for s in steps]
    assert phases[0] is Phase.INSTRUCTION and phases[-1] is Phase.BLOCK
    assert phases.count(Phase.BLOCK) == 3 and phases.count(Phase.BREAK) == 2


@pytest.mark.slow
def test_study_session_writes_files_blocks_and_a_report(study_run):
    log_dir, session, _ = study_run
    assert session.name.startswith("P01_example_")
    for name in ("frames.csv", "events.jsonl", "session.json", "report.html", "timeline.png"):
        assert (session / name).is_file(), name
        assert (session / name).stat().st_mode & 0o777 == 0o600, name
    assert (session / "frames.csv").read_bytes().endswith(b"\n")
    events = _events(session)
    types = [e["type"] for e in events]
    assert types.count("block_start") == 3 and types.count("block_end") == 3
    assert types[0] == "session_start" and types[-1] == "session_end"
    assert events[-1]["status"] == "finished" and events[-1]["reason"] == "protocol complete"
    times = [e["t"] for e in events]
    assert times == sorted(times)


@pytest.mark.slow
def test_frames_carry_block_and_condition_and_the_file_loops(study_run):
    _, session, _ = study_run
    rows = read_frames(session)
    # The mode's columns follow the empathy model's; the columns added since (issue 15) come last.
    columns = list(rows[0])
    assert columns[columns.index("smile_roll_deg") + 1 :] == ["block", "condition", "phase", "sad", "distress", "talking"]
    assert float(rows[-1]["t"]) > 60  # a 20 s clip, looped through a 65 s protocol
    blocks = {r["block"]: r["condition"] for r in rows if r["phase"] == "block"}
    assert blocks == {"mimic": "mimic", "delayed": "delayed", "static": "static"}
    assert all(r["block"] == "" for r in rows if r["phase"] != "block")


@pytest.mark.slow
def test_session_json_has_protocol_hash_order_and_participant(study_run):
    _, session, _ = study_run
    info = json.loads((session / "session.json").read_text())
    assert info["participant"] == "P01"
    assert info["protocol_sha256"] == load_protocol(EXAMPLE).sha256
    assert sorted(info["block_order"]) == ["delayed", "mimic", "static"]
    assert info["protocol"]["name"] == "example" and info["protocol_complete"] is True
    starts = [e["block"] for e in _events(session) if e["type"] == "block_start"]
    assert starts == info["block_order"]


@pytest.mark.slow
def test_same_participant_and_protocol_again_is_refused_in_one_line(study_run, clip):
    log_dir, _, _ = study_run
    result = run_cli("--mode", "study", "--participant", "P01", "--source", str(clip), "--headless", "--log-dir", str(log_dir))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "P01" in lines[0] and "--allow-repeat" in lines[0]
    assert len([p for p in log_dir.iterdir() if p.is_dir()]) == 1


@pytest.mark.slow
def test_missing_participant_is_a_one_line_error():
    result = run_cli("--mode", "study", "--headless", "--source", str(FIXTURES / "no_face.mp4"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "--participant" in result.stderr


@pytest.mark.slow
def test_report_command_rebuilds_the_report(study_run):
    from avatar.report import command_report

    _, session, _ = study_run
    (session / "report.html").unlink()
    assert command_report([str(session)]) == 0
    assert "mimic" in (session / "report.html").read_text()


@pytest.mark.slow
def test_sigterm_mid_session_ends_with_aborted_and_whole_files(clip, tmp_path):
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "--mode", "study", "--participant", "P02", "--source", str(clip),
         "--realtime", "--headless", "--log-dir", str(tmp_path)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    session = only_session(tmp_path)
    events = _events(session)  # every line parses
    assert [e["type"] for e in events][-2:] == ["aborted", "session_end"]
    assert events[-1]["status"] == "aborted" and events[-2]["reason"] == "SIGTERM"
    assert any(e["type"] == "block_end" and e["completed"] is False for e in events)
    data = (session / "frames.csv").read_bytes()
    assert data.endswith(b"\n")
    rows = read_frames(session)
    assert len(rows) > 10 and all(len(r) == len(rows[0]) and None not in r.values() for r in rows)


@pytest.mark.slow
def test_study_without_a_log_dir_is_refused_before_it_starts(tmp_path):
    result = run_cli("--mode", "study", "--participant", "P04", "--headless", "--source", str(FIXTURES / "no_face.mp4"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "--log-dir" in result.stderr


def _recorded(folder: Path, participant: str, protocol: str) -> None:
    folder.mkdir(parents=True)
    (folder / "session.json").write_text(json.dumps({"participant": participant, "protocol": {"name": protocol}}))


@pytest.mark.slow
def test_the_repeat_rule_reads_the_records_not_folder_names(tmp_path):
    from avatar.errors import ConfigError
    from avatar.modes.study import DEFAULT_PROTOCOL, check_not_repeated
    from avatar.protocol import load_protocol

    protocol = load_protocol(DEFAULT_PROTOCOL)  # named "example"
    _recorded(tmp_path / "P03_example_v2_20260101", "P03", "example_v2")  # a name that starts the same
    _recorded(tmp_path / ("P" + "9" * 58 + "_cut"), "P" + "9" * 39, "example")  # a long id, its folder name cut
    check_not_repeated(tmp_path, "P03", protocol)
    with pytest.raises(ConfigError, match="already has a session"):
        check_not_repeated(tmp_path, "P" + "9" * 39, protocol)


@pytest.mark.slow
def test_two_runs_for_one_participant_at_once_cannot_both_start(clip, tmp_path):
    from avatar.modes.study import DEFAULT_PROTOCOL, lock_participant
    from avatar.protocol import load_protocol

    held = lock_participant(tmp_path, "P05", load_protocol(DEFAULT_PROTOCOL))  # the first run, still going
    try:
        result = run_cli("--mode", "study", "--participant", "P05", "--source", str(clip), "--headless", "--log-dir", str(tmp_path))
    finally:
        os.close(held)
    assert result.returncode != 0 and "is running" in result.stderr and result.stderr.strip().count("\n") == 0
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]


@pytest.mark.slow
def test_the_report_shows_the_session_as_its_final_record_says(study_run):
    _, session, result = study_run
    info = json.loads((session / "session.json").read_text())
    report = (session / "report.html").read_text()
    assert info["end"] and html.escape(info["end"]) in report and "finished" in report
    assert f"session data: {session}" in result.stderr


# --- questionnaires in a window (issue 21) ------------------------------------------------------------------------

TWO_BLOCKS_TWO_ITEMS = """
[protocol]
name = "rated"
break_s = 0
instruction_s = 0
end_s = 1  # the thank-you screen closes by itself: nobody presses Enter in these runs

[[block]]
name = "one"
duration_s = 2
condition = "mimic"

[[block]]
name = "two"
duration_s = 2
condition = "static"

[[questionnaire]]
id = "rate"
after = "each_block"

[[questionnaire.item]]
id = "likeable"
text = "How likeable was the face?"
kind = "likert"
points = 7
low = "not at all likeable"
high = "very likeable"

[[questionnaire.item]]
id = "warm"
text = "How warm did the face seem?"
kind = "likert"
points = 7
low = "very cold"
high = "very warm"
"""

# A participant at the window: reads each item as it comes up (its item_onset in events.jsonl), then gives the
# next of ACTIONS a moment later (k6: the key 6; m6: a click on the 7-point scale's 6; t6: a touch on it); at
# the STOP_AT-th item (if any) the run gets a SIGTERM instead.
PARTICIPANT_SCRIPT = r'''
import os, signal, sys, threading, time
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"
from avatar.isolation import isolate_unless_networked

isolate_unless_networked([])  # first, as python -m avatar does
log_dir, actions, stop_at, cli_args = Path(sys.argv[1]), sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4:]


def items_shown() -> int:
    sessions = [p for p in log_dir.iterdir() if p.is_dir()] if log_dir.is_dir() else []
    try:  # the session's folder is made a moment before its files
        return (sessions[0] / "events.jsonl").read_text().count('"type": "item_onset"') if sessions else 0
    except FileNotFoundError:
        return 0


def event_for(action: str):
    import pygame

    from avatar.modes.screens import item_layout
    from avatar.questionnaire import Item, ItemKind

    how, value = action[0], action[1:]
    if how == "k":
        return pygame.event.Event(pygame.KEYDOWN, key=ord(value), unicode=value, mod=0, scancode=0)
    size = pygame.display.get_surface().get_size()
    scale = Item(id="x", text="x", kind=ItemKind.LIKERT, low="a", high="b")
    x, y, w, h = next(b.rect for b in item_layout(scale, size).buttons if b.value == value)
    if how == "m":
        return pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x + w // 2, y + h // 2), button=1)
    return pygame.event.Event(pygame.FINGERDOWN, x=(x + w / 2) / size[0], y=(y + h / 2) / size[1], touch_id=1, finger_id=0)


def participant() -> None:
    import pygame

    answered = 0
    while True:
        time.sleep(0.05)
        shown = items_shown()
        if shown == stop_at:
            os.kill(os.getpid(), signal.SIGTERM)
            return
        if shown > answered and answered < len(actions):
            time.sleep(0.3)
            pygame.event.post(event_for(actions[answered]))
            answered += 1


def guarded() -> None:
    try:
        participant()
    except BaseException:
        os.kill(os.getpid(), signal.SIGTERM)  # a broken participant must not leave the run waiting for answers
        raise


threading.Thread(target=guarded, daemon=True).start()
from avatar.cli import exit_process, main  # noqa: E402

exit_process(main(cli_args))
'''


def _rated_run(tmp_path, clip, actions: str, stop_at: int = -1) -> tuple[subprocess.CompletedProcess, Path]:
    protocol = tmp_path / "rated.toml"
    protocol.write_text(TWO_BLOCKS_TWO_ITEMS)
    script = tmp_path / "participant.py"
    script.write_text(PARTICIPANT_SCRIPT)
    log_dir = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, str(script), str(log_dir), actions, str(stop_at), "--mode", "study", "--participant", "P11",
         "--protocol", str(protocol), "--source", str(clip), "--log-dir", str(log_dir)],
        cwd=ROOT, env={**os.environ, "SDL_VIDEODRIVER": "dummy"}, capture_output=True, text=True, timeout=120)
    return result, only_session(log_dir)


def _ratings(session: Path) -> list[dict]:
    import csv

    with open(session / "ratings.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_two_blocks_each_followed_by_two_7_point_items_answered_with_number_keys_in_a_window(clip, tmp_path):
    result, session = _rated_run(tmp_path, clip, "k6,k2,k3,k7")
    assert result.returncode == 0, result.stderr
    rows = _ratings(session)
    assert [(r["block"], r["condition"], r["position"], r["item"], r["answer"]) for r in rows] == [
        ("one", "mimic", "1", "likeable", "6"), ("one", "mimic", "1", "warm", "2"),
        ("two", "static", "2", "likeable", "3"), ("two", "static", "2", "warm", "7")]
    assert all(r["participant"] == "P11" and r["input"] == "key" and r["kind"] == "likert" for r in rows)
    assert all(250 < float(r["rt_ms"]) < 10_000 for r in rows)  # the participant read each for 0.3 s
    times = [float(r["t"]) for r in rows]
    assert times == sorted(times) and times[0] >= 2.0  # after the first block
    assert (session / "ratings.csv").stat().st_mode & 0o777 == 0o600
    events = _events(session)
    answers = [e for e in events if e["type"] == "item_answer"]
    assert [(e["block"], e["item"], e["answer"]) for e in answers] == [(r["block"], r["item"], r["answer"]) for r in rows]
    assert [e["type"] for e in events].count("item_onset") == 4
    ends = [e for e in events if e["type"] == "questionnaire_end"]
    assert [(e["block"], e["answered"], e["completed"]) for e in ends] == [("one", 2, True), ("two", 2, True)]
    frames = read_frames(session)
    assert {r["phase"] for r in frames} >= {"block", "questionnaire"}  # the face is recorded while answering
    assert all(r["block"] == "" for r in frames if r["phase"] == "questionnaire")
    info = json.loads((session / "session.json").read_text())
    assert info["status"] == "finished" and info["answers"] == 4 and info["protocol_complete"] is True
    report = (session / "report.html").read_text()
    assert "Questionnaire answers by condition" in report and "<th>mimic</th><th>static</th>" in report
    assert "<td>likeable</td><td>How likeable was the face?</td><td>likert</td><td>6.00 (n = 1)</td><td>3.00 (n = 1)</td>" in report
    assert "<td>warm</td><td>How warm did the face seem?</td><td>likert</td><td>2.00 (n = 1)</td><td>7.00 (n = 1)</td>" in report
    assert (session / "ratings.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_sigterm_during_the_second_questionnaire_keeps_the_first_two_answers(clip, tmp_path):
    result, session = _rated_run(tmp_path, clip, "k4,k5", stop_at=3)
    assert result.returncode == 0, result.stderr
    rows = _ratings(session)
    assert [(r["block"], r["condition"], r["item"], r["answer"]) for r in rows] == [
        ("one", "mimic", "likeable", "4"), ("one", "mimic", "warm", "5")]
    assert (session / "ratings.csv").read_bytes().endswith(b"\n")
    events = _events(session)
    assert [e["type"] for e in events][-2:] == ["aborted", "session_end"] and events[-2]["reason"] == "SIGTERM"
    second = [e for e in events if e["type"] == "questionnaire_end"][-1]
    assert (second["block"], second["answered"], second["completed"]) == ("two", 0, False)
    from avatar.report import build_report

    report = build_report(session).read_text()  # an aborted session's report, built afterwards, has its answers
    assert "<td>likeable</td><td>How likeable was the face?</td><td>likert</td><td>4.00 (n = 1)</td>" in report


@pytest.mark.slow
def test_a_click_and_a_touch_on_an_answer_answer_it(clip, tmp_path):
    result, session = _rated_run(tmp_path, clip, "m6,t2,k3,t7")
    assert result.returncode == 0, result.stderr
    rows = _ratings(session)
    assert [(r["block"], r["item"], r["answer"], r["input"]) for r in rows] == [
        ("one", "likeable", "6", "mouse"), ("one", "warm", "2", "touch"),
        ("two", "likeable", "3", "key"), ("two", "warm", "7", "touch")]


def _free_xvfb():
    """An Xvfb server on a display of its choosing, or a skip when Xvfb or xdotool is missing."""
    import shutil

    if not all(shutil.which(tool) for tool in ("Xvfb", "xdotool", "xwininfo")):
        pytest.skip("Xvfb, xdotool and xwininfo are needed to press keys in a real X window")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as handle:
        number = handle.readline().strip()
    if not number:
        server.kill()
        pytest.skip("Xvfb did not start")
    return server, f":{number}"


@pytest.mark.slow
def test_number_keys_pressed_with_xdotool_under_xvfb_answer_the_items(clip, tmp_path):
    server, display = _free_xvfb()
    protocol = tmp_path / "rated.toml"
    protocol.write_text(TWO_BLOCKS_TWO_ITEMS)
    log_dir = tmp_path / "data"
    env = {key: value for key, value in os.environ.items() if key != "SDL_VIDEODRIVER"}
    env["DISPLAY"] = display
    try:
        run = subprocess.Popen([sys.executable, "-m", "avatar", "--mode", "study", "--participant", "P12", "--protocol",
                                str(protocol), "--source", str(clip), "--log-dir", str(log_dir)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pressed, deadline = 0, time.monotonic() + 90
        while run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
            sessions = [p for p in log_dir.iterdir() if p.is_dir()] if log_dir.is_dir() else []
            shown = (sessions[0] / "events.jsonl").read_text().count('"type": "item_onset"') if sessions else 0
            if shown > pressed:
                time.sleep(0.3)
                tree = subprocess.run(["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True).stdout
                window = next(line.split()[0] for line in tree.splitlines() if '"Mirror avatar"' in line)
                subprocess.run(["xdotool", "key", "--window", window, "5173"[pressed]], env=env, check=True)
                pressed += 1
        _, stderr = run.communicate(timeout=30)
    finally:
        server.kill()
        server.wait()
    assert run.returncode == 0, stderr
    rows = _ratings(only_session(log_dir))
    assert [(r["block"], r["condition"], r["item"], r["answer"]) for r in rows] == [
        ("one", "mimic", "likeable", "5"), ("one", "mimic", "warm", "1"),
        ("two", "static", "likeable", "7"), ("two", "static", "warm", "3")]


# --- the thank-you screen, the operator view and the marker's confirmation (issue 19) ---------------------------

SHORT = """
[protocol]
name = "short"
break_s = 1
instruction_s = 0

[[block]]
name = "one"
duration_s = 1
condition = "mimic"

[[block]]
name = "two"
duration_s = 1
condition = "static"
"""


def _driven(text: str = SHORT, windowed: bool = True, until_s: float = 10.0, operator_clock=None):
    """A study mode driven through its hooks at 10 fps, until it ends the run (or until_s)."""
    from harness import ModeRecorder, outcome_at

    from avatar.modes.operator import OperatorView
    from avatar.modes.study import StudyMode
    from avatar.protocol import parse_protocol_text

    mode = StudyMode(parse_protocol_text(text), "P01")
    if operator_clock is not None:
        mode.operator = OperatorView(clock=operator_clock)
    context = ModeRecorder(windowed=windowed)
    t, rows = 0.0, []
    while t <= until_s and mode.before_frame(context, outcome_at(t).frame):
        rows.append(mode.after_frame(context, outcome_at(t)))
        t = round(t + 0.1, 3)
    return mode, context, rows


def test_the_thank_you_screen_follows_a_whole_protocol_in_a_window_and_its_start_is_logged_before_the_end():
    from avatar.events import SessionStatus

    mode, context, rows = _driven()
    assert rows[-1].mode_frame.phase == "done"
    mode.on_end(context, SessionStatus.FINISHED, "protocol complete")
    assert mode.last_screen_s(context, SessionStatus.FINISHED) == float("inf")  # until Enter or Esc
    thanks = [e for e in context.events if e[0] == "thanks_start"]
    assert thanks == [("thanks_start", rows[-1].frame.t_s, {"next_block": "", "position": 2, "duration_s": 0.0})]
    assert mode.last_screen_s(context, SessionStatus.ABORTED) is None


def test_the_protocol_sets_the_thank_you_text_and_time():
    from avatar.events import SessionStatus

    text = SHORT.replace('name = "short"', 'name = "short"\nend_s = 2.5\nend_text = """Merci !\nVous pouvez partir."""')
    mode, context, _ = _driven(text)
    assert mode.last_screen_s(context, SessionStatus.FINISHED) == 2.5
    from avatar.modes import study

    shown = []
    study.draw_message_screen, real = (lambda _s, _p, title, body, footer: shown.append((title, body, footer))), study.draw_message_screen
    try:
        mode.draw_last_screen(context, None, 1.2)
    finally:
        study.draw_message_screen = real
    assert shown == [("Merci !", "Vous pouvez partir.", "Experimenter: press Enter or Esc to close (closes by itself in 2 s)")]


def test_no_thank_you_screen_headless_or_when_the_protocol_was_cut_short():
    from avatar.events import SessionStatus

    mode, context, _ = _driven(windowed=False)
    mode.on_end(context, SessionStatus.FINISHED, "protocol complete")
    assert mode.last_screen_s(context, SessionStatus.FINISHED) is None
    assert "thanks_start" not in context.types()
    mode, context, _ = _driven(until_s=1.5)  # the run ended in the break
    mode.on_end(context, SessionStatus.FINISHED, "end of source")
    assert mode.last_screen_s(context, SessionStatus.FINISHED) is None
    assert "thanks_start" not in context.types() and "protocol_incomplete" in context.types()


def test_m_logs_a_marker_and_the_operator_view_confirms_it_for_a_moment():
    import pygame

    from avatar.mode import KeyPress

    now = [100.0]
    mode, context, _ = _driven(until_s=0.5, operator_clock=lambda: now[0])
    for _ in range(3):
        assert mode.on_key(context, KeyPress(pygame.K_m, "m"))
    assert [e for e in context.events if e[0] == "marker"][-1][2] == {"n": 3, "source": "key"}
    assert mode.operator.note() == "Marker 3 logged" and mode.operator.in_corner
    now[0] += 1.6
    assert mode.operator.note() == "" and not mode.operator.in_corner


def _surface(size=(960, 540)):
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    pygame.display.init()
    pygame.font.init()
    return pygame.Surface(size)


def test_the_corner_view_is_hidden_until_o_and_shows_block_condition_and_time_left():
    import pygame

    from avatar.mode import KeyPress

    mode, context, rows = _driven(until_s=0.5)
    block_row = rows[-1]
    assert block_row.mode_frame.phase == "block"
    surface = _surface()
    assert mode.draw(context, surface, block_row, block_row.controls) is False  # the plain avatar, nothing else
    assert mode.on_key(context, KeyPress(pygame.K_o, "o"))
    surface.fill((255, 255, 255))
    assert mode.draw(context, surface, block_row, block_row.controls) is True
    assert context.drawn[-1][1] is None  # the avatar itself, with no caption
    w, h = surface.get_size()
    assert surface.get_at((w // 20, h - h // 10))[:3] != (255, 255, 255)  # the panel, lower left
    assert surface.get_at((w - 5, 5))[:3] == (255, 255, 255)  # the rest is the avatar's
    from avatar.modes.operator import status_lines

    status = mode._operator_status(block_row.mode_frame, 1, None)
    lines = status_lines(status)
    assert "Block 1/2: one (mimic)" in lines and "Phase: block" in lines
    assert status.step_left_s == pytest.approx(0.5, abs=0.11)
    assert status.session_left_s == pytest.approx(0.5 + 1 + 1, abs=0.11)  # this block, the break, the last block
    assert mode.on_key(context, KeyPress(pygame.K_o, "o"))
    assert mode.draw(context, surface, block_row, block_row.controls) is False


def test_study_mode_is_fullscreen_unless_windowed_and_refuses_an_operator_display_it_cannot_use(tmp_path):
    from avatar.cli import build_run_parser, settings_from_args
    from avatar.errors import CliError
    from avatar.modes.registry import make_mode

    def made(*flags):
        args = build_run_parser().parse_args(["--mode", "study", "--participant", "P01", "--log-dir", str(tmp_path),
                                              "--allow-repeat", *flags])
        mode, settings = make_mode(args, settings_from_args(args))
        os.close(mode._lock)
        return settings

    _surface()
    assert made().fullscreen is True
    assert made("--windowed").fullscreen is False
    assert made("--headless").fullscreen is False
    with pytest.raises(CliError, match="--operator-display 0 is the participant's display"):
        made("--operator-display", "0")
    with pytest.raises(CliError, match="--operator-display 7: there is no such display"):
        made("--operator-display", "7")
    with pytest.raises(CliError, match="--operator-display needs a window"):
        made("--operator-display", "1", "--headless")


END_SCREEN_SCRIPT = r'''
import csv, json, os, sys, threading
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"
from avatar.isolation import isolate_unless_networked

isolate_unless_networked([])
import avatar.app as app

log_dir, shot, cli_args = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
real_hold = app.hold_last_screen


def hold(run, hold_s, stopped):
    """As the thank-you screen comes up: what is on disk now, then a look at the screen and Enter."""
    import pygame

    (session,) = [p for p in log_dir.iterdir() if p.is_dir()]
    events = [json.loads(line) for line in (session / "events.jsonl").read_text().splitlines()]
    frames = (session / "frames.csv").read_text()
    info = json.loads((session / "session.json").read_text())
    (log_dir / "at_end_screen.json").write_text(json.dumps({
        "hold_s": hold_s, "last_events": [e["type"] for e in events[-2:]], "status": info["status"],
        "end": info["end"], "frames_whole": frames.endswith("\n"), "rows": frames.count("\n") - 1,
        "last_phase": list(csv.DictReader(frames.splitlines()))[-1]["phase"]}))

    def look_then_enter():
        pygame.image.save(pygame.display.get_surface().copy(), str(shot))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r", mod=0, scancode=0))

    threading.Timer(1.0, look_then_enter).start()
    return real_hold(run, hold_s, stopped)


app.hold_last_screen = hold
from avatar.cli import exit_process, main  # noqa: E402

exit_process(main(cli_args))
'''


@pytest.mark.slow
def test_a_whole_run_in_a_window_has_its_files_complete_when_the_thank_you_screen_appears(clip, tmp_path):
    protocol = tmp_path / "short.toml"
    protocol.write_text(SHORT)
    script = tmp_path / "at_end.py"
    script.write_text(END_SCREEN_SCRIPT)
    log_dir, shot = tmp_path / "data", tmp_path / "thanks.png"
    result = subprocess.run(
        [sys.executable, str(script), str(log_dir), str(shot), "--mode", "study", "--participant", "P03",
         "--protocol", str(protocol), "--source", str(clip), "--log-dir", str(log_dir)],
        cwd=ROOT, env={**os.environ, "SDL_VIDEODRIVER": "dummy"}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads((log_dir / "at_end_screen.json").read_text())
    assert seen["hold_s"] == float("inf")
    assert seen["last_events"] == ["thanks_start", "session_end"] and seen["status"] == "finished" and seen["end"]
    assert seen["frames_whole"] and seen["last_phase"] == "done"
    session = only_session(log_dir)
    assert len(read_frames(session)) == seen["rows"]  # nothing was written after the screen came up
    assert _events(session)[-1]["type"] == "session_end"
    assert "the last screen stayed" in result.stderr and (session / "report.html").exists()
    import pygame

    picture = pygame.image.load(str(shot))
    w, h = picture.get_size()
    assert picture.get_at((5, 5))[:3] == (16, 20, 32)  # the calm message screen, not the avatar
    title_row = [picture.get_at((x, int(h * 0.25)))[:3] for x in range(w)]
    assert (255, 210, 90) in title_row  # the yellow title: "Thank you!"
