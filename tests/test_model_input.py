"""The empathy model's input as frames.csv records it: logged precision, and the hold rebuilt from `held`."""

from __future__ import annotations

from avatar.expression import Expression
from avatar.logs import format_value
from avatar.model_input import ModelInputs, as_logged


def test_a_value_is_given_as_it_reads_back_from_the_log():
    for value in (0.1234567891, 1 / 3, 2.0000004, -0.0000001, 0.0):
        assert as_logged(value) == float(format_value(value) or 0)
        assert as_logged(as_logged(value)) == as_logged(value)  # reading the log back changes nothing more


def test_a_seen_face_gives_the_logged_channels_and_time():
    given = ModelInputs().take(1 / 3, Expression(present=True, smile=0.123456789, wince=0.2, sad=0.3, distress=0.3,
                                                 yaw_deg=12.3456789, roll_deg=-1.0000004, surprise=0.9), faces=2)
    assert given.t_s == 0.333333 and given.faces == 2
    e = given.expression
    assert (e.present, e.smile, e.yaw_deg, e.roll_deg) == (True, 0.123457, 12.345679, -1.0)
    assert e.surprise == 0.0  # the model does not read it, so it is not passed on


def test_a_held_face_is_the_last_logged_reading_times_the_logged_hold():
    inputs = ModelInputs()
    inputs.take(0.0, Expression(present=True, smile=0.61234567, wince=0.1, sad=0.05, distress=0.1), faces=1)
    held = inputs.take(0.1, Expression(present=False, held=0.876543, smile=0.5367, wince=0.08), faces=0).expression
    assert held.present is False and held.held == 0.8765
    assert held.smile == 0.612346 * 0.8765 and held.distress == 0.1 * 0.8765
    gone = inputs.take(1.0, Expression(present=False, held=0.0), faces=0).expression
    assert (gone.smile, gone.distress, gone.held) == (0.0, 0.0, 0.0)


def test_nothing_is_held_before_a_face_was_ever_seen():
    given = ModelInputs().take(0.0, Expression(present=False, held=1.0, smile=0.4), faces=0).expression
    assert given.smile == 0.0
