"""Protocol files: clear one-line errors for bad files, counterbalanced block orders, and a fuzzed parser."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar.errors import ConfigError
from avatar.protocol import Counterbalance, block_order, load_protocol, parse_protocol, parse_protocol_text, williams_square

GOOD = """
[protocol]
name = "t"
counterbalance = "latin"

[[block]]
name = "a"
duration_s = 10
condition = "mimic"
familiarity = "friend"

[[block]]
name = "b"
duration_s = 10
condition = "delayed"
delay_s = 2

[[block]]
name = "c"
duration_s = 10
condition = "static"
"""


def _error(text: str, path: str = "study.toml") -> str:
    with pytest.raises(ConfigError) as info:
        parse_protocol_text(text, path)
    message = str(info.value)
    assert "\n" not in message and path in message
    return message


def test_a_good_protocol_parses_with_defaults():
    p = parse_protocol_text(GOOD, "study.toml")
    assert [b.name for b in p.blocks] == ["a", "b", "c"]
    assert p.counterbalance is Counterbalance.LATIN
    assert p.blocks[0].familiarity == 0.9 and p.blocks[1].familiarity is None
    assert p.blocks[1].delay_s == 2.0 and p.blocks[2].load == 0.2
    assert len(p.sha256) == 64


def test_a_misspelt_key_names_the_line_and_suggests_the_right_one():
    message = _error(GOOD.replace("duration_s = 10\ncondition = \"delayed\"", "duraton_s = 10\ncondition = \"delayed\""))
    assert message == "study.toml:14: block[2].duraton_s: unknown key (did you mean duration_s?)"


def test_a_wrong_type_names_the_key():
    message = _error(GOOD.replace('familiarity = "friend"', "familiarity = [1]"))
    assert message == ("study.toml:10: block[1].familiarity = [1]: expected a number from 0 to 1 or one of stranger, acquaintance,"
                       " friend, grow (got a list)")


def test_out_of_range_and_unknown_choices_are_refused():
    assert _error(GOOD.replace("delay_s = 2", "delay_s = 99")) == "study.toml:16: block[2].delay_s = 99: must be from 0 to 30 s"
    assert _error(GOOD.replace('condition = "mimic"', 'condition = "mimik"')) == (
        'study.toml:9: block[1].condition = "mimik": must be one of mimic, delayed, sham, static (did you mean mimic?)')
    assert _error(GOOD.replace('"latin"', '"latn"')) == (
        'study.toml:4: protocol.counterbalance = "latn": must be one of none, latin, shuffle (did you mean latin?)')
    assert _error(GOOD.replace("duration_s = 10", "duration_s = true", 1)) == (
        "study.toml:8: block[1].duration_s = true: expected a number from 0.5 to 3600 s (got a boolean)")


def test_structural_mistakes_are_one_line_errors():
    assert _error("[[block]\nname=1") == (
        """study.toml:1: not valid TOML: Expected ']]' at the end of an array declaration (column 8 of "[[block]")""")
    assert _error("[protocol]\nname = \"x\"\n") == "study.toml: no blocks: add at least one [[block]] table"
    assert _error("block = 3\n") == "study.toml:1: block = 3: expected [[block]] tables"
    assert _error('[[block]]\nname = "a"\ncondition = "mimic"\n') == "study.toml:1: block[1].duration_s: missing, every [[block]] needs it"
    assert _error('[[block]]\nname="a"\nduration_s=1\ncondition="mimic"\n[[block]]\nname="a"\nduration_s=1\ncondition="mimic"\n') == (
        'study.toml:6: block[2].name = "a": must be unique: an earlier block has this name')


@pytest.mark.parametrize("escaped", ["\\u0000", "\\u001b[2J", "\\u0085", "\\u2028"])
def test_control_characters_in_an_instruction_are_refused_with_the_line(escaped):
    # The instruction is drawn on the participant's screen: a NUL would crash pygame's text rendering.
    text = GOOD.replace('condition = "static"', f'condition = "static"\ninstruction = "Look{escaped} here"')
    message = _error(text)
    assert message.startswith("study.toml:22: block[3].instruction = ") and "must not hold control characters" in message


def test_an_instruction_may_have_several_lines_and_tabs():
    text = GOOD.replace('condition = "static"', 'condition = "static"\ninstruction = """\nLook here.\n\tThen smile."""')
    assert parse_protocol_text(text, "study.toml").blocks[2].instruction == "Look here.\n\tThen smile."


def test_a_control_character_in_a_name_is_refused_with_the_line():
    message = _error(GOOD.replace('name = "b"', 'name = "b\\u0000"'))
    assert message.startswith("study.toml:13: block[2].name = ") and "control characters" in message


def test_a_missing_or_binary_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.toml: file not found$"):
        load_protocol(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match=r"bad.toml:1: not UTF-8 text \(byte 0\)$"):
        load_protocol(bad)


def test_the_file_is_never_evaluated(tmp_path):
    path = tmp_path / "evil.toml"
    path.write_text(GOOD.replace('name = "t"', 'name = "__import__(\'os\').system(\'false\')"'))
    with pytest.raises(ConfigError, match=r"evil.toml:3: protocol.name = .*: must be letters, digits"):
        load_protocol(path)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_the_latin_square_is_balanced(n):
    rows = williams_square(n)
    for row in rows:
        assert sorted(row) == list(range(n))
    for position in range(n):  # each block in each position equally often
        counts = [sum(row[position] == b for row in rows) for b in range(n)]
        assert len(set(counts)) == 1
    follows = {pair: 0 for pair in itertools.permutations(range(n), 2)}  # each ordered pair adjacent equally often
    for row in rows:
        for a, b in zip(row, row[1:], strict=False):
            follows[(a, b)] += 1
    assert len(set(follows.values())) == 1


def test_block_order_by_participant_number_and_seeded_shuffle():
    p = parse_protocol_text(GOOD, "study.toml")
    orders = {tuple(block_order(p, f"P{i:02d}")) for i in range(1, 7)}
    assert len(orders) == 6  # 3 blocks: a Williams square of 6 rows
    assert block_order(p, "P01") == block_order(p, "sub-1") == [0, 1, 2]
    shuffled = parse_protocol_text(GOOD.replace('"latin"', '"shuffle"\nseed = 5'), "study.toml")
    assert block_order(shuffled, "P03") == block_order(shuffled, "P03")
    assert sorted(block_order(shuffled, "P03")) == [0, 1, 2]


def test_a_fixed_block_keeps_its_place():
    text = GOOD.replace('name = "a"\n', 'name = "a"\nfixed = true\n')
    p = parse_protocol_text(text, "study.toml")
    assert all(block_order(p, f"P{i}")[0] == 0 for i in range(1, 9))


def test_the_example_protocol_loads_and_its_hash_is_of_the_files_bytes():
    import hashlib

    path = Path(__file__).resolve().parent.parent / "assets" / "protocols" / "example.toml"
    p = load_protocol(path)
    assert len(p.blocks) >= 3 and p.total_s < 120
    assert p.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# --- fuzz: nothing but ConfigError, whatever the input -----------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12),
                     st.sampled_from(["mimic", "delayed", "static", "sham", "friend", "grow", "latin", "shuffle", "a"]))
_keys = st.one_of(st.sampled_from(["name", "duration_s", "condition", "familiarity", "load", "delay_s", "mapping",
                                   "instruction", "fixed", "protocol", "block", "counterbalance", "seed", "break_s"]),
                  st.text(max_size=8))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=6)),
                       max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=4))
def test_fuzzed_documents_raise_only_config_errors(document):
    try:
        parse_protocol(document, "fuzz.toml", "")
    except ConfigError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzzed_text_raises_only_config_errors(text):
    try:
        parse_protocol_text(text, "fuzz.toml")
    except ConfigError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(GOOD.splitlines() + ['x = 1', '[[block]]', 'load = "high"', 'duration_s = -1', '"" = 1']), max_size=30))
def test_fuzzed_line_mixes_raise_only_config_errors(lines):
    try:
        parse_protocol_text("\n".join(lines), "fuzz.toml")
    except ConfigError:
        pass
