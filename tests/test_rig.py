"""The rig (stage 5): echo + idle life + head pose -> named controls, pure and always in range."""

import math
from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar.empathy import Echo
from avatar.rig import HEAD_LIMITS_DEG, NEUTRAL, Controls, HeadFollower, IdleLife, IdleState, controls_from_echo

REST = IdleState(blink=0.0, breath=0.0, gaze_x=0.0, gaze_y=0.0)
UNIT_0_1 = {"upper_lip", "lower_lip", "lip_press", "jaw_open", "lid_left", "lid_right", "cheek_left", "cheek_right"}
ANGLES = {"head_yaw_deg": HEAD_LIMITS_DEG[0], "head_pitch_deg": HEAD_LIMITS_DEG[1], "head_roll_deg": HEAD_LIMITS_DEG[2]}


def echo(smile=0.0, wince=0.0, concern=None, **kw):
    """An echo as the empathy model makes it: a wince is shown softened and answered with concern."""
    concern = wince if concern is None else concern
    return Echo(smile=smile, wince=0.5 * wince, concern=concern, familiarity=0.5, load=0.2, gain=1.0, delay_s=0.5, **kw)


def assert_in_range(c: Controls) -> None:
    for f in fields(c):
        v = getattr(c, f.name)
        assert not math.isnan(v), f.name
        if f.name in ANGLES:
            assert -ANGLES[f.name] <= v <= ANGLES[f.name], f.name
        elif f.name in UNIT_0_1:
            assert 0.0 <= v <= 1.0, f.name
        else:
            assert -1.0 <= v <= 1.0, f.name


def test_neutral_echo_gives_a_resting_face():
    c = controls_from_echo(echo(), REST)
    assert c == NEUTRAL


def test_smile_lifts_corners_raises_cheeks_and_narrows_eyes():
    c = controls_from_echo(echo(smile=0.8), REST)
    assert c.mouth_corner_left > 0.5 and c.mouth_corner_right > 0.5
    assert c.cheek_left > 0.5 and c.cheek_right > 0.5
    assert 0.1 < c.lid_left < 0.5 and c.lid_left == c.lid_right
    assert c.lip_press == 0.0


def test_full_smile_opens_the_mouth_but_half_smile_does_not():
    assert controls_from_echo(echo(smile=0.4), REST).jaw_open == 0.0
    assert controls_from_echo(echo(smile=1.0), REST).jaw_open > 0.2


def test_wince_is_answered_with_concern_not_copied():
    c = controls_from_echo(echo(wince=1.0), REST)
    assert c.brow_inner_left > 0.6 and c.brow_inner_right > 0.6
    assert c.brow_outer_left < 0.0
    assert c.lip_press > 0.5
    assert 0.05 < c.lid_left < 0.35  # a small squint, not a grimace
    assert c.mouth_corner_left <= 0.0
    assert c.jaw_open == 0.0


def test_concern_drives_the_brows_and_a_bare_wince_only_squints():
    c = controls_from_echo(echo(wince=1.0, concern=0.0), REST)
    assert c.brow_inner_left <= 0.0 and c.lid_left > 0.0
    c = controls_from_echo(echo(concern=1.0), REST)
    assert c.brow_inner_left > 0.8


def test_the_smile_head_tilt_is_mirrored_like_the_head_pose():
    c = controls_from_echo(echo(smile=0.5, smile_roll_deg=6.0), REST, head_roll_deg=2.0)
    assert c.head_roll_deg == pytest.approx(-8.0)
    c = controls_from_echo(echo(smile=0.5, smile_roll_deg=6.0, mirror=False), REST, head_roll_deg=2.0)
    assert c.head_roll_deg == pytest.approx(8.0)


def test_mirror_flips_yaw_and_roll_and_anatomical_does_not():
    m = controls_from_echo(echo(), REST, head_yaw_deg=20.0, head_pitch_deg=10.0, head_roll_deg=5.0)
    a = controls_from_echo(echo(), REST, head_yaw_deg=20.0, head_pitch_deg=10.0, head_roll_deg=5.0, mirror=False)
    assert (m.head_yaw_deg, m.head_pitch_deg, m.head_roll_deg) == (-20.0, 10.0, -5.0)
    assert (a.head_yaw_deg, a.head_pitch_deg, a.head_roll_deg) == (20.0, 10.0, 5.0)


def test_blink_closes_the_lids_and_idle_gaze_passes_through():
    c = controls_from_echo(echo(), IdleState(blink=1.0, breath=0.5, gaze_x=0.2, gaze_y=-0.1))
    assert c.lid_left == 1.0 and c.lid_right == 1.0
    assert (c.gaze_x, c.gaze_y, c.breath) == (0.2, -0.1, 0.5)


finite_or_wild = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=150, deadline=None)
@given(
    smile=finite_or_wild,
    wince=finite_or_wild,
    blink=finite_or_wild,
    gx=finite_or_wild,
    yaw=finite_or_wild,
    pitch=finite_or_wild,
    roll=finite_or_wild,
    mirror=st.booleans(),
)
def test_controls_stay_in_range_for_any_echo(smile, wince, blink, gx, yaw, pitch, roll, mirror):
    idle = IdleState(blink=blink, breath=gx, gaze_x=gx, gaze_y=-gx)
    c = controls_from_echo(echo(smile, wince), idle, yaw, pitch, roll, mirror=mirror)
    assert_in_range(c)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0, 1), b=st.floats(0, 1))
def test_more_smile_never_lowers_the_corners(a, b):
    lo, hi = sorted((a, b))
    assert (
        controls_from_echo(echo(smile=hi), REST).mouth_corner_left >= controls_from_echo(echo(smile=lo), REST).mouth_corner_left
    )


def test_lerp_reaches_both_ends():
    a, b = NEUTRAL, controls_from_echo(echo(smile=1.0), REST)
    assert a.lerp(b, 0.0) == a
    assert a.lerp(b, 1.0) == b
    assert a.lerp(b, 0.5).mouth_corner_left == pytest.approx(b.mouth_corner_left / 2)


def blink_onsets(idle: IdleLife, seconds: float, fps: float = 60.0) -> list[float]:
    onsets, was_closed = [], False
    for i in range(int(seconds * fps)):
        t = i / fps
        closed = idle.at(t).blink > 0.5
        if closed and not was_closed:
            onsets.append(t)
        was_closed = closed
    return onsets


def test_blinks_come_at_human_rates():
    onsets = blink_onsets(IdleLife(seed=3), 120.0)
    gaps = [b - a for a, b in zip(onsets, onsets[1:], strict=False)]
    mean_gap = sum(gaps) / len(gaps)
    assert 3.0 <= mean_gap <= 5.0
    assert max(gaps) < 6.0


def test_idle_life_is_seeded():
    assert blink_onsets(IdleLife(seed=1), 20.0) == blink_onsets(IdleLife(seed=1), 20.0)
    assert blink_onsets(IdleLife(seed=1), 20.0) != blink_onsets(IdleLife(seed=2), 20.0)


def test_idle_breathes_and_glances_a_little():
    idle = IdleLife(seed=0)
    states = [idle.at(i / 30) for i in range(30 * 20)]
    breaths = [s.breath for s in states]
    assert max(breaths) > 0.9 and min(breaths) < -0.9
    gazes = {(s.gaze_x, s.gaze_y) for s in states}
    assert len(gazes) >= 4
    assert all(abs(x) <= 0.3 and abs(y) <= 0.2 for x, y in gazes)


def test_idle_survives_time_going_backwards():
    idle = IdleLife(seed=0)
    for i in range(300):
        idle.at(i / 30)
    assert blink_onsets(idle, 12.0)  # restarted at t=0, still blinking


def test_head_follower_is_damped_on_source_time():
    f = HeadFollower(tau_s=0.25)
    f.update(0.0, 0.0, 0.0, 0.0)
    pose = f.update(0.25, 20.0, -10.0, 4.0)
    assert pose.yaw_deg == pytest.approx(20.0 * (1 - math.exp(-1)), rel=1e-6)
    assert pose.pitch_deg == pytest.approx(-10.0 * (1 - math.exp(-1)), rel=1e-6)
    for i in range(2, 40):
        pose = f.update(i * 0.25, 20.0, -10.0, 4.0)
    assert pose.yaw_deg == pytest.approx(20.0, abs=0.01)


def test_head_follower_clamps_and_returns_to_rest_without_a_face():
    f = HeadFollower()
    assert f.update(0.0, 90.0, 0.0, 0.0).yaw_deg == HEAD_LIMITS_DEG[0]
    pose = f.update(10.0, 0.0, 0.0, 0.0, present=False)
    assert abs(pose.yaw_deg) < 0.1
