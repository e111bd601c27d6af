"""The visitor's own face as the portrait (portrait:self) and blended into it (--self-similarity), on
real people: a real photo read by the real model for the unit tests, real footage for the whole run."""

import json

import cv2
import numpy as np
import pytest

from avatar.empathy import Echo
from avatar.errors import ConfigError
from avatar.expression import Expression
from avatar.face import FaceReader, FaceReaderOptions, RunningMode
from avatar.face_data import NO_FACE, FaceReading
from avatar.outcome import Frame, FrameOutcome
from avatar.portrait import PortraitModel
from avatar.portrait_face import read_portrait_face
from avatar.portrait_self import SelfPortrait, SelfPortraitSettings, portrait_spec_for, visitor_face
from avatar.rig import NEUTRAL
from tests.conftest import real_media, run_cli


class RecordingRenderer:
    """Only what SelfPortrait calls: the face it was told to show."""

    def __init__(self):
        self.faces = []

    def use_face(self, model):
        self.faces.append(model)


@pytest.fixture(scope="module")
def calm_visitor(model_file):
    """A real, calm, frontal face (tests/.media/real/biden_serious.jpg) as one camera frame and its reading."""
    bgr = cv2.imread(str(real_media("real/biden_serious.jpg")))
    options = FaceReaderOptions(running_mode=RunningMode.IMAGE, keep_landmarks=True)
    with FaceReader(options, model=model_file) as reader:
        reading = reader.read(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    assert reading.faces == 1 and reading.primary.landmarks is not None
    return bgr, reading


def outcome(t_s, bgr, reading, **expression):
    present = reading.faces > 0
    frame = Frame(index=int(t_s * 30), t_s=t_s, capture_wall=0.0, capture_perf=0.0, bgr=bgr)
    e = Expression(present=present, face_x=0.5, face_y=0.4, face_size=0.3 if present else 0.0, **expression)
    return FrameOutcome(frame, reading, e, Echo.neutral(), NEUTRAL)


def seconds(t0, t1, bgr, reading, **expression):
    return [outcome(t0 + i / 30, bgr, reading, **expression) for i in range(round((t1 - t0) * 30))]


@pytest.fixture(scope="module")
def bundled(model_file):
    from avatar.portrait_face import BUNDLED_PORTRAIT

    return read_portrait_face(BUNDLED_PORTRAIT, model_file, source="bundled")


def test_a_calm_visitor_becomes_the_portrait_and_is_let_go_when_they_leave(calm_visitor, bundled):
    bgr, reading = calm_visitor
    renderer, events = RecordingRenderer(), []
    portrait = SelfPortrait(renderer, bundled, SelfPortraitSettings(in_background=False), lambda t, e: events.append((t, e)))
    for o in seconds(0.0, 2.0, bgr, reading):
        portrait.offer(o)
    assert [e.action for _, e in events] == ["captured"] and abs(events[0][0] - 1.0) < 0.05
    (model,) = renderer.faces
    assert isinstance(model, PortraitModel) and model.face.source == "camera"
    nobody = FaceReading(faces=0, primary=NO_FACE)
    for o in seconds(2.0, 5.5, bgr, nobody):
        portrait.offer(o)
    assert [e.action for _, e in events] == ["captured", "forgotten"] and renderer.faces[-1] is None
    assert all(set(e.record()) == {"action", "similarity"} for _, e in events)  # never the face itself
    portrait.close()


def test_a_smiling_or_turned_visitor_is_not_taken(calm_visitor, bundled):
    bgr, reading = calm_visitor
    for expression in (dict(smile=0.8), dict(yaw_deg=30.0), dict(talking=0.7)):
        renderer = RecordingRenderer()
        portrait = SelfPortrait(renderer, bundled, SelfPortraitSettings(in_background=False), lambda t, e: None)
        for o in seconds(0.0, 2.0, bgr, reading, **expression):
            portrait.offer(o)
        assert renderer.faces == [], expression


def test_self_similarity_blends_the_visitor_into_the_portrait_on_a_worker_thread(calm_visitor, bundled):
    bgr, reading = calm_visitor
    renderer = RecordingRenderer()
    portrait = SelfPortrait(renderer, bundled, SelfPortraitSettings(similarity=0.4, in_background=True), lambda t, e: None)
    moments = seconds(0.0, 1.2, bgr, reading)
    for o in moments:
        portrait.offer(o)
    portrait._pending.result(timeout=60)  # the window goes on drawing meanwhile; the next frame swaps it in
    portrait.offer(outcome(1.25, bgr, reading))
    (model,) = renderer.faces
    # The bundled canvas (her hair, the flag), with a face between hers and the visitor's.
    assert model.face.image.shape == bundled.image.shape and "@0.40" in model.face.source
    assert not np.array_equal(model.face.image, bundled.image)
    portrait.close()
    assert renderer.faces[-1] is None


def test_the_visitor_is_cut_out_of_the_camera_frame_as_a_framed_portrait(calm_visitor):
    bgr, reading = calm_visitor
    face = visitor_face(outcome(0.0, bgr, reading))
    assert face is not None and face.image.shape[0] < bgr.shape[0] and face.source == "camera"
    from avatar.portrait_face import MAX_EYE_DISTANCE_PX

    assert 30 < face.frame.iod <= MAX_EYE_DISTANCE_PX + 0.5  # scaled like any portrait


def test_which_runs_show_a_visitors_face():
    assert portrait_spec_for(None, None) is None and portrait_spec_for("friendly", None) is None
    assert portrait_spec_for("portrait:self", None)[0] == "portrait"
    spec, settings = portrait_spec_for(None, 0.4)
    assert spec == "portrait" and settings.similarity == 0.4
    assert portrait_spec_for("portrait:me.jpg", 0.4)[0] == "portrait:me.jpg"
    for avatar in ("friendly", "portrait:self"):
        with pytest.raises(ConfigError, match="--self-similarity"):
            portrait_spec_for(avatar, 0.4)


@pytest.mark.slow
def test_portrait_self_on_real_footage_keeps_the_face_in_memory_only(tmp_path):
    """She cries with a hand at her mouth, calms down (about 6-9 s), then laughs: the calm second is taken."""
    video = tmp_path / "self.mp4"
    result = run_cli("--avatar", "portrait:self", "--headless", "--source", str(real_media("real/crying_then_laughing.mp4")),
                     "--save-video", str(video), "--log-dir", str(tmp_path / "logs"), "--seed", "1")
    assert result.returncode == 0, result.stderr
    (session,) = (tmp_path / "logs").iterdir()
    assert sorted(p.name for p in session.iterdir()) == ["events.jsonl", "frames.csv", "session.json"]
    events = [json.loads(line) for line in (session / "events.jsonl").read_text().splitlines()]
    taken = [e for e in events if e["type"] == "portrait_face"]
    assert [e["action"] for e in taken] == ["captured"] and 5.5 < taken[0]["t"] < 10.0
    assert json.loads((session / "session.json").read_text())["settings"]["avatar"] == "portrait:self"
    # Before the capture the video shows the bundled astronaut; after it, the visitor's own frame.
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    before, after = frames[int(3 * fps)], frames[int(12 * fps)]
    source = cv2.VideoCapture(str(real_media("real/crying_then_laughing.mp4")))
    source.set(cv2.CAP_PROP_POS_FRAMES, int(12 * fps))
    _, real = source.read()

    def colours(image):
        return cv2.resize(image, (8, 8), interpolation=cv2.INTER_AREA).astype(float)

    # The astronaut's orange suit and flag are far from the dark room of the footage; after the capture the
    # avatar is the visitor in her own room.
    assert np.abs(colours(after) - colours(real)).mean() < np.abs(colours(before) - colours(real)).mean() / 2


def test_self_similarity_is_refused_with_a_cartoon_in_one_line():
    result = run_cli("--avatar", "friendly", "--self-similarity", "0.4", "--headless", "--source", "demo")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "--self-similarity" in result.stderr
