"""Study questionnaires through the mode's hooks: the phase, the screen, keys, clicks and touches, ratings.csv,
the events, the end of a run in the middle of one, and headless runs (skipped)."""

from __future__ import annotations

import pygame
import pytest
from harness import ModeRecorder, outcome_at

from avatar.events import SessionStatus
from avatar.mode import KeyPress, PointerPress
from avatar.modes.screens import item_layout
from avatar.modes.study import StudyFrame, StudyMode
from avatar.protocol import parse_protocol_text
from avatar.ratings import read_ratings

PROTOCOL = """
[protocol]
name = "q"
break_s = 0
instruction_s = 0

[[block]]
name = "one"
duration_s = 1
condition = "mimic"

[[block]]
name = "two"
duration_s = 1
condition = "static"

[[questionnaire]]
id = "rate"

[[questionnaire.item]]
id = "likeable"
text = "How likeable was the face?"
kind = "likert"
low = "not at all"
high = "very"

[[questionnaire.item]]
id = "enjoyed"
text = "How much did you enjoy it?"
kind = "vas"
low = "not at all"
high = "very much"
"""
SIZE = (1280, 800)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def study(tmp_path):
    mode = StudyMode(parse_protocol_text(PROTOCOL, "q.toml"), "P07")
    clock = mode.questions.clock = Clock()
    context = ModeRecorder(windowed=True)
    context.log_folder = tmp_path
    mode.on_start(context)
    return mode, context, clock, pygame.Surface(SIZE)


def _frame(mode, context, t: float) -> StudyFrame:
    assert mode.before_frame(context, outcome_at(t).frame)
    return mode.after_frame(context, outcome_at(t)).mode_frame


def _draw(mode, context, surface, t: float) -> bool:
    return mode.draw(context, surface, mode.after_frame(context, outcome_at(t)), None)


def _events(context, kind: str) -> list[dict]:
    return [e[2] for e in context.events if e[0] == kind]


def test_a_questionnaire_follows_its_block_and_waits_for_its_answers_while_frames_go_on(study):
    mode, context, clock, surface = study
    assert _frame(mode, context, 0.0).phase == "block"
    frame = _frame(mode, context, 1.0)
    assert (frame.phase, frame.block, frame.condition) == ("questionnaire", "", "")
    assert _events(context, "questionnaire_start") == [{"questionnaire": "rate", "block": "one", "condition": "mimic", "items": 2}]
    for t in (5.0, 60.0, 600.0):  # it waits as long as it takes
        assert _frame(mode, context, t).phase == "questionnaire"
    assert _draw(mode, context, surface, 600.0)
    onset = _events(context, "item_onset")
    assert onset == [{"questionnaire": "rate", "item": "likeable", "order": 1, "block": "one", "condition": "mimic",
                      "kind": "likert", "item_sha256": mode.protocol.questionnaires[0].items[0].text_sha256}]


def test_keyed_answers_go_to_ratings_csv_and_the_events_with_their_response_times(study, tmp_path):
    mode, context, clock, surface = study
    _frame(mode, context, 0.0)
    _frame(mode, context, 1.0)
    _draw(mode, context, surface, 1.0)
    clock.now += 1.5
    mode.last_t = 2.5
    assert mode.on_key(context, KeyPress(pygame.K_6, "6"))
    clock.now += 0.1
    assert mode.on_key(context, KeyPress(pygame.K_2, "2"))  # a double press: taken, and ignored
    (row,) = read_ratings(tmp_path)
    assert (row.participant, row.block, row.condition, row.position, row.item, row.answer, row.device, row.t_s) == (
        "P07", "one", "mimic", 1, "likeable", "6", "key", 2.5)
    assert row.rt_ms == pytest.approx(1500.0)
    assert _events(context, "item_answer") == [{"questionnaire": "rate", "item": "likeable", "order": 1, "block": "one",
                                                "condition": "mimic", "answer": "6", "rt_ms": 1500.0, "input": "key"}]
    clock.now += 0.5  # the pause is over: the VAS comes up
    _draw(mode, context, surface, 3.0)
    assert [e["item"] for e in _events(context, "item_onset")] == ["likeable", "enjoyed"]
    x0, x1, y = item_layout(mode.protocol.questionnaires[0].items[1], SIZE).line
    clock.now += 2.0
    assert mode.on_pointer(context, PointerPress((x0 + 0.25 * (x1 - x0)) / SIZE[0], y / SIZE[1], "touch"))
    assert [(r.item, r.answer, r.device) for r in read_ratings(tmp_path)] == [("likeable", "6", "key"), ("enjoyed", "25", "touch")]
    assert _frame(mode, context, 4.0).phase == "questionnaire"  # the answer stays on screen through the pause
    clock.now += 0.5
    frame = _frame(mode, context, 4.1)
    assert (frame.phase, frame.block) == ("block", "two")
    assert _events(context, "questionnaire_end") == [{"questionnaire": "rate", "block": "one", "answered": 2, "items": 2,
                                                      "completed": True}]


def test_a_click_on_a_button_answers_and_a_click_beside_the_answers_does_nothing(study, tmp_path):
    mode, context, clock, surface = study
    _frame(mode, context, 0.0)
    _frame(mode, context, 1.0)
    _draw(mode, context, surface, 1.0)
    layout = item_layout(mode.protocol.questionnaires[0].items[0], SIZE)
    assert mode.on_pointer(context, PointerPress(0.01, 0.01))
    assert read_ratings(tmp_path) == ()
    x, y, w, h = layout.buttons[2].rect
    clock.now += 0.8
    mode.on_pointer(context, PointerPress((x + w / 2) / SIZE[0], (y + h / 2) / SIZE[1]))
    assert [(r.answer, r.device) for r in read_ratings(tmp_path)] == [("3", "mouse")]


def test_keys_before_the_item_is_shown_or_outside_a_questionnaire_are_not_answers(study, tmp_path):
    mode, context, clock, surface = study
    _frame(mode, context, 0.0)
    assert not mode.on_key(context, KeyPress(pygame.K_5, "5"))  # during a block: not the questionnaire's
    _frame(mode, context, 1.0)
    assert mode.on_key(context, KeyPress(pygame.K_5, "5"))  # up, but not drawn yet: nobody has seen it
    assert read_ratings(tmp_path) == ()
    assert not mode.on_key(context, KeyPress(pygame.K_ESCAPE, "\x1b"))  # the quit key still quits


def test_the_end_of_a_run_during_a_questionnaire_keeps_every_answer_given(study, tmp_path):
    mode, context, clock, surface = study
    _frame(mode, context, 0.0)
    _frame(mode, context, 1.0)
    _draw(mode, context, surface, 1.0)
    clock.now += 1.0
    mode.on_key(context, KeyPress(pygame.K_KP4, ""))  # the keypad's keys answer too
    info = mode.on_end(context, SessionStatus.ABORTED, "SIGTERM")
    assert info["answers"] == 1 and info["protocol_complete"] is False
    assert _events(context, "questionnaire_end") == [{"questionnaire": "rate", "block": "one", "answered": 1, "items": 2,
                                                      "completed": False}]
    assert [(r.item, r.answer) for r in read_ratings(tmp_path)] == [("likeable", "4")]


def test_headless_a_questionnaire_is_skipped_with_an_event(tmp_path):
    mode = StudyMode(parse_protocol_text(PROTOCOL, "q.toml"), "P07")
    context = ModeRecorder(windowed=False)
    context.log_folder = tmp_path
    mode.on_start(context)
    phases = [_frame(mode, context, t / 10).phase for t in range(0, 21)]
    assert "questionnaire" not in phases and phases[-1] == "done"
    assert _events(context, "questionnaire_skipped") == [
        {"questionnaire": "rate", "block": "one", "items": 2, "reason": "headless"},
        {"questionnaire": "rate", "block": "two", "items": 2, "reason": "headless"}]
    assert not _events(context, "questionnaire_start")
    mode.on_end(context, SessionStatus.FINISHED, "protocol complete")
    assert (tmp_path / "ratings.csv").read_text().startswith("participant,block,") and read_ratings(tmp_path) == ()
