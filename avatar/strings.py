"""The words on the screens, in one place, so that a museum can translate them.

Every string a person reads on the avatar's screens (banners, captions, hints, the study's screens)
is looked up here by key. The catalogues are TOML files in assets/strings/, one per language
(`en.toml` is complete and is the fallback for any key a translation lacks); `--lang xx` picks
assets/strings/xx.toml, and `--lang path/to/file.toml` a museum's own file. Fields in braces
(`{name}`) are filled by `say(key, name=...)`.

Pure: standard library and the settings reader only, so any layer may import it.
"""

from __future__ import annotations

import string
from pathlib import Path

from avatar.errors import ConfigError
from avatar.settings_schema import read_toml

STRINGS_DIR = Path(__file__).resolve().parent.parent / "assets" / "strings"
DEFAULT_LANGUAGE = "en"


def languages() -> list[str]:
    """The bundled languages, by code."""
    return sorted(p.stem for p in STRINGS_DIR.glob("*.toml"))


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise ValueError(f"{name}: not text")
    return flat


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load_catalogue(path: str | Path) -> dict[str, str]:
    """A catalogue file -> {dotted key: text}; ConfigError naming the file for anything unusable."""
    doc = read_toml(path)
    try:
        return _flatten(doc.data)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None


class Strings:
    """One language's words, with English behind it for any key the translation lacks."""

    def __init__(self, language: str | Path = DEFAULT_LANGUAGE):
        self.fallback = load_catalogue(STRINGS_DIR / f"{DEFAULT_LANGUAGE}.toml")
        path = Path(language)
        if path.suffix != ".toml":
            path = STRINGS_DIR / f"{language}.toml"
            if not path.is_file():
                raise ConfigError(f"--lang {language}: no such language (bundled: {', '.join(languages())}; or give a .toml file)")
        elif not path.is_file():
            raise ConfigError(f"--lang {language}: no such file")
        self.language = path.stem
        own = load_catalogue(path)
        for key, text in own.items():
            if key in self.fallback and _fields(text) != _fields(self.fallback[key]):
                raise ConfigError(f"{path}: {key}: uses fields {sorted(_fields(text))}, the English text {sorted(_fields(self.fallback[key]))}")
        self.table = {**self.fallback, **own}

    def say(self, key: str, **fields) -> str:
        text = self.table.get(key)
        if text is None:
            raise KeyError(f"no on-screen string {key!r} in assets/strings/{DEFAULT_LANGUAGE}.toml")
        return text.format(**fields) if fields or "{" in text else text


_active: Strings | None = None


def use_language(language: str | Path = DEFAULT_LANGUAGE) -> Strings:
    """Switch every screen to `language` (a code or a .toml path); ConfigError if it cannot be read."""
    global _active
    _active = Strings(language)
    return _active


def say(key: str, **fields) -> str:
    """The on-screen text for `key` in the active language (English until use_language is called)."""
    global _active
    if _active is None:
        _active = Strings()
    return _active.say(key, **fields)
