"""Classroom mode: the whole view is recorded, and keys change the model at once and are logged."""

from __future__ import annotations

import cv2
import numpy as np
import pygame
import pytest
from conftest import FIXTURES, run_cli
from harness import ModeRecorder

from avatar.empathy import Condition, Mapping
from avatar.mode import KeyPress
from avatar.modes.classroom import ClassroomMode, Snapshot, caption_for


@pytest.mark.slow
def test_save_video_records_a_changing_classroom_view(tmp_path):
    video = tmp_path / "class.mp4"
    shot = tmp_path / "shot.png"
    result = run_cli("--mode", "classroom", "--source", str(FIXTURES / "smile_on_off.mp4"), "--headless", "--max-frames", "90",
                     "--save-video", str(video), "--screenshot", str(shot), "--screenshot-at", "2")
    assert result.returncode == 0, result.stderr
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image.astype(np.int16))
    assert len(frames) == 90
    assert frames[0].shape[:2] == (720, 1280)
    assert np.abs(frames[-1] - frames[0]).mean() > 1.0
    assert shot.is_file()


def test_keys_change_the_model_before_its_next_frame_and_log_a_control_event():
    mode, context = ClassroomMode(), ModeRecorder()
    assert mode.on_key(context, KeyPress(pygame.K_c))
    assert mode.on_key(context, KeyPress(pygame.K_m))
    assert mode.on_key(context, KeyPress(pygame.K_g))
    mode.on_key(context, KeyPress(pygame.K_RIGHT))
    mode.on_key(context, KeyPress(pygame.K_RIGHT))  # two presses before a frame: each builds on the last
    mode.on_key(context, KeyPress(pygame.K_3))
    assert context.model.settings.condition is Condition.MIMIC  # nothing changes under a frame being answered
    settings = context.apply().settings
    assert settings.condition is Condition.DELAYED and settings.mapping is Mapping.ANATOMICAL and settings.guard is False
    assert settings.load == pytest.approx(0.4) and settings.familiarity == pytest.approx(0.9)
    controls = [(e[2]["name"], e[2]["value"]) for e in context.events if e[0] == "control"]
    assert controls == [("condition", "delayed"), ("mapping", "anatomical"), ("guard", False), ("load", 0.3), ("load", 0.4),
                        ("familiarity", 0.9)]
    assert not mode.on_key(context, KeyPress(pygame.K_q))  # quitting stays the runner's


def test_captions_explain_in_plain_language():
    base = dict(t_s=1.0, faces=1, smile=0.1, wince=0.0, sad=0.0, distress=0.0, echo_smile=0.0, echo_concern=0.0, familiarity=0.5, load=0.2,
                gain=0.5, delay_s=0.6, lapse=False, p_lapse=0.0, lapses=0, condition="mimic", mapping="mirror", guard=True,
                familiarity_fixed=True, blendshapes=None, box=None, landmarks=None, history=np.zeros((0, 3)), caption="")
    assert caption_for(Snapshot(**{**base, "load": 0.8})).startswith("Load is high: the echo is weaker and slower")
    assert "never with a smile" in caption_for(Snapshot(**{**base, "smile": 0.8, "sad": 0.7, "distress": 0.7}))
    assert "No face" in caption_for(Snapshot(**{**base, "faces": 0}))
    assert "late" in caption_for(Snapshot(**{**base, "condition": "delayed", "delay_s": 4.0}))
    assert "Guard off" in caption_for(Snapshot(**{**base, "guard": False}), changed="guard")
