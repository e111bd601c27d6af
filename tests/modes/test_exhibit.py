"""Exhibit mode: attract mode with nobody there, a greeting and a fresh stranger for each visitor."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from conftest import only_session, run_cli
from harness import ModeRecorder, outcome_at

from avatar.events import SessionStatus
from avatar.modes.exhibit import ExhibitFrame, ExhibitMode
from avatar.rig import NEUTRAL


def _gradient_clip(path, seconds: float = 4.0, fps: float = 30.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (320, 240))
    ramp = np.linspace(0, 255, 320, dtype=np.uint8)
    for i in range(int(seconds * fps)):
        image = np.empty((240, 320, 3), dtype=np.uint8)
        image[:] = ((ramp.astype(np.int32) + i) % 256).astype(np.uint8)[None, :, None]
        writer.write(image)
    writer.release()
    return path


@pytest.mark.slow
def test_no_face_video_enters_attract_mode_within_two_seconds(tmp_path):
    clip = _gradient_clip(tmp_path / "empty.mp4")
    result = run_cli("--mode", "exhibit", "--source", str(clip), "--headless", "--log-dir", str(tmp_path / "logs"))
    assert result.returncode == 0, result.stderr
    session = only_session(tmp_path / "logs")
    events = [json.loads(line) for line in (session / "events.jsonl").read_text().splitlines()]
    attract = [e for e in events if e["type"] == "attract_start"]
    assert attract and attract[0]["t"] <= 2.0
    assert not any(e["type"] == "visitor_start" for e in events)
    info = json.loads((session / "session.json").read_text())
    assert info["exhibit"]["visitors"] == 0
    assert sorted(p.name for p in session.iterdir()) == ["events.jsonl", "frames.csv", "session.json"]  # no images


# --- the state machine, without the model -------------------------------------------------------------


def _feed(mode, context, faces_by_time, fps=10.0):
    for i, faces in enumerate(faces_by_time):
        context.apply()
        outcome = mode.after_frame(context, outcome_at(i / fps, faces, index=i))
    return outcome


def test_a_visitor_is_greeted_counted_and_starts_as_a_stranger():
    mode, context = ExhibitMode(), ModeRecorder()
    context.model.familiarity = 0.9
    _feed(mode, context, [0] * 15 + [1] * 50 + [0] * 80)
    assert context.types() == ["attract_start", "attract_end", "visitor_start", "visitor_end", "attract_start"]
    assert context.model.familiarity < 0.5
    visit = context.events[3][2]
    assert visit["duration_s"] == pytest.approx(4.9, abs=0.11)
    assert mode.on_end(context, SessionStatus.FINISHED, "end of source")["exhibit"]["visitors"] == 1


def test_a_short_glance_away_does_not_end_the_visit():
    mode, context = ExhibitMode(), ModeRecorder()
    _feed(mode, context, [1] * 30 + [0] * 10 + [1] * 30)
    assert context.types() == ["visitor_start"]


def test_attract_mode_moves_the_face_and_shows_a_line():
    mode, context = ExhibitMode(attract_text="Come and play"), ModeRecorder()
    outcome = _feed(mode, context, [0] * 40)
    assert isinstance(outcome.mode_frame, ExhibitFrame) and outcome.mode_frame.caption == "Come and play"
    assert outcome.controls != NEUTRAL and outcome.controls.mouth_corner_left > 0.3
    assert mode.draw(context, None, outcome, outcome.controls)
    assert context.drawn[-1][1] == "Come and play"
