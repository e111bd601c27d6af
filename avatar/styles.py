"""Avatar styles: shapes, proportions, colours, line weights and control gains, read from TOML.

Used by the renderer (the last stage). Built-in styles live in assets/avatars/*.toml; a style file
only needs the keys it changes, the rest default to the "friendly" face below.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from avatar.errors import ConfigError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

STYLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "avatars"
DEFAULT_STYLE = "friendly"

RGB = tuple[int, int, int]


def _rng(lo: float, hi: float, default):
    return field(default=default, metadata={"range": (lo, hi)})


@dataclass(frozen=True)
class Colors:
    """Colours as (r, g, b); TOML gives "#rrggbb" or [r, g, b]."""

    background: RGB = (46, 58, 78)
    background_bottom: RGB = (28, 34, 48)  # vertical gradient; equal to background for a flat fill
    skin: RGB = (250, 212, 172)
    outline: RGB = (84, 52, 40)
    hair: RGB = (92, 58, 40)
    brow: RGB = (84, 52, 40)
    eye_white: RGB = (255, 255, 255)
    iris: RGB = (70, 120, 160)
    pupil: RGB = (30, 26, 30)
    highlight: RGB = (255, 255, 255)
    mouth: RGB = (120, 40, 50)
    teeth: RGB = (255, 255, 250)
    tongue: RGB = (232, 110, 120)
    cheek: RGB = (244, 140, 130)
    text: RGB = (235, 235, 240)
    bubble: RGB = (255, 255, 255)
    bubble_text: RGB = (30, 30, 40)


@dataclass(frozen=True)
class Shape:
    """Proportions in face half-widths (x) from the face centre; y grows downwards."""

    face_fill: float = _rng(0.3, 1.0, 0.84)  # face height (incl. hair) as a fraction of the window's
    face_aspect: float = _rng(0.6, 1.8, 1.06)  # half-height / half-width
    face_roundness: float = _rng(1.5, 6.0, 2.3)  # superellipse exponent: 2 is an ellipse, higher is squarer
    chin: float = _rng(0.0, 0.5, 0.12)  # how much the lower half narrows
    eye_spacing: float = _rng(0.1, 0.7, 0.36)
    eye_y: float = _rng(-0.8, 0.6, -0.06)
    eye_width: float = _rng(0.03, 0.4, 0.15)
    eye_height: float = _rng(0.03, 0.4, 0.17)
    iris_size: float = _rng(0.1, 1.2, 0.78)  # iris radius / eye half-height
    pupil_size: float = _rng(0.0, 1.0, 0.52)  # pupil radius / iris radius
    eye_whites: bool = True  # False: the eye is a dark dot with no white
    highlight: bool = True  # a catch-light in each eye
    brow_y: float = _rng(-1.0, 0.4, -0.36)
    brow_length: float = _rng(0.05, 0.6, 0.34)
    mouth_y: float = _rng(-0.2, 0.95, 0.44)
    mouth_width: float = _rng(0.05, 0.7, 0.3)  # half-width
    mouth_rest_curve: float = _rng(-0.2, 0.2, 0.03)  # a neutral mouth's smile; friendly faces rest slightly up
    nose_y: float = _rng(-0.4, 0.8, 0.17)
    nose_size: float = _rng(0.0, 0.4, 0.07)  # 0: no nose
    cheek_size: float = _rng(0.0, 0.5, 0.17)  # blush radius; 0: no blush
    cheek_rest: float = _rng(0.0, 1.0, 0.35)  # blush strength with a neutral face
    cheek_lines: bool = False  # smile lines under the eyes when the cheeks rise
    hair: bool = True
    ears: bool = True


@dataclass(frozen=True)
class Lines:
    """Line weights in face half-widths (at least one pixel is drawn)."""

    outline: float = _rng(0.0, 0.2, 0.03)
    brow: float = _rng(0.0, 0.2, 0.07)
    lid: float = _rng(0.0, 0.2, 0.035)
    mouth: float = _rng(0.0, 0.2, 0.035)
    nose: float = _rng(0.0, 0.2, 0.03)


@dataclass(frozen=True)
class Gains:
    """How strongly each control moves in this style (1 is as the rig says)."""

    mouth_corner: float = _rng(0.0, 3.0, 1.0)
    lips: float = _rng(0.0, 3.0, 1.0)
    jaw: float = _rng(0.0, 3.0, 1.0)
    lip_press: float = _rng(0.0, 3.0, 1.0)
    brow_inner: float = _rng(0.0, 3.0, 1.0)
    brow_outer: float = _rng(0.0, 3.0, 1.0)
    lid: float = _rng(0.0, 3.0, 1.0)
    cheek: float = _rng(0.0, 3.0, 1.0)
    gaze: float = _rng(0.0, 3.0, 1.0)
    head: float = _rng(0.0, 3.0, 1.0)
    breath: float = _rng(0.0, 3.0, 1.0)


@dataclass(frozen=True)
class Style:
    name: str = DEFAULT_STYLE
    description: str = ""
    path: str = ""
    colors: Colors = Colors()
    shape: Shape = Shape()
    lines: Lines = Lines()
    gains: Gains = Gains()


_SECTIONS = {"colors": Colors, "shape": Shape, "lines": Lines, "gains": Gains}
_TOP_KEYS = ("name", "description")


def list_styles() -> list[tuple[str, Path, str]]:
    """(name, path, description) of each built-in style, the default first."""
    out = []
    for path in sorted(STYLES_DIR.glob("*.toml")):
        try:
            description = load_style(path).description
        except ConfigError as e:
            description = f"(broken: {e})"
        out.append((path.stem, path, description))
    out.sort(key=lambda row: (row[0] != DEFAULT_STYLE, row[0]))
    return out


def load_style(name_or_path: str | Path | None = None) -> Style:
    """A built-in style by name ("friendly", "line", "contrast") or a TOML file by path."""
    if name_or_path is None or name_or_path == "":
        name_or_path = DEFAULT_STYLE
    text_arg = str(name_or_path)
    looks_like_path = isinstance(name_or_path, Path) or text_arg.endswith(".toml") or "/" in text_arg or "\\" in text_arg
    if looks_like_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise ConfigError(f"{path}: avatar style file not found")
    else:
        path = STYLES_DIR / f"{text_arg}.toml"
        if not path.is_file():
            names = ", ".join(sorted(p.stem for p in STYLES_DIR.glob("*.toml"))) or "(none)"
            raise ConfigError(f'unknown avatar style "{text_arg}"; available: {names} (or give a path to a .toml file)')
    return _parse(path)


def _parse(path: Path) -> Style:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read avatar style: {e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"line (\d+)", msg)
        line = int(m.group(1)) if m else 0
        near = ""
        if m and 0 < line <= len(text.splitlines()):
            src = text.splitlines()[line - 1].strip()
            key = src.split("=", 1)[0].strip() if "=" in src else src
            near = f' at key "{key}"'
        raise ConfigError(f"{path}:{line}: invalid TOML{near}: {msg}") from None

    def fail(section: str, key: str, problem: str) -> ConfigError:
        line = _line_of(text, section, key)
        dotted = f"{section}.{key}" if section else key
        return ConfigError(f'{path}:{line}: key "{dotted}": {problem}')

    top: dict = {}
    parts: dict = {}
    for key, value in data.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise fail("", key, f"should be a table [{key}]")
            parts[key] = _section(_SECTIONS[key], key, value, fail)
        elif key in _TOP_KEYS:
            if not isinstance(value, str):
                raise fail("", key, f"should be a string, got {_type_name(value)}")
            top[key] = value
        else:
            raise fail("", key, "unknown key" + _suggest(key, list(_TOP_KEYS) + [f"[{s}]" for s in _SECTIONS]))
    return Style(name=top.get("name", path.stem), description=top.get("description", ""), path=str(path), **parts)


def _section(cls, section: str, table: dict, fail):
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise fail(section, key, "unknown key" + _suggest(key, list(known)))
        f = known[key]
        default = f.default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise fail(section, key, f"should be true or false, got {_type_name(value)}")
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise fail(section, key, f"should be a number, got {_type_name(value)}")
            value = float(value)
            lo, hi = f.metadata.get("range", (float("-inf"), float("inf")))
            if not lo <= value <= hi:
                raise fail(section, key, f"{value:g} is out of range {lo:g}..{hi:g}")
        elif isinstance(default, tuple):
            value = _color(value)
            if value is None:
                raise fail(section, key, 'should be a colour: "#rrggbb" or [r, g, b] with 0-255 each')
        values[key] = value
    return cls(**values)


def _color(value) -> RGB | None:
    if isinstance(value, str):
        m = re.fullmatch(r"#?([0-9a-fA-F]{6})", value.strip())
        if not m:
            return None
        h = m.group(1)
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        return (value[0], value[1], value[2])
    return None


def _type_name(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__
    )


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    return f' (did you mean "{close[0]}"?)' if close else f" (known: {', '.join(known)})"


def _line_of(text: str, section: str, key: str) -> int:
    """The 1-based line where `key` is set inside `[section]` ("" for the top level); 0 if not found."""
    current = ""
    header_line = 0
    key_re = re.compile(r"^\s*(?:\"([^\"]+)\"|'([^']+)'|([A-Za-z0-9_\-]+))\s*=")
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        head = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if head:
            current = head.group(1)
            if current == section:
                header_line = number
            if not section and current == key:
                return number
            continue
        m = key_re.match(raw)
        if m and current == section and next(g for g in m.groups() if g is not None) == key:
            return number
    return header_line
