"""The One Euro filter: on the source clock, never overshooting, adapting to speed."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar.filters import OneEuroFilter, OneEuroSettings

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
filter_settings = st.builds(
    OneEuroSettings,
    min_cutoff_hz=st.floats(0.01, 50.0),
    beta=st.floats(0.0, 100.0),
    d_cutoff_hz=st.floats(0.01, 50.0),
)


def test_first_sample_passes_through():
    assert OneEuroFilter()(0.7, 12.0) == 0.7


@settings(max_examples=200, deadline=None)
@given(filter_settings, finite, finite, st.floats(0.001, 0.2), st.integers(1, 200))
def test_step_input_never_overshoots(s, start, end, dt_s, steps):
    f = OneEuroFilter(s)
    f(start, 0.0)
    lo, hi = min(start, end), max(start, end)
    previous = start
    for i in range(1, steps + 1):
        y = f(end, i * dt_s)
        assert lo <= y <= hi
        # monotone approach: never moves away from the target
        assert abs(end - y) <= abs(end - previous) + 1e-9
        previous = y


@settings(max_examples=200, deadline=None)
@given(filter_settings, st.lists(st.tuples(finite, st.floats(0.0, 0.5)), min_size=1, max_size=60))
def test_output_stays_within_the_range_of_its_inputs(s, samples):
    f = OneEuroFilter(s)
    t, seen = 0.0, []
    for x, dt_s in samples:
        t += dt_s
        seen.append(x)
        y = f(x, t)
        assert min(seen) <= y <= max(seen)
        assert math.isfinite(y)


def test_repeated_or_backward_timestamps_leave_the_state_alone():
    f = OneEuroFilter()
    f(0.0, 1.0)
    y = f(1.0, 1.1)
    assert f(5.0, 1.1) == y
    assert f(5.0, 0.5) == y


def test_fast_moves_lag_less_than_slow_smoothing():
    """The cutoff rises with speed: a jump is followed faster with beta > 0."""
    slow, adaptive = OneEuroFilter(OneEuroSettings(1.0, 0.0)), OneEuroFilter(OneEuroSettings(1.0, 4.0))
    for f in (slow, adaptive):
        f(0.0, 0.0)
    for i in range(1, 4):
        a, b = slow(1.0, i / 30), adaptive(1.0, i / 30)
    assert b > a


def test_time_not_frames_sets_the_smoothing():
    """Same signal at 15 and 60 fps: after the same source time the outputs agree."""
    outs = []
    for fps in (15, 60):
        f = OneEuroFilter(OneEuroSettings(1.5, 0.0))
        f(0.0, 0.0)
        for i in range(1, fps + 1):
            y = f(1.0, i / fps)
        outs.append(y)
    assert outs[0] == pytest.approx(outs[1], abs=0.05)


def test_reset_forgets():
    f = OneEuroFilter()
    f(0.0, 0.0)
    f(1.0, 0.1)
    f.reset()
    assert f(0.3, 0.2) == 0.3


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        OneEuroFilter(OneEuroSettings(min_cutoff_hz=0.0))
