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
    "text,needles",
    [
        ("[empathy]\nfamliarity = 0.5\n", ["c.toml:2", "famliarity", "familiarity"]),
        ('[empathy]\nload = "high"\n', ["c.toml:2", "load", "number"]),
        ("[empathy]\nload = 0.5\nthis is broken\n", ["c.toml:3", "TOML"]),
        ("[empathy]\nload = 1.5\n", ["c.toml:2", "load", "range"]),
        ('[empathy]\ncondition = "mimicry"\n', ["condition", "mimic"]),
        ("[empaty]\nload = 0.5\n", ["c.toml:1", "empaty", "empathy"]),
    ],
)
def test_bad_files_name_the_file_line_and_key(tmp_path, text, needles):
    with pytest.raises(ConfigError) as error:
        load_run_config(_write(tmp_path, text))
    message = str(error.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nowhere.toml"):
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
