"""Exhibit mode: attract mode with nobody there, a greeting and a fresh stranger for each visitor."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from conftest import only_session, run_cli

from avatar.empathy import EmpathyModel
from avatar.modes.exhibit import ExhibitMode
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


@dataclass
class FakeSession:
    empathy: EmpathyModel = field(default_factory=EmpathyModel)
    events: list = field(default_factory=list)
    notices: list = field(default_factory=list)

    def _event(self, type_, t, **fields):
        self.events.append((type_, round(t, 3), fields))


def _feed(mode, session, faces_by_time, fps=10.0):
    for i, faces in enumerate(faces_by_time):
        outcome = SimpleNamespace(frame=SimpleNamespace(t_s=i / fps), faces=faces, controls=NEUTRAL)
        mode.after_frame(session, outcome)
    return outcome


def test_a_visitor_is_greeted_counted_and_starts_as_a_stranger():
    mode, session = ExhibitMode(), FakeSession()
    session.empathy.familiarity = 0.9
    _feed(mode, session, [0] * 15 + [1] * 50 + [0] * 80)
    types = [e[0] for e in session.events]
    assert types == ["attract_start", "attract_end", "visitor_start", "visitor_end", "attract_start"]
    assert session.empathy.familiarity < 0.5
    visit = session.events[3][2]
    assert visit["duration_s"] == pytest.approx(4.9, abs=0.11)
    assert mode._stats()["visitors"] == 1


def test_a_short_glance_away_does_not_end_the_visit():
    mode, session = ExhibitMode(), FakeSession()
    _feed(mode, session, [1] * 30 + [0] * 10 + [1] * 30)
    assert [e[0] for e in session.events] == ["visitor_start"]


def test_attract_mode_moves_the_face_and_shows_a_line():
    mode, session = ExhibitMode(attract_text="Come and play"), FakeSession()
    outcome = _feed(mode, session, [0] * 40)
    assert outcome.exhibit_caption == "Come and play"
    assert outcome.controls != NEUTRAL and outcome.controls.mouth_corner_left > 0.3
