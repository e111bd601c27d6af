"""Config files: clear errors that name file, line and key; data only; fuzzed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar.config import load_run_config
from avatar.empathy import Condition
from avatar.errors import ConfigError


def _write(tmp_path, text, name="c.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_file_becomes_settings(tmp_path):
    config = load_run_config(_write(tmp_path, '[empathy]\nfamiliarity = "friend"\ndelay = 2\ncondition = "delayed"\n[run]\nseed = 3\n'))
    assert config["empathy"] == {"familiarity": 0.9, "delay_s": 2.0, "condition": Condition.DELAYED}
    assert config["run"] == {"seed": 3}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("[empathy]\nfamliarity = 0.5\n", "c.toml:2: empathy.famliarity: unknown key (did you mean familiarity?)"),
        ('[empathy]\nload = "high"\n', 'c.toml:2: empathy.load = "high": expected a number from 0 to 1 (got a string)'),
        ("[empathy]\nload = 0.5\nthis is broken\n", "c.toml:3: not valid TOML: Expected '=' after a key in a key/value pair"
                                                    ' (column 6 of "this is broken")'),
        ("[empathy]\nload = 1.5\n", "c.toml:2: empathy.load = 1.5: must be from 0 to 1"),
        ('[empathy]\ncondition = "mimicry"\n',
         'c.toml:2: empathy.condition = "mimicry": must be one of mimic, delayed, sham, static (did you mean mimic?)'),
        ("[empaty]\nload = 0.5\n", "c.toml:1: empaty: unknown section (did you mean empathy?)"),
        ("[empathy]\n# a comment\nevent_off = 0.3\n", "c.toml:3: empathy.event_off = 0.3: must be below event_on (0.25)"),
        ("[empathy]\ndelay = 2\ndelay_s = 3\n", "c.toml:3: empathy.delay_s: given twice (also as delay)"),
        ("[run]\nduration = 0\n", "c.toml:2: run.duration = 0: must be from 0.001 to 86400 s"),
        ("[run]\nloop = 1\n", "c.toml:2: run.loop = 1: expected true or false (got a whole number)"),
        ("empathy = 3\n", "c.toml:1: empathy = 3: expected a table (got a whole number)"),
    ],
)
def test_bad_files_name_the_file_line_and_key(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_run_config(path)
    assert str(error.value) == f"{tmp_path}/{expected}"


def test_ranges_come_from_the_settings_not_from_key_names(tmp_path):
    # gain_floor was once capped at 1 because its name has "floor" in it; now EmpathySettings says so.
    with pytest.raises(ConfigError, match=r"c.toml:2: empathy.gain_floor = 0: must be above 0 and at most 1$"):
        load_run_config(_write(tmp_path, "[empathy]\ngain_floor = 0\n"))
    assert load_run_config(_write(tmp_path, "[empathy]\nsmile_full = 3.5\n"))["empathy"] == {"smile_full": 3.5}


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"nowhere.toml: file not found$"):
        load_run_config(tmp_path / "nowhere.toml")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_but_config_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "f.toml"
    path.write_bytes(data)
    try:
        load_run_config(path)
    except ConfigError:
        pass


_values = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=8), st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["familiarity", "load", "delay", "condition", "guard", "seed", "mapping", "bogus"]), _values, max_size=4))
def test_any_empathy_table_is_accepted_or_refused_clearly(tmp_path_factory, table):
    import json

    lines = ["[empathy]"]
    for key, value in table.items():
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            value = 0.5
        lines.append(f"{key} = {json.dumps(value)}")
    path = tmp_path_factory.mktemp("fuzz") / "e.toml"
    path.write_text("\n".join(lines) + "\n")
    try:
        load_run_config(path)
    except ConfigError as error:
        assert "\n" not in str(error)


def test_the_shipped_defaults_load_and_document_every_key():
    from conftest import ROOT

    from avatar.config import empathy_schema

    path = ROOT / "assets" / "config" / "default.toml"
    config = load_run_config(path)
    text = path.read_text()
    for key in empathy_schema():
        assert f"{key} =" in text, key
    assert config["empathy"]["load"] == 0.2


def test_a_nul_in_log_dir_is_refused_with_file_and_line(tmp_path):
    path = _write(tmp_path, '[run]\nlog_dir = "logs\\u0000/x"\n')
    with pytest.raises(ConfigError) as error:
        load_run_config(path)
    assert str(error.value) == f'{path}:2: run.log_dir = "logs\\u0000/x": must not hold control characters such as \\x00'


def test_a_path_longer_than_any_system_allows_is_refused_with_file_and_line(tmp_path):
    path = _write(tmp_path, '[run]\nsource = "' + "v" * 5000 + '"\n')
    with pytest.raises(ConfigError) as error:
        load_run_config(path)
    message = str(error.value)
    assert message.startswith(f'{path}:2: run.source = "vvv') and message.endswith("must be at most 4096 characters long (it has 5000)")
    assert len(message) < len(str(path)) + 120
