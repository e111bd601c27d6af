"""The avatar's face as VMC blendshapes and a Head rotation (avatar/vmc_mapping.py): pure, and in range."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar.empathy import Echo
from avatar.expression import Expression
from avatar.face_data import BLENDSHAPE_COUNT, NO_FACE, Blendshape, Face
from avatar.rig import Controls, IdleState, controls_from_echo
from avatar.vmc_mapping import (
    ALL_NAMES,
    PERFECT_SYNC,
    VRM0_PRESETS,
    Quaternion,
    blendshapes_from_controls,
    blendshapes_from_face,
    face_head_rotation,
    head_rotation,
)

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=32)
UNIT = st.floats(0.0, 1.0)
SIGNED = st.floats(-1.0, 1.0)
REST = IdleState(blink=0.0, breath=0.0, gaze_x=0.0, gaze_y=0.0)


def echo(smile=0.0, concern=0.0, wince=0.0) -> Echo:
    return Echo(smile=smile, wince=wince, familiarity=0.5, load=0.2, gain=0.5, delay_s=0.4, concern=concern)


controls_strategy = st.builds(Controls, **{name: ANY_FLOAT for name in vars(Controls())})
echo_strategy = st.builds(echo, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT)


def rotate(q: Quaternion, v: tuple[float, float, float]) -> tuple[float, float, float]:
    p = q * Quaternion(*v, 0.0) * Quaternion(-q.x, -q.y, -q.z, q.w)
    return (p.x, p.y, p.z)


def test_the_names_are_the_twelve_vrm0_presets_and_the_52_perfect_sync_names():
    assert VRM0_PRESETS == ("Joy", "Angry", "Sorrow", "Fun", "A", "I", "U", "E", "O", "Blink", "Blink_L", "Blink_R")
    assert len(PERFECT_SYNC) == 52 == len(set(PERFECT_SYNC))
    assert {"EyeBlinkLeft", "MouthSmileLeft", "JawOpen", "BrowInnerUp", "CheekPuff", "TongueOut"} <= set(PERFECT_SYNC)
    assert all(name[0].isupper() for name in PERFECT_SYNC)
    assert len(ALL_NAMES) == 64 == len(set(ALL_NAMES))


@settings(max_examples=300)
@given(controls_strategy, echo_strategy)
def test_every_value_is_between_0_and_1_whatever_the_controls_and_echo(controls, answer):
    values = blendshapes_from_controls(controls, answer)
    assert list(values) == list(ALL_NAMES)
    assert all(0.0 <= v <= 1.0 for v in values.values()), values


@settings(max_examples=200)
@given(st.lists(UNIT, min_size=2, max_size=6), UNIT, UNIT, st.floats(0.0, 1.0))
def test_joy_follows_the_echoed_smile_monotonically(smiles, concern, wince, blink):
    """Through the real rig: the more the echo smiles, the more Joy (never less), concern or not."""
    joys = []
    for smile in sorted(smiles):
        answer = echo(smile, concern, wince)
        idle = IdleState(blink=blink, breath=0.0, gaze_x=0.0, gaze_y=0.0)
        joys.append(blendshapes_from_controls(controls_from_echo(answer, idle), answer)["Joy"])
    assert all(b >= a - 1e-12 for a, b in zip(joys, joys[1:], strict=False)), joys


def test_a_smiling_echo_is_joy_and_a_concerned_one_is_sorrow_not_joy():
    smiling = echo(smile=0.8)
    values = blendshapes_from_controls(controls_from_echo(smiling, REST), smiling)
    assert values["Joy"] == 0.8 and values["Sorrow"] == 0.0
    assert values["MouthSmileLeft"] == values["MouthSmileRight"] > 0.5
    assert values["Angry"] == 0.0  # the avatar never answers with anger

    worried = echo(concern=0.7, wince=0.35)
    values = blendshapes_from_controls(controls_from_echo(worried, REST), worried)
    assert values["Joy"] == 0.0 and values["Sorrow"] == 0.7
    assert values["BrowInnerUp"] > 0.5 and values["MouthFrownLeft"] > 0.0 and values["MouthSmileLeft"] == 0.0


def test_an_idle_blink_closes_both_eyes_as_blink_not_as_the_one_sided_presets():
    closed = IdleState(blink=1.0, breath=0.0, gaze_x=0.0, gaze_y=0.0)
    values = blendshapes_from_controls(controls_from_echo(echo(), closed), echo())
    assert values["Blink"] == 1.0 and values["Blink_L"] == values["Blink_R"] == 0.0
    assert values["EyeBlinkLeft"] == values["EyeBlinkRight"] == 1.0
    # The squint of a smile narrows the eyes without counting as a blink.
    smiling = echo(smile=1.0)
    values = blendshapes_from_controls(controls_from_echo(smiling, REST), smiling)
    assert values["Blink"] == 0.0 and values["EyeSquintLeft"] > 0.0


def test_a_wink_of_the_avatars_own_left_eye_is_blink_l():
    values = blendshapes_from_controls(Controls(lid_left=1.0), echo())
    assert values["Blink_L"] == 1.0 and values["Blink_R"] == 0.0 and values["Blink"] == 0.0


def test_a_greeting_smile_that_a_mode_puts_on_the_mouth_is_joy_too():
    """Exhibit mode's greeting raises the corners without an echo: the receiver's avatar smiles as well."""
    values = blendshapes_from_controls(Controls(mouth_corner_left=0.6, mouth_corner_right=0.6), echo())
    assert values["Joy"] == 0.6


@settings(max_examples=300)
@given(ANY_FLOAT, ANY_FLOAT, ANY_FLOAT)
def test_the_head_rotation_is_always_a_unit_quaternion(yaw, pitch, roll):
    q = head_rotation(yaw, pitch, roll)
    assert math.isclose(math.hypot(q.x, q.y, q.z, q.w), 1.0, abs_tol=1e-9)


def test_the_head_turns_the_way_the_rig_says_in_unitys_axes():
    """The model faces +z with +x on its right and +y up (Unity, left-handed)."""
    nose = (0.0, 0.0, 1.0)
    to_own_left = rotate(head_rotation(30, 0, 0), nose)  # rig: + yaw turns toward its own left
    assert to_own_left[0] < -0.4 and math.isclose(to_own_left[1], 0.0, abs_tol=1e-9)
    up = rotate(head_rotation(0, 20, 0), nose)  # + pitch tilts up
    assert up[1] > 0.3
    right_ear = rotate(head_rotation(0, 0, 15), (1.0, 0.0, 0.0))  # + roll toward its right shoulder
    assert right_ear[1] < -0.2
    assert head_rotation(0, 0, 0) == Quaternion()


def _face(**scores) -> Face:
    shapes = np.zeros(BLENDSHAPE_COUNT, dtype=np.float32)
    for name, value in scores.items():
        shapes[Blendshape[name]] = value
    return Face(blendshapes=shapes, yaw_deg=20.0, pitch_deg=5.0, roll_deg=-4.0, center_x=0.5, center_y=0.5, width=0.3, height=0.4)


def test_send_face_passes_the_trackers_52_values_on_the_persons_own_side_or_mirrored():
    face = _face(eyeBlinkLeft=0.9, mouthSmileLeft=0.25, jawOpen=0.4)
    expression = Expression(present=True, smile=0.3, mouth_open=0.4, blink_left=0.9, sad=0.1)
    plain = blendshapes_from_face(face, expression, mirror=False)
    assert math.isclose(plain["EyeBlinkLeft"], 0.9, rel_tol=1e-6) and plain["EyeBlinkRight"] == 0.0
    assert math.isclose(plain["MouthSmileLeft"], 0.25, rel_tol=1e-6) and math.isclose(plain["JawOpen"], 0.4, rel_tol=1e-6)
    assert plain["Joy"] == 0.3 and plain["Sorrow"] == 0.1 and plain["TongueOut"] == 0.0
    assert math.isclose(plain["Blink_L"], 0.9) and plain["Blink_R"] == 0.0
    mirrored = blendshapes_from_face(face, expression, mirror=True)
    assert math.isclose(mirrored["EyeBlinkRight"], 0.9, rel_tol=1e-6) and mirrored["EyeBlinkLeft"] == 0.0
    assert math.isclose(mirrored["Blink_R"], 0.9) and mirrored["JawOpen"] == plain["JawOpen"]
    assert all(0.0 <= v <= 1.0 for v in mirrored.values()) and list(mirrored) == list(ALL_NAMES)


def test_send_face_turns_the_head_like_the_rig_mirror_or_not():
    face = _face()
    assert face_head_rotation(face, mirror=False) == head_rotation(20.0, 5.0, -4.0)
    assert face_head_rotation(face, mirror=True) == head_rotation(-20.0, 5.0, 4.0)
    assert face_head_rotation(NO_FACE, mirror=True) == Quaternion()


def test_the_mapping_imports_no_heavy_library_even_through_another_module():
    from test_architecture import EXTERNAL, HEAVY, _reachable

    reached = {"avatar.vmc_mapping"} | _reachable("avatar.vmc_mapping")
    assert {(m, lib) for m in reached for lib in EXTERNAL[m] & (HEAVY | {"pythonosc", "socket"})} == set()
