"""Settings schemas: one reader, one line finder, ranges declared once, one wording for every settings file kind."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar import settings_schema as schema
from avatar.config import RunSection, load_run_config
from avatar.empathy import EmpathySettings
from avatar.errors import ConfigError
from avatar.protocol import Block, Protocol, load_protocol
from avatar.styles import Gains, Lines, Shape, load_style

BLOCK = '[[block]]\nname = "a"\nduration_s = 10\ncondition = "mimic"\n'


def _write(tmp_path, text, name="f.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _refusal(load, path) -> str:
    with pytest.raises(ConfigError) as error:
        load(path)
    return str(error.value)


# --- one wording, with file and line, for every kind of file -------------------------------------------


@pytest.mark.parametrize(
    "load,text,expected",
    [
        (load_run_config, "[run]\nseed = 1\n\n[empathy]\nload = 0.2\nlapse_max = 2.0\n", "6: empathy.lapse_max = 2.0: must be from 0 to 1"),
        (load_style, "[shape]\n\nface_fill = 3\n", "3: shape.face_fill = 3: must be from 0.3 to 1"),
        (load_protocol, BLOCK + BLOCK.replace('"a"', '"b"').replace("10", "0.1"), "7: block[2].duration_s = 0.1: must be from 0.5 to 3600 s"),
        (load_protocol, "[protocol]\nbreak_s = -1\n" + BLOCK, "2: protocol.break_s = -1: must be from 0 to 600 s"),
    ],
)
def test_a_bad_value_in_each_kind_of_file_names_file_line_and_key(tmp_path, load, text, expected):
    path = _write(tmp_path, text)
    assert _refusal(load, path) == f"{path}:{expected}"


@pytest.mark.parametrize(
    "load,text,expected",
    [
        (load_run_config, "[empathy]\nlapse_mx = 0.5\n", "2: empathy.lapse_mx: unknown key (did you mean lapse_max?)"),
        (load_style, "[lines]\nbrows = 0.1\n", "2: lines.brows: unknown key (did you mean brow?)"),
        (load_protocol, BLOCK + "lod = 0.5\n", "5: block[1].lod: unknown key (did you mean load?)"),
        (load_protocol, '[protocl]\nname = "x"\n' + BLOCK, "1: protocl: unknown section (did you mean protocol?)"),
    ],
)
def test_an_unknown_key_gets_a_did_you_mean_hint_in_each_kind_of_file(tmp_path, load, text, expected):
    path = _write(tmp_path, text)
    assert _refusal(load, path) == f"{path}:{expected}"


@pytest.mark.parametrize(
    "load,text,expected",
    [
        (load_run_config, '[empathy]\nload = "high"\n', '2: empathy.load = "high": expected a number from 0 to 1 (got a string)'),
        (load_style, "[shape]\nhair = 1\n", "2: shape.hair = 1: expected true or false (got a whole number)"),
        (load_protocol, BLOCK + "instruction = 3\n", "5: block[1].instruction = 3: expected a string (got a whole number)"),
    ],
)
def test_a_wrong_type_is_worded_the_same_in_each_kind_of_file(tmp_path, load, text, expected):
    path = _write(tmp_path, text)
    assert _refusal(load, path) == f"{path}:{expected}"


def test_lapse_max_and_gain_floor_out_of_range_are_worded_alike(tmp_path):
    lapse = _refusal(load_run_config, _write(tmp_path, "[empathy]\nlapse_max = 2.0\n", "a.toml"))
    floor = _refusal(load_run_config, _write(tmp_path, "[empathy]\ngain_floor = 2.0\n", "b.toml"))
    assert lapse == f"{tmp_path}/a.toml:2: empathy.lapse_max = 2.0: must be from 0 to 1"
    assert floor == f"{tmp_path}/b.toml:2: empathy.gain_floor = 2.0: must be above 0 and at most 1"


@pytest.mark.parametrize("key", ["lapse_max", "gain_floor", "event_off"])
def test_settings_built_in_python_are_refused_in_the_files_words_without_file_and_line(tmp_path, key):
    with pytest.raises(ConfigError) as in_python:
        EmpathySettings(**{key: 2.0})
    path = _write(tmp_path, f"[empathy]\n{key} = 2.0\n")
    assert _refusal(load_run_config, path) == f"{path}:2: {in_python.value}"


def test_a_python_caller_may_overload_but_a_file_may_not():
    assert EmpathySettings(load=1.5).load == 1.5  # the model clips it, with a note
    with pytest.raises(ConfigError, match=r"^load = 1.5: must be from 0 to 1$"):
        schema.check_value(EmpathySettings, "load", 1.5)


# --- ranges declared once: anything in range is taken, anything outside refused ----------------------------

RANGED = [(cls, s) for cls in (EmpathySettings, RunSection, Shape, Lines, Gains, Block, Protocol)
          for s in schema.settings_of(cls).values() if s.kind in (int, float) and (s.spec.low is not None or s.spec.high is not None)]


def _inside(s: schema.Setting):
    low = s.spec.low if s.spec.low is not None else -1e9
    high = s.spec.high if s.spec.high is not None else 1e9
    if s.kind is int:
        return st.integers(int(low) + int(s.spec.low_open), int(high))
    return st.floats(low, high, exclude_min=s.spec.low_open)


def _outside(s: schema.Setting):
    sides = []
    if s.spec.low is not None:
        sides.append(st.integers(max_value=int(s.spec.low) - 1 + int(s.spec.low_open)) if s.kind is int
                     else st.floats(max_value=s.spec.low, exclude_max=not s.spec.low_open, allow_nan=False))
    if s.spec.high is not None:
        sides.append(st.integers(min_value=int(s.spec.high) + 1) if s.kind is int
                     else st.floats(min_value=s.spec.high, exclude_min=True, allow_nan=False))
    return st.one_of(sides)


def test_there_are_ranged_fields_in_every_file_kind():
    assert {cls for cls, _ in RANGED} == {EmpathySettings, RunSection, Shape, Lines, Gains, Block, Protocol}
    assert len(RANGED) > 80


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_value_in_range_is_accepted_and_any_outside_refused(data):
    cls, s = data.draw(st.sampled_from(RANGED), label="field")
    good = data.draw(_inside(s), label="inside")
    assert schema.check_value(cls, s.name, good) == good
    bad = data.draw(_outside(s), label="outside")
    with pytest.raises(ConfigError) as error:
        schema.check_value(cls, s.name, bad)
    assert str(error.value).startswith(f"{s.name} = ") and ": must be " in str(error.value)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_empathy_settings_built_in_python_follow_the_same_ranges(data):
    s = data.draw(st.sampled_from([s for cls, s in RANGED if cls is EmpathySettings and not s.spec.less_than
                                   and s.name not in {"event_on", "distress_no_smile_at"}]), label="field")
    good = data.draw(_inside(s), label="inside")
    assert getattr(EmpathySettings(**{s.name: good}), s.name) == good
    bad = data.draw(_outside(s), label="outside")
    if s.spec.soft_high and bad > s.spec.high:
        return
    with pytest.raises(ConfigError, match=rf"^empathy\.{s.name} = .*: must be "):
        EmpathySettings(**{s.name: bad})


@settings(max_examples=100, deadline=None)
@given(on=st.floats(0.0, 1.0), off=st.floats(0.0, 1.0))
def test_event_off_must_stay_below_event_on_in_python_and_in_a_file(tmp_path_factory, on, off):
    path = tmp_path_factory.mktemp("order") / "c.toml"
    path.write_text(f"[empathy]\nevent_on = {on!r}\nevent_off = {off!r}\n")
    if off < on:
        assert EmpathySettings(event_on=on, event_off=off).event_off == off
        assert load_run_config(path)["empathy"] == {"event_on": on, "event_off": off}
    else:
        with pytest.raises(ConfigError, match=r"^empathy.event_off = .*: must be below event_on"):
            EmpathySettings(event_on=on, event_off=off)
        with pytest.raises(ConfigError, match=r"c.toml:3: empathy.event_off = .*: must be below event_on"):
            load_run_config(path)


# --- the reader and the line finder ------------------------------------------------------------------------------


def test_the_line_finder_knows_tables_arrays_dotted_and_quoted_keys():
    text = "\n".join([
        "top = 1",  # 1
        "[empathy]",  # 2
        'note = """',  # 3
        "load = 99",  # 4: inside a string, not a key
        '"""',  # 5
        "load = 0.5",  # 6
        "[[block]]",  # 7
        "name = 'a'",  # 8
        "[[block]]",  # 9
        "  'name' = 'b'",  # 10
        "colors.skin = 'x'",  # 11
        "[block.extra]",  # 12: a table inside the second block
        '"odd key" = 1',  # 13
    ])
    doc = schema.parse_toml(text, "t.toml")
    assert doc.line("top") == 1
    assert doc.line("empathy") == 2 and doc.line("empathy", "load") == 6
    assert doc.line("block") == 7 and doc.line("block", 0) == 7 and doc.line("block", 0, "name") == 8
    assert doc.line("block", 1, "name") == 10 and doc.line("block", 1, "colors", "skin") == 11
    assert doc.line("block", 1, "extra", "odd key") == 13
    assert doc.line("block", 1, "duration_s") == 9  # a missing key: its table's header
    assert doc.line("nowhere") is None


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"a = 1\nb = \n", "f.toml:2: not valid TOML: Invalid value (column 5 of \"b =\")"),
        (b"a = 1\nb = 2\x00\n", "f.toml:2: not valid TOML: a NUL byte (column 6)"),
        (b"a = 1\n\nb = '\xff'\n", "f.toml:3: not UTF-8 text (byte 12)"),
        (b'a = """\n', "f.toml:1: not valid TOML: Unterminated string (\"a = \\\"\\\"\\\"\")"),
    ],
)
def test_unreadable_files_are_one_config_error_with_file_and_line(tmp_path, data, expected):
    path = tmp_path / "f.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as error:
        schema.read_toml(path)
    assert str(error.value) == f"{tmp_path}/{expected}"


def test_a_missing_file_or_a_folder_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"gone.toml: file not found$"):
        schema.read_toml(tmp_path / "gone.toml")
    with pytest.raises(ConfigError, match=r": is a folder, not a file$"):
        schema.read_toml(tmp_path)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_or_gives_one_line(text):
    try:
        doc = schema.parse_toml(text, "x.toml")
    except ConfigError as error:
        assert str(error).startswith("x.toml") and "\n" not in str(error)
    else:
        for key in doc.data:
            doc.line(key)


def test_messages_stay_on_one_line_whatever_the_key_or_value():
    place = schema.Place(None, ("a\nb", 0, "c"))
    assert place.error("bad", "x\ny\u2028").args[0] == '"a\\nb"[1].c = "x\\ny\\u2028": bad'


# --- every shipped file still loads; the schema module stays pure ------------------------------------------------


def test_every_shipped_settings_file_loads():
    assert load_run_config(ROOT / "assets" / "config" / "default.toml")["empathy"]
    for path in sorted((ROOT / "assets" / "avatars").glob("*.toml")):
        assert load_style(path).name == path.stem
    for path in sorted((ROOT / "assets" / "protocols").glob("*.toml")):
        assert load_protocol(path).blocks


def test_the_shipped_defaults_are_the_settings_defaults():
    config = load_run_config(ROOT / "assets" / "config" / "default.toml")["empathy"]
    assert EmpathySettings(**config) == EmpathySettings()


def test_the_schema_and_the_empathy_stage_import_nothing_heavy_and_nothing_above():
    code = ("import sys, avatar.settings_schema as s, avatar.empathy\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygame', 'cv2', 'mediapipe', 'matplotlib')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
    source = (ROOT / "avatar" / "settings_schema.py").read_text()
    imports = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert {name for name in imports if name.startswith("avatar")} == {"avatar.errors"}


def test_every_field_with_a_range_is_a_setting_of_a_known_kind():
    for cls in (EmpathySettings, RunSection, Shape, Lines, Gains, Block, Protocol):
        for f in dataclasses.fields(cls):
            spec = f.metadata.get(schema.SPEC_KEY)
            if spec is not None and (spec.low is not None or spec.high is not None):
                assert schema.settings_of(cls)[f.name].kind in (int, float), f"{cls.__name__}.{f.name}"


# --- hostile files: deep nesting, huge values, names the system cannot open ------------------------------------


@pytest.mark.parametrize("depth", [40, 400, 5000])
@pytest.mark.parametrize("opening,closing", [("[", "]"), ("{a = ", "}")])
def test_deep_nesting_is_one_line_with_the_file_and_line(tmp_path, depth, opening, closing):
    path = _write(tmp_path, "[run]\nseed = 1\nsource = " + opening * depth + "1" + closing * depth + "\n")
    assert _refusal(load_run_config, path) == f"{path}:3: lists or tables nested more than 32 levels deep (a settings file needs three)"


def test_deep_nesting_by_dotted_keys_is_refused_too(tmp_path):
    path = _write(tmp_path, "[run]\n" + ".".join(["k"] * 40) + " = 1\n")
    message = _refusal(load_run_config, path)
    assert message.startswith(f"{path}:2: run.k.k.k") and message.endswith("nested more than 32 levels deep (a settings file needs three)")
    assert len(message) < len(str(path)) + 200


def test_nesting_within_the_limit_reaches_the_checks(tmp_path):
    path = _write(tmp_path, "[run]\nsource = " + "[" * 30 + "]" * 30 + "\n")
    assert _refusal(load_run_config, path).startswith(f"{path}:2: run.source = [[[...]]]: expected a string")


def test_a_file_over_a_megabyte_is_refused_unread(tmp_path):
    path = _write(tmp_path, "a = 1\n" + "#" * schema.MAX_FILE_BYTES)
    assert _refusal(schema.read_toml, path) == f"{path}: too large for a settings file (more than 1 MB)"
    with pytest.raises(ConfigError, match="too large"):
        schema.parse_toml("#" * (schema.MAX_FILE_BYTES + 1), "x.toml")


@pytest.mark.parametrize(
    "text,start",
    [
        ('[run]\nsource = "' + "v" * 900_000 + '"\n', "2: run.source = \"vvvv"),
        ("[run]\n" + "k" * 900_000 + " = 1\n", "2: run.kkkk"),
        ("[" + "s" * 900_000 + "]\n", "1: ssss"),
        ('[run]\n"' + "\\n" * 1000 + '" = 1\n', '2: run."\\n\\n'),
    ],
)
def test_huge_keys_and_values_are_cut_in_messages(tmp_path, text, start):
    path = _write(tmp_path, text)
    message = _refusal(load_run_config, path)
    assert message.startswith(f"{path}:{start}") and "\n" not in message
    assert len(message) < len(str(path)) + 250 and "…" in message


@pytest.mark.parametrize("name,problem", [("x" * 300 + ".toml", "File name too long"), ("a\x00b.toml", "NUL character")])
def test_a_file_name_the_system_cannot_open_is_one_short_line(tmp_path, name, problem):
    message = _refusal(schema.read_toml, tmp_path / name)
    assert problem in message and "\n" not in message and "\x00" not in message and len(message) < 300


def test_a_long_file_name_keeps_its_start_and_its_end():
    shown = schema.show_path("/data/" + "x" * 500 + "/study.toml")
    assert len(shown) == 160 and shown.startswith("/data/xx") and shown.endswith("x/study.toml") and "…" in shown
    assert schema.show_path("a\nb.toml") == "a\\nb.toml"


@pytest.mark.parametrize("value", ["a\x00b", "tab\there", "bell\x07", "c1\x85", "del\x7f", "line\u2028sep"])
def test_control_characters_in_a_string_are_refused_with_the_line(tmp_path, value):
    path = _write(tmp_path, f"[run]\nseed = 1\navatar = {json.dumps(value)}\n")  # JSON's escapes are TOML's
    message = _refusal(load_run_config, path)
    assert message.startswith(f"{path}:3: run.avatar = ") and "must not hold control characters" in message
