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

pytestmark = pytest.mark.slow
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


def test_session_json_has_protocol_hash_order_and_participant(study_run):
    _, session, _ = study_run
    info = json.loads((session / "session.json").read_text())
    assert info["participant"] == "P01"
    assert info["protocol_sha256"] == load_protocol(EXAMPLE).sha256
    assert sorted(info["block_order"]) == ["delayed", "mimic", "static"]
    assert info["protocol"]["name"] == "example" and info["protocol_complete"] is True
    starts = [e["block"] for e in _events(session) if e["type"] == "block_start"]
    assert starts == info["block_order"]


def test_same_participant_and_protocol_again_is_refused_in_one_line(study_run, clip):
    log_dir, _, _ = study_run
    result = run_cli("--mode", "study", "--participant", "P01", "--source", str(clip), "--headless", "--log-dir", str(log_dir))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "P01" in lines[0] and "--allow-repeat" in lines[0]
    assert len([p for p in log_dir.iterdir() if p.is_dir()]) == 1


def test_missing_participant_is_a_one_line_error():
    result = run_cli("--mode", "study", "--headless", "--source", str(FIXTURES / "no_face.mp4"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "--participant" in result.stderr


def test_report_command_rebuilds_the_report(study_run):
    from avatar.report import command_report

    _, session, _ = study_run
    (session / "report.html").unlink()
    assert command_report([str(session)]) == 0
    assert "mimic" in (session / "report.html").read_text()


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


def test_study_without_a_log_dir_is_refused_before_it_starts(tmp_path):
    result = run_cli("--mode", "study", "--participant", "P04", "--headless", "--source", str(FIXTURES / "no_face.mp4"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "--log-dir" in result.stderr


def _recorded(folder: Path, participant: str, protocol: str) -> None:
    folder.mkdir(parents=True)
    (folder / "session.json").write_text(json.dumps({"participant": participant, "protocol": {"name": protocol}}))


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


def test_the_report_shows_the_session_as_its_final_record_says(study_run):
    _, session, result = study_run
    info = json.loads((session / "session.json").read_text())
    report = (session / "report.html").read_text()
    assert info["end"] and html.escape(info["end"]) in report and "finished" in report
    assert f"session data: {session}" in result.stderr
