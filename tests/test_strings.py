"""The on-screen words' catalogues: every translation's key is an English key with the same {fields}; the
modules moved onto avatar.strings keep no on-screen text of their own; --lang picks the language."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from avatar import strings
from avatar.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
# Modules whose on-screen words come from assets/strings (the avatar's window, the chat's line, notices).
MIGRATED = ("avatar/render.py", "avatar/presenter.py", "avatar/chat/overlay.py", "avatar/app.py", "avatar/runners.py")
FORMER_WORDS = ("Please hold a relaxed", "looking for the camera", "Waiting for the recorder", "faces {")
DRAWN_KEYWORDS = ("caption", "status", "bubble", "title", "body", "footer")


@pytest.mark.parametrize("language", [lang for lang in strings.languages() if lang != strings.DEFAULT_LANGUAGE])
def test_every_translated_key_is_an_english_key_with_the_same_fields(language):
    english = strings.load_catalogue(strings.STRINGS_DIR / "en.toml")
    translated = strings.load_catalogue(strings.STRINGS_DIR / f"{language}.toml")
    assert set(translated) <= set(english), sorted(set(translated) - set(english))
    for key, text in translated.items():
        assert strings._fields(text) == strings._fields(english[key]), key
        assert text.strip(), key


def test_french_covers_the_avatar_chat_and_notices_sections():
    english = strings.load_catalogue(strings.STRINGS_DIR / "en.toml")
    french = strings.load_catalogue(strings.STRINGS_DIR / "fr.toml")
    for section in ("avatar.", "chat.", "notices."):
        keys = {k for k in english if k.startswith(section)}
        assert keys and keys <= set(french), section


@pytest.mark.parametrize("module", MIGRATED)
def test_no_on_screen_text_is_left_in_a_migrated_module(module):
    source = (ROOT / module).read_text(encoding="utf-8")
    for words in FORMER_WORDS:
        assert words not in source, (module, words)
    for node in ast.walk(ast.parse(source)):  # text handed straight to a drawing call
        if isinstance(node, ast.keyword) and node.arg in DRAWN_KEYWORDS:
            literal = isinstance(node.value, ast.JoinedStr) or (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str))
            assert not literal, f"{module}:{node.value.lineno}: on-screen text belongs in assets/strings/en.toml"


def test_a_language_by_code_or_by_file_and_english_behind_a_missing_key(tmp_path):
    try:
        assert strings.use_language("fr").say("avatar.calibrate", seconds="3") == "Gardez un visage détendu et neutre (3 s)"
        museum = tmp_path / "de.toml"
        museum.write_text('[avatar]\ncalibrate = "Bitte ein ruhiges Gesicht ({seconds} s)"\n', encoding="utf-8")
        strings.use_language(museum)
        assert strings.say("avatar.calibrate", seconds="2") == "Bitte ein ruhiges Gesicht (2 s)"
        assert strings.say("chat.prompt") == "> "  # not translated there: English
    finally:
        strings.use_language("en")


def test_a_bad_language_is_refused_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match="no such language"):
        strings.Strings("xx")
    broken = tmp_path / "broken.toml"
    broken.write_text('[avatar]\ncalibrate = "({secs} s)"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="calibrate") as caught:
        strings.Strings(broken)
    assert "\n" not in str(caught.value)


def test_the_command_line_refuses_a_bad_lang_in_one_line(tmp_path):
    from conftest import ASTRONAUT, run_cli

    for value, needle in (("xx", "no such language"), (str(tmp_path / "none.toml"), "no such file")):
        result = run_cli("--headless", "--source", str(ASTRONAUT), "--duration", "0.1", "--lang", value)
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0 and len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr


def test_lang_from_a_config_file_draws_french(tmp_path):
    from conftest import ASTRONAUT, run_cli

    from avatar.settings_schema import read_toml

    config = tmp_path / "run.toml"
    config.write_text('[run]\nlang = "fr"\n', encoding="utf-8")
    assert read_toml(config).data == {"run": {"lang": "fr"}}
    log_dir = tmp_path / "logs"
    result = run_cli("--headless", "--config", str(config), "--source", str(ASTRONAUT), "--duration", "0.1", "--log-dir", str(log_dir))
    assert result.returncode == 0, result.stderr
    import json

    (session,) = log_dir.iterdir()
    assert json.loads((session / "session.json").read_text())["settings"]["lang"] == "fr"
