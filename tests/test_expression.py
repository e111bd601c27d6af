"""Expression channels: the smile trap, ranges, the personal baseline, smoothing and dropouts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ASTRONAUT, FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from avatar.expression import (
    BASELINE_CAP_VECTOR,
    POPULATION_BASELINE,
    UNIT_CHANNELS,
    Expression,
    ExpressionReader,
    NeutralBaseline,
    channels_from_blendshapes,
    channels_from_reading,
)
from avatar.face import BLENDSHAPE_COUNT, Face, FaceReading, FaceShape
from avatar.face import Blendshape as B

EXPRESSIONS = FIXTURES / "expressions"
any_vector = arrays(np.float64, BLENDSHAPE_COUNT, elements=st.floats(allow_nan=True, allow_infinity=True))
unit_vector = arrays(np.float64, BLENDSHAPE_COUNT, elements=st.floats(0.0, 1.0))


def shapes(**values: float) -> np.ndarray:
    b = np.zeros(BLENDSHAPE_COUNT, dtype=np.float32)
    for name, value in values.items():
        b[B[name]] = value
    return b


def both(name: str, value: float) -> dict[str, float]:
    return {f"{name}Left": value, f"{name}Right": value}


def face(b: np.ndarray, x: float = 0.5, y: float = 0.4, size: float = 0.3) -> Face:
    return Face(blendshapes=b, yaw_deg=0.0, pitch_deg=5.0, roll_deg=0.0, center_x=x, center_y=y, width=size, height=size)


def reading(b: np.ndarray, **kw) -> FaceReading:
    return FaceReading(faces=1, primary=face(b, **kw))


# Raw blendshapes measured on real photos (assets/media/astronaut.png, tests/.media/group.jpg).
ASTRONAUT_SMILE = shapes(**both("mouthSmile", 0.9), eyeSquintLeft=0.35, eyeSquintRight=0.27, **both("mouthUpperUp", 0.47), **both("browDown", 0.03))
LAUGH_WITH_BROWS = shapes(mouthSmileLeft=0.94, mouthSmileRight=0.91, browDownLeft=0.74, browDownRight=0.16, eyeSquintLeft=0.71,
                          eyeSquintRight=0.82, eyeBlinkLeft=0.7, eyeBlinkRight=0.35, **both("mouthUpperUp", 0.55))
ANGER = shapes(**both("browDown", 0.35), **both("eyeSquint", 0.5), **both("mouthFrown", 0.2))
PAIN = shapes(**both("browDown", 0.45), **both("eyeSquint", 0.6), **both("mouthUpperUp", 0.3), **both("eyeBlink", 0.4))
SURPRISE = shapes(browInnerUp=0.6, **both("browOuterUp", 0.6), **both("eyeWide", 0.25), jawOpen=0.4)
DISGUST = shapes(**both("browDown", 0.25), **both("noseSneer", 0.1), **both("mouthUpperUp", 0.45), **both("eyeSquint", 0.3))


def test_a_broad_smile_is_a_smile_and_not_a_wince():
    c = channels_from_blendshapes(ASTRONAUT_SMILE)
    assert c.smile >= 0.9
    assert c.wince <= 0.05
    assert c.duchenne >= 0.8


def test_a_laugh_with_lowered_brows_and_closed_eyes_is_not_a_wince():
    c = channels_from_blendshapes(LAUGH_WITH_BROWS)
    assert c.smile >= 0.6
    assert c.wince <= 0.25


def test_an_angry_frown_reads_as_wince():
    c = channels_from_blendshapes(ANGER)
    assert c.wince >= 0.35
    assert c.smile <= 0.2


def test_pain_reads_more_wince_than_anger():
    assert channels_from_blendshapes(PAIN).wince > channels_from_blendshapes(ANGER).wince >= 0.35


def test_surprise_is_not_a_wince():
    c = channels_from_blendshapes(SURPRISE)
    assert c.surprise >= 0.8
    assert c.wince <= 0.05
    assert c.mouth_open >= 0.5


def test_disgust_reads_more_wince_than_a_smile():
    assert channels_from_blendshapes(DISGUST).wince > channels_from_blendshapes(LAUGH_WITH_BROWS).wince
    assert channels_from_blendshapes(DISGUST).smile <= 0.2


def test_inner_brow_raise_alone_is_not_surprise():
    assert channels_from_blendshapes(shapes(browInnerUp=0.5, **both("eyeWide", 0.2))).surprise < 0.3


def test_blinks_are_per_eye_and_a_neutral_face_reads_near_zero():
    c = channels_from_blendshapes(shapes(eyeBlinkLeft=0.8, eyeBlinkRight=0.05))
    assert c.blink_left >= 0.9 and c.blink_right == 0.0
    rest = channels_from_blendshapes(POPULATION_BASELINE)
    assert all(vars(rest)[ch] <= 0.01 for ch in UNIT_CHANNELS)


@settings(max_examples=300, deadline=None)
@given(any_vector, unit_vector)
def test_channels_stay_in_range_for_any_blendshape_vector(b, baseline):
    c = channels_from_blendshapes(b, baseline)
    assert set(vars(c)) == set(UNIT_CHANNELS)
    assert all(0.0 <= v <= 1.0 for v in vars(c).values())


@settings(max_examples=200, deadline=None)
@given(unit_vector, st.floats(0.0, 1.0))
def test_more_lip_corner_pull_never_reads_less_smile(b, extra):
    more = b.copy()
    more[[B.mouthSmileLeft, B.mouthSmileRight]] = np.minimum(1.0, more[[B.mouthSmileLeft, B.mouthSmileRight]] + extra)
    assert channels_from_blendshapes(more).smile >= channels_from_blendshapes(b).smile - 1e-12


@settings(max_examples=200, deadline=None)
@given(unit_vector, st.floats(0.0, 1.0))
def test_smiling_more_never_raises_the_wince(b, extra):
    more = b.copy()
    more[[B.mouthSmileLeft, B.mouthSmileRight]] = np.minimum(1.0, more[[B.mouthSmileLeft, B.mouthSmileRight]] + extra)
    # only the smile changed: the wince may only fall
    assert channels_from_blendshapes(more).wince <= channels_from_blendshapes(b).wince + 1e-12


def test_the_callers_blendshapes_are_not_changed():
    b = ASTRONAUT_SMILE.copy()
    channels_from_blendshapes(b)
    np.testing.assert_array_equal(b, ASTRONAUT_SMILE)


def test_absent_reading_gives_an_absent_expression_with_empty_log_cells():
    x = channels_from_reading(FaceReading.empty())
    assert x == Expression.absent()
    values = x.log_values()
    assert len(values) == len(Expression.LOG_FIELDS)
    assert all(v is None for v in values[:-1])


def test_log_fields_and_values_line_up():
    x = channels_from_reading(reading(ASTRONAUT_SMILE))
    row = dict(zip(Expression.LOG_FIELDS, x.log_values(), strict=True))
    assert row["smile_duchenne"] == x.duchenne and row["face_size"] == pytest.approx(0.3)
    assert Expression.LOG_FIELDS[:2] == ("smile_duchenne", "surprise")
    assert {"smile", "wince", "faces"}.isdisjoint(Expression.LOG_FIELDS)  # the contract's columns are not repeated


# --- the personal baseline --------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(any_vector, st.booleans()), min_size=1, max_size=40))
def test_baseline_is_never_negative_and_never_above_its_cap(samples):
    baseline = NeutralBaseline()
    for i, (b, calm) in enumerate(samples):
        baseline.update(i * 0.1, b, calm=calm)
        v = baseline.value
        assert np.all(v >= 0.0) and np.all(v <= BASELINE_CAP_VECTOR + 1e-12)


def run(reader: ExpressionReader, b: np.ndarray, t0: float, t1: float, fps: float = 30.0, **kw) -> list[Expression]:
    return [reader.read(reading(b, **kw), t) for t in np.arange(t0, t1, 1.0 / fps)]


def test_baseline_makes_a_resting_frowner_comparable():
    """A person whose brows rest low reads a wince on a still, and near none after a few calm seconds."""
    resting = shapes(**both("browDown", 0.15), **both("eyeSquint", 0.2))
    assert channels_from_blendshapes(resting).wince > 0.15
    reader = ExpressionReader()
    out = run(reader, resting, 0.0, 10.0)
    assert out[-1].wince < 0.08


def test_baseline_does_not_eat_a_sustained_smile():
    reader = ExpressionReader()
    neutral = shapes(**both("mouthSmile", 0.05))
    run(reader, neutral, 0.0, 3.0)
    out = run(reader, shapes(**both("mouthSmile", 0.6), **both("eyeSquint", 0.3)), 3.0, 60.0)
    assert min(x.smile for x in out[30:]) >= 0.6


def test_a_person_who_never_stops_smiling_still_reads_a_smile():
    reader = ExpressionReader()
    out = run(reader, shapes(**both("mouthSmile", 0.45)), 0.0, 60.0)
    assert out[-1].smile >= 0.6


def test_baseline_resets_for_a_new_person_after_a_long_absence():
    reader = ExpressionReader()
    run(reader, shapes(**both("browDown", 0.2)), 0.0, 10.0)
    assert reader.baseline.value[B.browDownLeft] > 0.1
    assert reader.read(FaceReading.empty(), 10.1).present is False
    reader.read(reading(shapes()), 20.0)
    assert reader.new_person and reader.people == 2
    assert reader.baseline.samples <= 1
    assert reader.baseline.value[B.browDownLeft] == pytest.approx(POPULATION_BASELINE[B.browDownLeft], abs=0.01)


def test_a_jump_in_face_position_is_a_new_person():
    reader = ExpressionReader()
    run(reader, shapes(), 0.0, 2.0, x=0.2)
    reader.read(reading(shapes(), x=0.8), 2.05)
    assert reader.new_person and reader.people == 2


def test_calibration_takes_the_first_seconds_as_neutral():
    """Even a smile held during calibration is taken as neutral, up to the cap."""
    b = shapes(**both("mouthSmile", 0.2), **both("browDown", 0.2))
    plain, calibrated = ExpressionReader(), ExpressionReader(calibrate_s=2.0)
    run(plain, b, 0.0, 2.0)
    out = run(calibrated, b, 0.0, 2.0)
    assert calibrated.baseline.value[B.browDownLeft] > plain.baseline.value[B.browDownLeft]
    assert out[-1].wince < 0.1
    with pytest.raises(ValueError):
        ExpressionReader(calibrate_s=-1)


# --- smoothing and dropouts ---------------------------------------------------------------------


def test_channels_are_smoothed_on_the_source_clock():
    reader = ExpressionReader()
    run(reader, shapes(), 0.0, 1.0)
    step = reader.read(reading(ASTRONAUT_SMILE), 1.0 + 1 / 30)
    assert 0.0 < step.smile < channels_from_blendshapes(ASTRONAUT_SMILE).smile
    out = run(reader, ASTRONAUT_SMILE, 1.0 + 2 / 30, 1.5)
    assert out[-1].smile > 0.85  # within half a second


def test_a_short_dropout_holds_then_fades_and_stays_absent_in_the_log():
    reader = ExpressionReader()
    last = run(reader, ASTRONAUT_SMILE, 0.0, 2.0)[-1]
    t_last = 2.0 - 1 / 30
    held = reader.read(FaceReading.empty(), t_last + 0.2)
    assert not held.present and held.held == 1.0 and held.smile == pytest.approx(last.smile)
    assert all(v is None for v in held.log_values()[:-1])
    fading = reader.read(FaceReading.empty(), t_last + 0.55)
    assert 0.0 < fading.held < 1.0 and 0.0 < fading.smile < last.smile
    gone = reader.read(FaceReading.empty(), t_last + 1.0)
    assert gone == Expression.absent()
    # back within the new-person gap: the same person, the baseline kept
    reader.read(reading(ASTRONAUT_SMILE), t_last + 1.5)
    assert not reader.new_person and reader.people == 1


# --- real photos through the real model ----------------------------------------------------------


@pytest.fixture(scope="module")
def image_reader(model_file):
    from avatar.reading import still_reader

    with still_reader(model_file) as reader:
        yield reader


def test_the_astronaut_smile_reads_as_a_duchenne_smile_and_not_a_wince(image_reader):
    from avatar.reading import find_faces, read_still

    r = find_faces(image_reader, read_still(ASTRONAUT))
    assert r.faces == 1
    x = channels_from_reading(r)
    assert x.smile >= 0.6 and x.wince <= 0.25 and x.duchenne >= 0.6
    assert 0.3 < x.face_x < 0.6 and 0.15 < x.face_size < 0.3 and x.confidence > 0.9


@pytest.mark.parametrize(
    "name, check",
    [
        ("neutral.png", lambda x: x.smile <= 0.35 and x.wince <= 0.25),
        ("wince.png", lambda x: x.wince >= 0.5 and x.smile <= 0.2),
        ("anger.png", lambda x: x.wince >= 0.35 and x.smile <= 0.2),
        ("surprise.png", lambda x: x.surprise >= 0.6 and x.wince <= 0.25 and x.smile <= 0.2),
    ],
)
def test_warped_expressions_read_as_labelled(image_reader, name, check):
    from avatar.reading import find_faces, read_still

    x = channels_from_reading(find_faces(image_reader, read_still(EXPRESSIONS / name)))
    assert x.present and check(x), x


def test_a_warped_clip_with_a_dropout_holds_the_smile_and_keeps_the_person(model_file):
    """neutral 2 s -> smile 3 s -> no face 0.2 s -> smile 1 s, through the real model in VIDEO mode."""
    import cv2

    from avatar.face import FaceReader, FaceReaderOptions, RunningMode

    neutral = cv2.cvtColor(cv2.imread(str(EXPRESSIONS / "neutral.png")), cv2.COLOR_BGR2RGB)
    smile = cv2.cvtColor(cv2.imread(str(EXPRESSIONS / "photo.png")), cv2.COLOR_BGR2RGB)
    blank = np.full_like(neutral, 128)
    timeline = [(0.0, neutral), (2.0, smile), (5.0, blank), (5.2, smile), (6.2, None)]
    fps = 15.0
    reader = ExpressionReader()
    rows = []
    with FaceReader(FaceReaderOptions(running_mode=RunningMode.VIDEO), model=model_file) as faces:
        for (start, image), (end, _) in zip(timeline, timeline[1:], strict=False):
            for t in np.arange(start, end - 1e-9, 1 / fps):
                rows.append((t, reader.read(faces.read(image, t), t)))
    neutral_phase = [x.smile for t, x in rows if 1.0 <= t < 2.0]
    smile_phase = [x.smile for t, x in rows if 2.5 <= t < 5.0]
    dropout = [x for t, x in rows if 5.0 <= t < 5.2]
    assert max(neutral_phase) <= 0.35
    assert min(smile_phase) >= 0.6
    assert dropout and all(not x.present and x.held == 1.0 and x.smile >= 0.6 for x in dropout)
    assert reader.people == 1
    assert rows[-1][1].smile >= 0.6


# --- Issue 15: real emotion. Sadness and crying, distress, speech, implausible readings ---------

# A cry face as SCIENCE.md describes it: grief brows (AU1 without AU2), eyes squeezed shut over a
# closed mouth, the lips stretched wide (MediaPipe reads mouthSmile 0.7-0.9 for it), corners down.
CRY = shapes(**both("mouthSmile", 0.85), browInnerUp=0.45, **both("eyeBlink", 0.8), **both("eyeSquint", 0.8),
             **both("mouthFrown", 0.15), mouthShrugLower=0.3, **both("mouthStretch", 0.3))
FLAT_CORNERS = FaceShape(corner_lift=-0.03)
LIFTED_CORNERS = FaceShape(corner_lift=0.10)
geometry = st.one_of(st.none(), st.builds(FaceShape, corner_lift=st.floats(-0.3, 0.3)))


def test_a_cry_face_is_sad_and_not_a_smile():
    c = channels_from_blendshapes(CRY, shape=FLAT_CORNERS)
    assert c.smile <= 0.1 and c.sad >= 0.6 and c.distress >= 0.6
    # Without geometry (the blendshapes alone) the configuration still says so.
    c = channels_from_blendshapes(CRY)
    assert c.smile <= 0.3 and c.sad >= 0.5


def test_a_wide_pull_with_corners_below_the_lips_is_the_square_cry_mouth():
    pulled = shapes(**both("mouthSmile", 0.85))
    assert channels_from_blendshapes(pulled, shape=LIFTED_CORNERS).smile >= 0.9
    square = channels_from_blendshapes(pulled, shape=FaceShape(corner_lift=-0.05))
    assert square.smile <= 0.05 and square.sad >= 0.6


def test_a_laugh_with_closed_eyes_lowered_brows_and_a_hand_on_the_brow_stays_a_smile():
    # The halving by lowered brows is gone: a laugh lowers them, and so does a hand pressing the brow.
    c = channels_from_blendshapes(LAUGH_WITH_BROWS, shape=LIFTED_CORNERS)
    assert c.smile >= 0.9 and c.distress <= 0.15


def test_grief_brows_alone_read_sad_but_surprise_brows_do_not():
    assert channels_from_blendshapes(shapes(browInnerUp=0.5)).sad >= 0.4
    assert channels_from_blendshapes(SURPRISE).sad <= 0.15


@settings(max_examples=300, deadline=None)
@given(unit_vector, geometry)
def test_distress_is_never_below_wince_or_sad(b, shape):
    c = channels_from_blendshapes(b, shape=shape)
    assert c.distress >= c.wince and c.distress >= c.sad
    assert all(0.0 <= vars(c)[name] <= 1.0 for name in ("smile", "sad", "distress"))


@settings(max_examples=200, deadline=None)
@given(unit_vector, st.floats(0.0, 1.0), geometry)
def test_more_lip_pull_never_reads_less_smile_whatever_the_geometry(b, extra, shape):
    more = b.copy()
    more[B.mouthSmileLeft] = min(1.0, more[B.mouthSmileLeft] + extra)
    more[B.mouthSmileRight] = min(1.0, more[B.mouthSmileRight] + extra)
    assert channels_from_blendshapes(more, shape=shape).smile >= channels_from_blendshapes(b, shape=shape).smile - 1e-9


def _video_face(b: np.ndarray) -> FaceReading:
    return FaceReading(faces=1, primary=Face(blendshapes=b, yaw_deg=0.0, pitch_deg=0.0, roll_deg=0.0, center_x=0.5,
                                             center_y=0.4, width=0.3, height=0.3, shape=LIFTED_CORNERS))


def test_speech_is_not_read_as_smiles():
    """Syllables at 5 Hz flick the jaw and the lip pull; a held smile through speech stays."""
    reader = ExpressionReader()
    smiles, talking = [], []
    for i in range(90):  # 3 s at 30 fps
        t = i / 30
        phase = (i // 3) % 2  # the mouth opens and closes every 0.1 s
        b = shapes(jawOpen=0.05 + 0.3 * phase, **both("mouthSmile", 0.05 + 0.45 * phase))
        x = reader.read(_video_face(b), t)
        smiles.append(x.smile)
        talking.append(x.talking)
    assert max(talking[45:]) >= 0.8
    assert max(smiles[45:]) <= 0.3, "a syllable's lip pull is not a smile"

    reader = ExpressionReader()
    for i in range(90):
        phase = (i // 3) % 2
        x = reader.read(_video_face(shapes(jawOpen=0.05 + 0.3 * phase, **both("mouthSmile", 0.8))), i / 30)
    assert x.talking >= 0.8 and x.smile >= 0.8, "a smile held while talking stays a smile"


def test_a_reading_that_jumps_back_and_forth_lowers_confidence_and_holds():
    reader = ExpressionReader()
    calm = shapes()
    for i in range(30):
        x = reader.read(_video_face(calm), i / 30)
    assert x.confidence > 0.9 and x.smile < 0.05
    # A hand over the mouth: the lip pull flips between nothing and a broad smile frame by frame.
    for i in range(30, 45):
        b = shapes(**both("mouthSmile", 0.9)) if i % 2 else calm
        x = reader.read(_video_face(b), i / 30)
    assert x.confidence < 0.3
    assert x.smile < 0.3, "an implausible reading holds what was believed, it does not invent a smile"


# --- Real people (tests/.media, fetched by `make media`; labels ours, tests/fixtures/real_labels.csv) ---

REAL_SMILES = ("real/happy_open_mouth.jpg", "real/smile_teeth.jpg", "real/five_friends_smiling.jpg", "real/obama_smile.jpg",
               "real/obama_smile_cut_left.jpg", "group.jpg")


@pytest.mark.parametrize("name", REAL_SMILES)
def test_real_smiles_read_as_smiles_and_not_distress(image_reader, name):
    from conftest import real_media

    from avatar.reading import find_faces, read_still

    x = channels_from_reading(find_faces(image_reader, read_still(real_media(name))))
    assert x.smile >= 0.6 and x.distress <= 0.25, x


def test_every_smiling_face_of_a_real_group_reads_a_smile(image_reader):
    """The group photos read face by face, the small ones too (each is read again on its own crop)."""
    from conftest import real_media

    from avatar.expression import expression_from_face
    from avatar.reading import find_faces, read_still

    r = find_faces(image_reader, read_still(real_media("real/five_friends_smiling.jpg")))
    assert r.faces == 5
    faces = sorted([r.primary, *r.others], key=lambda f: f.center_x)
    smiles = [expression_from_face(f).smile for f in faces]
    # Four broad smiles and, in the middle, a boy with a faint closed-mouth smile (raw mouthSmile 0.41).
    assert min(smiles) >= 0.6, smiles
    assert max(expression_from_face(f).distress for f in faces) <= 0.25


@pytest.mark.parametrize(
    "name, check",
    [
        ("real/surprise.jpg", lambda x: x.smile <= 0.2 and x.surprise >= 0.5),
        ("real/anger_lowered_brows.jpg", lambda x: x.smile <= 0.2 and x.wince >= 0.35),
        ("real/disgust.jpg", lambda x: x.smile <= 0.2 and x.distress >= 0.25),
    ],
)
def test_real_surprise_anger_and_disgust_are_not_smiles(image_reader, name, check):
    from conftest import real_media

    from avatar.reading import find_faces, read_still

    x = channels_from_reading(find_faces(image_reader, read_still(real_media(name))))
    assert x.present and check(x), x


def test_a_real_landscape_has_no_face(image_reader):
    from conftest import real_media

    from avatar.reading import find_faces, read_still

    assert find_faces(image_reader, read_still(real_media("real/landscape.jpg"))).faces == 0
