"""Questionnaires in protocol files: the schema and its one-line errors, when each is asked, the item order,
and one questionnaire being answered (the pause that keeps a double press from answering two items)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar.errors import ConfigError
from avatar.modes.study import Phase, schedule
from avatar.protocol import load_protocol, parse_protocol, parse_protocol_text
from avatar.questionnaire import NO, YES, Asking, ItemKind, When, answer_number, asked_after, item_order, vas_value

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = """
[protocol]
name = "q"

[[block]]
name = "a"
duration_s = 10
condition = "mimic"

[[block]]
name = "b"
duration_s = 10
condition = "static"
"""
LIKERT = """
[[questionnaire]]
id = "rate"
after = "each_block"

[[questionnaire.item]]
id = "likeable"
text = "How likeable was the face?"
kind = "likert"
points = 7
low = "not at all"
high = "very"
"""
GOOD = BLOCKS + LIKERT + """
[[questionnaire.item]]
id = "enjoyed"
text = "How much did you enjoy it?"
kind = "vas"
low = "not at all"
high = "very much"

[[questionnaire]]
id = "end"
after = "end"
shuffle = true

[[questionnaire.item]]
id = "detected"
text = "Did the face imitate you?"
kind = "yesno"
detection = true

[[questionnaire.item]]
id = "sure"
text = "How sure are you?"
kind = "choice"
options = ["guessing", "fairly sure", "certain"]
"""


def _error(text: str, path: str = "study.toml") -> str:
    with pytest.raises(ConfigError) as info:
        parse_protocol_text(text, path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(path + ":")
    return message


def _line_of(text: str, needle: str, nth: int = 1) -> int:
    lines = text.split("\n")
    hits = [i + 1 for i, line in enumerate(lines) if line.strip() == needle]
    return hits[nth - 1]


# --- the schema --------------------------------------------------------------------------------------------------

def test_a_protocol_with_questionnaires_parses_every_kind():
    p = parse_protocol_text(GOOD, "study.toml")
    rate, end = p.questionnaires
    assert (rate.id, rate.when, rate.shuffle) == ("rate", When.EACH_BLOCK, False)
    assert (end.when, end.shuffle) == (When.END, True)
    likeable, enjoyed = rate.items
    assert likeable.kind is ItemKind.LIKERT and likeable.points == 7 and likeable.choices == tuple("1234567")
    assert enjoyed.kind is ItemKind.VAS and enjoyed.choices == ()
    detected, sure = end.items
    assert detected.detection and detected.choices == (YES, NO)
    assert sure.choices == ("guessing", "fairly sure", "certain")
    assert len(likeable.text_sha256) == 12 and likeable.text_sha256 != enjoyed.text_sha256
    assert p.answer_pause_s == 0.5
    assert p.to_json()["questionnaires"][1]["after"] == "end"


def test_an_item_missing_its_text_is_refused_in_one_line_naming_file_and_line():
    text = GOOD.replace('text = "How much did you enjoy it?"\n', "")
    line = _line_of(text, "[[questionnaire.item]]", 2)
    assert _error(text) == f"study.toml:{line}: questionnaire[1].item[2].text: missing, every [[questionnaire.item]] needs it"


def test_a_file_missing_an_items_text_is_refused_with_its_name_and_line(tmp_path):
    path = tmp_path / "my study.toml"
    path.write_text(BLOCKS + LIKERT.replace('text = "How likeable was the face?"\n', ""))
    with pytest.raises(ConfigError) as info:
        load_protocol(path)
    line = _line_of(path.read_text(), "[[questionnaire.item]]")
    assert str(info.value) == f"{path}:{line}: questionnaire[1].item[1].text: missing, every [[questionnaire.item]] needs it"


@pytest.mark.parametrize("change, expected", [
    (('points = 7', 'points = 6'), "questionnaire[1].item[1].points = 6: must be 5 or 7"),
    (('low = "not at all"\nhigh = "very"\n', 'high = "very"\n'),
     "questionnaire[1].item[1].low: missing, a likert item labels both ends (low and high)"),
    (('kind = "likert"', 'kind = "likrt"'),
     'questionnaire[1].item[1].kind = "likrt": must be one of likert, vas, choice, yesno (did you mean likert?)'),
    (('kind = "likert"\npoints = 7', 'kind = "yesno"\npoints = 7'),
     "questionnaire[1].item[1].points = 7: only a likert item has points (this one is yesno)"),
    (('after = "each_block"', 'after = ["a", "c"]'),
     'questionnaire[1].after = ["a", "c"]: "c" is not a block of this protocol; must be "each_block", "end", '
     "a block's name or a list of block names (known: each_block, end, a, b)"),
    (('after = "each_block"', 'after = "each_blok"'),
     'questionnaire[1].after = "each_blok": "each_blok" is not a block of this protocol; must be "each_block", "end", '
     "a block's name or a list of block names (did you mean each_block?)"),
    (('id = "rate"', 'idd = "rate"'), "questionnaire[1].idd: unknown key (did you mean id?)"),
    (('id = "likeable"', 'id = "like able"'),
     'questionnaire[1].item[1].id = "like able": must be letters, digits, \'-\', \'_\' or \'.\', starting with a letter or digit'),
])
def test_schema_mistakes_are_one_line_errors_with_the_line(change, expected):
    text = BLOCKS + LIKERT.replace(*change)
    message = _error(text)
    assert message.split(": ", 1)[1] == expected
    assert message.split(":")[1].isdigit()


def test_a_choice_needs_two_to_nine_options_and_only_a_choice_has_options():
    choice = '\n[[questionnaire.item]]\nid = "c"\ntext = "Which?"\nkind = "choice"\n'
    assert _error(BLOCKS + LIKERT + choice).endswith("questionnaire[1].item[2].options: missing, a choice item needs its options")
    assert "must be a list of 2 to 9 different option texts" in _error(BLOCKS + LIKERT + choice + 'options = ["only"]\n')
    assert "must be a list of 2 to 9" in _error(BLOCKS + LIKERT + choice + 'options = ["x", "x"]\n')
    yesno = '\n[[questionnaire.item]]\nid = "y"\ntext = "Yes?"\nkind = "yesno"\noptions = ["a", "b"]\n'
    assert _error(BLOCKS + LIKERT + yesno).endswith("only a choice item has options (this one is yesno)")


def test_item_and_questionnaire_ids_are_unique_and_questionnaires_need_items():
    again = LIKERT.replace('id = "rate"', 'id = "rate2"').replace("[[questionnaire]]\n", "[[questionnaire]]\n", 1)
    assert _error(BLOCKS + LIKERT + again).endswith('item[1].id = "likeable": must be unique: an earlier item has this id')
    assert _error(BLOCKS + '[[questionnaire]]\nafter = "end"\n').endswith(
        "questionnaire[1].item: no items: add at least one [[questionnaire.item]] table")
    same_id = LIKERT.replace('id = "likeable"', 'id = "other"')
    assert _error(BLOCKS + LIKERT + same_id).endswith('questionnaire[2].id = "rate": must be unique: an earlier questionnaire has this id')


def test_control_characters_in_an_item_are_refused():
    message = _error(BLOCKS + LIKERT.replace("How likeable", "How\\u0000 likeable"))
    assert "questionnaire[1].item[1].text" in message and "control characters" in message


def test_questionnaires_without_an_id_are_numbered_and_after_may_name_one_block():
    text = BLOCKS + LIKERT.replace('id = "rate"\n', "").replace('after = "each_block"', 'after = "b"')
    (q,) = parse_protocol_text(text, "study.toml").questionnaires
    assert q.id == "q1" and q.when is When.BLOCKS and q.blocks == ("b",)


def test_the_shipped_protocols_load():
    example = load_protocol(ROOT / "assets" / "protocols" / "example.toml")
    assert example.questionnaires == () and len(example.blocks) == 3
    chameleon = load_protocol(ROOT / "assets" / "protocols" / "chameleon.toml")
    assert {b.condition.value: b.delay_s for b in chameleon.blocks if b.condition.value == "delayed"} == {"delayed": 4.0}
    assert {b.condition.value for b in chameleon.blocks} == {"mimic", "delayed", "static"}
    items = {i.id: i for q in chameleon.questionnaires for i in q.items}
    assert items["detected"].text == "Did the face imitate you?" and items["detected"].detection
    assert {"likeable", "warm", "trustworthy"} <= set(items)
    assert all(q.when is When.EACH_BLOCK for q in chameleon.questionnaires)


# --- when each is asked, in which order ------------------------------------------------------------------------------

def test_questionnaires_follow_their_blocks_and_the_end_ones_the_last():
    p = parse_protocol_text(GOOD.replace('after = "each_block"', 'after = ["b"]'), "study.toml")
    rate, end = p.questionnaires
    assert asked_after(p.questionnaires, "a", last=False) == []
    assert asked_after(p.questionnaires, "b", last=False) == [rate]
    assert asked_after(p.questionnaires, "a", last=True) == [end]
    assert asked_after(p.questionnaires, "b", last=True) == [rate, end]


def test_the_schedule_puts_questionnaires_after_each_block_before_the_break():
    p = parse_protocol_text(GOOD.replace('name = "q"', 'name = "q"\nbreak_s = 3'), "study.toml")
    steps = schedule(p, [1, 0])
    assert [(s.phase, s.block.name, s.questionnaire.id if s.questionnaire else "") for s in steps] == [
        (Phase.BLOCK, "b", ""), (Phase.QUESTIONNAIRE, "b", "rate"),
        (Phase.BREAK, "a", ""), (Phase.BLOCK, "a", ""), (Phase.QUESTIONNAIRE, "a", "rate"), (Phase.QUESTIONNAIRE, "a", "end"),
    ]
    after_b, after_a, at_end = (s.occasion() for s in steps if s.phase is Phase.QUESTIONNAIRE)
    assert (after_b.block, after_b.condition, after_b.position) == ("b", "static", 1)
    assert (after_a.block, after_a.condition, after_a.position) == ("a", "mimic", 2)
    assert (at_end.block, at_end.condition, at_end.position, at_end.occasion) == ("", "", None, "end")
    assert p.total_s == 23.0  # questionnaires are not timed


def test_a_shuffled_questionnaire_has_a_seeded_order_per_participant_and_occasion():
    text = BLOCKS + "\n[[questionnaire]]\nid = \"many\"\nshuffle = true\n" + "".join(
        f'[[questionnaire.item]]\nid = "i{n}"\ntext = "Item {n}?"\nkind = "yesno"\n' for n in range(8))
    (q,) = parse_protocol_text(text, "study.toml").questionnaires
    order = [i.id for i in item_order(q, "P01", 0, "1")]
    assert sorted(order) == sorted(i.id for i in q.items)
    assert order == [i.id for i in item_order(q, "P01", 0, "1")]  # the same participant and occasion: the same
    others = {tuple(i.id for i in item_order(q, p, 0, o)) for p in ("P01", "P02", "P03") for o in ("1", "2")}
    assert len(others) > 1
    fixed = parse_protocol_text(text.replace("shuffle = true", "shuffle = false"), "study.toml").questionnaires[0]
    assert item_order(fixed, "P01", 0, "1") == fixed.items


# --- answering ------------------------------------------------------------------------------------------------------

def _items():
    return parse_protocol_text(GOOD, "study.toml").questionnaires


def test_a_key_answers_a_7_point_item_at_once_and_the_pause_keeps_a_double_press_from_skipping_one():
    rate, _ = _items()
    asking = Asking(rate.items, pause_s=0.5)
    assert asking.choose_key("5", now=1.0) is None  # not drawn yet: nobody has seen it
    assert asking.show(now=1.0) and not asking.show(now=1.01)  # its onset, once
    answer = asking.choose_key("7", now=2.25)
    assert (answer.item.id, answer.value, answer.order, answer.device, answer.rt_ms) == ("likeable", "7", 1, "key", 1250.0)
    assert asking.choose_key("3", now=2.3) is None  # the double press
    assert asking.item.id == "likeable" and asking.chosen.value == "7"  # the choice stays visible
    assert asking.show(now=2.76) and asking.item.id == "enjoyed"  # after the pause, the next item
    assert not asking.done


def test_keys_outside_an_items_choices_are_ignored():
    rate, end = _items()
    asking = Asking(rate.items[:1], 0.5)
    asking.show(0.0)
    assert asking.choose_key("8", 1.0) is None and asking.choose_key("0", 1.0) is None and asking.choose_key("y", 1.0) is None
    yesno = Asking(end.items, 0.5)
    yesno.show(0.0)
    assert yesno.choose_key("n", 0.4).value == NO
    yesno.show(1.0)
    assert yesno.choose_key("4", 1.2) is None and yesno.choose_key("2", 1.3).value == "fairly sure"


def test_a_vas_is_answered_by_a_place_on_its_line_or_the_arrow_keys_and_enter():
    rate, _ = _items()
    asking = Asking(rate.items[1:], 0.5)
    asking.show(0.0)
    assert asking.choose_key("5", 0.1) is None  # a number key does not answer a VAS
    assert asking.confirm_cursor(0.2) is None  # nothing placed yet
    assert asking.move_cursor(5) and asking.cursor == 50  # the first press puts it in the middle
    asking.move_cursor(5)
    asking.move_cursor(-70)
    assert asking.cursor == 0
    assert asking.confirm_cursor(0.9).value == "0"
    click = Asking(rate.items[1:], 0.5)
    click.show(0.0)
    assert click.choose(str(vas_value(0.734)), "touch", 0.5).value == "73"
    assert click.choose("101", "mouse", 0.6) is None


def test_the_last_answer_ends_the_questionnaire_after_its_pause():
    rate, _ = _items()
    asking = Asking(rate.items[:1], 0.5)
    asking.show(0.0)
    asking.choose("4", "mouse", 1.0)
    asking.tick(1.4)
    assert not asking.done
    asking.tick(1.5)
    assert asking.done and asking.answered == 1 and asking.choose("5", "mouse", 1.6) is None
    assert not asking.show(1.7)  # no new onset


def test_answers_as_numbers():
    assert answer_number("likert", "6") == 6.0 and answer_number(ItemKind.VAS, "73") == 73.0
    assert answer_number("yesno", YES) == 1.0 and answer_number("yesno", NO) == 0.0
    assert answer_number("choice", "certain") is None and answer_number("likert", "") is None


# --- fuzz: nothing but ConfigError, whatever the questionnaire ------------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.floats(allow_nan=True), st.text(max_size=8),
                     st.sampled_from(["likert", "vas", "choice", "yesno", "each_block", "end", "a", "b", "x"]))
_item_keys = st.sampled_from(["id", "text", "kind", "points", "low", "high", "options", "detection", "other"])
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=8)
_items_strategy = st.lists(st.dictionaries(_item_keys, _values, max_size=8), max_size=3)
_questionnaires = st.lists(st.fixed_dictionaries({}, optional={
    "id": _values, "after": _values, "shuffle": _values, "title": _values, "item": st.one_of(_items_strategy, _values)}),
    max_size=3)


@settings(max_examples=300, deadline=None)
@given(_questionnaires)
def test_fuzzed_questionnaires_raise_only_config_errors(questionnaires):
    document = {"block": [{"name": "a", "duration_s": 1, "condition": "mimic"},
                          {"name": "b", "duration_s": 1, "condition": "static"}],
                "questionnaire": questionnaires}
    try:
        parse_protocol(document, "fuzz.toml", "")
    except ConfigError as exc:
        assert "\n" not in str(exc)


def test_the_questionnaire_module_and_the_protocol_stay_pure():
    import subprocess
    import sys

    code = ("import sys, avatar.questionnaire, avatar.protocol, avatar.ratings; "
            "print(sorted({'pygame', 'cv2', 'mediapipe', 'matplotlib'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"
