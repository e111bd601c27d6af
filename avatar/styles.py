"""Avatar styles: shapes, proportions, colours, line weights and control gains, read from TOML.

Used by the renderer (the last stage). Built-in styles live in assets/avatars/*.toml; a style file
only needs the keys it changes, the rest default to the "friendly" face below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from avatar import settings_schema as schema
from avatar.errors import ConfigError
from avatar.settings_schema import setting

STYLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "avatars"
DEFAULT_STYLE = "friendly"

RGB = tuple[int, int, int]


def _to_rgb(value) -> RGB:
    """A file's colour, "#rrggbb" or [r, g, b] with 0-255 each -> (r, g, b); ValueError for anything else."""
    if isinstance(value, str):
        m = re.fullmatch(r"#?([0-9a-fA-F]{6})", value.strip())
        if m:
            h = m.group(1)
            return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    elif (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        return (value[0], value[1], value[2])
    raise ValueError("not a colour")


def _colour(default: RGB):
    return setting(default, convert=_to_rgb, expects='a colour: "#rrggbb" or [r, g, b] with 0-255 each')


@dataclass(frozen=True)
class Colors:
    """Colours as (r, g, b); TOML gives "#rrggbb" or [r, g, b]."""

    background: RGB = _colour((46, 58, 78))
    background_bottom: RGB = _colour((28, 34, 48))  # vertical gradient; equal to background for a flat fill
    skin: RGB = _colour((250, 212, 172))
    outline: RGB = _colour((84, 52, 40))
    hair: RGB = _colour((92, 58, 40))
    brow: RGB = _colour((84, 52, 40))
    eye_white: RGB = _colour((255, 255, 255))
    iris: RGB = _colour((70, 120, 160))
    pupil: RGB = _colour((30, 26, 30))
    highlight: RGB = _colour((255, 255, 255))
    mouth: RGB = _colour((120, 40, 50))
    teeth: RGB = _colour((255, 255, 250))
    tongue: RGB = _colour((232, 110, 120))
    cheek: RGB = _colour((244, 140, 130))
    text: RGB = _colour((235, 235, 240))
    bubble: RGB = _colour((255, 255, 255))
    bubble_text: RGB = _colour((30, 30, 40))


@dataclass(frozen=True)
class Shape:
    """Proportions in face half-widths (x) from the face centre; y grows downwards."""

    face_fill: float = setting(0.84, low=0.3, high=1.0)  # face height (incl. hair) as a fraction of the window's
    face_aspect: float = setting(1.06, low=0.6, high=1.8)  # half-height / half-width
    face_roundness: float = setting(2.3, low=1.5, high=6.0)  # superellipse exponent: 2 is an ellipse, higher is squarer
    chin: float = setting(0.12, low=0.0, high=0.5)  # how much the lower half narrows
    eye_spacing: float = setting(0.36, low=0.1, high=0.7)
    eye_y: float = setting(-0.06, low=-0.8, high=0.6)
    eye_width: float = setting(0.15, low=0.03, high=0.4)
    eye_height: float = setting(0.17, low=0.03, high=0.4)
    iris_size: float = setting(0.78, low=0.1, high=1.2)  # iris radius / eye half-height
    pupil_size: float = setting(0.52, low=0.0, high=1.0)  # pupil radius / iris radius
    eye_whites: bool = setting(True)  # False: the eye is a dark dot with no white
    highlight: bool = setting(True)  # a catch-light in each eye
    brow_y: float = setting(-0.36, low=-1.0, high=0.4)
    brow_length: float = setting(0.34, low=0.05, high=0.6)
    mouth_y: float = setting(0.44, low=-0.2, high=0.95)
    mouth_width: float = setting(0.3, low=0.05, high=0.7)  # half-width
    mouth_rest_curve: float = setting(0.03, low=-0.2, high=0.2)  # a neutral mouth's smile; friendly faces rest slightly up
    nose_y: float = setting(0.17, low=-0.4, high=0.8)
    nose_size: float = setting(0.07, low=0.0, high=0.4)  # 0: no nose
    cheek_size: float = setting(0.17, low=0.0, high=0.5)  # blush radius; 0: no blush
    cheek_rest: float = setting(0.35, low=0.0, high=1.0)  # blush strength with a neutral face
    cheek_lines: bool = setting(False)  # smile lines under the eyes when the cheeks rise
    hair: bool = setting(True)
    ears: bool = setting(True)


@dataclass(frozen=True)
class Lines:
    """Line weights in face half-widths (at least one pixel is drawn)."""

    outline: float = setting(0.03, low=0.0, high=0.2)
    brow: float = setting(0.07, low=0.0, high=0.2)
    lid: float = setting(0.035, low=0.0, high=0.2)
    mouth: float = setting(0.035, low=0.0, high=0.2)
    nose: float = setting(0.03, low=0.0, high=0.2)


@dataclass(frozen=True)
class Gains:
    """How strongly each control moves in this style (1 is as the rig says)."""

    mouth_corner: float = setting(1.0, low=0.0, high=3.0)
    lips: float = setting(1.0, low=0.0, high=3.0)
    jaw: float = setting(1.0, low=0.0, high=3.0)
    lip_press: float = setting(1.0, low=0.0, high=3.0)
    brow_inner: float = setting(1.0, low=0.0, high=3.0)
    brow_outer: float = setting(1.0, low=0.0, high=3.0)
    lid: float = setting(1.0, low=0.0, high=3.0)
    cheek: float = setting(1.0, low=0.0, high=3.0)
    gaze: float = setting(1.0, low=0.0, high=3.0)
    head: float = setting(1.0, low=0.0, high=3.0)
    breath: float = setting(1.0, low=0.0, high=3.0)


@dataclass(frozen=True)
class Style:
    name: str = setting(DEFAULT_STYLE, max_len=60)  # a file without one is named after itself
    description: str = setting("", max_len=300)  # one line of `python -m avatar styles`
    path: str = ""
    colors: Colors = Colors()
    shape: Shape = Shape()
    lines: Lines = Lines()
    gains: Gains = Gains()


_SECTIONS = {"colors": Colors, "shape": Shape, "lines": Lines, "gains": Gains}


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
        return _parse(Path(name_or_path))
    path = STYLES_DIR / f"{text_arg}.toml"
    # A name is a file's stem here, so anything else (too long, a NUL, a control character) names no style.
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,60}", text_arg) or not path.is_file():
        names = sorted(p.stem for p in STYLES_DIR.glob("*.toml"))
        hint = schema.did_you_mean(text_arg, names, list_known=False)
        raise ConfigError(f"avatar style {schema.show(text_arg)}: unknown{hint}; built in: {', '.join(names) or '(none)'}, "
                          "or give a path to a .toml file")
    return _parse(path)


def _parse(path: Path) -> Style:
    doc = schema.read_toml(path)
    root = doc.place()
    top = schema.check_table(Style, doc.data, root, others=_SECTIONS)
    parts = {key: cls(**schema.check_table(cls, doc.data[key], root.at(key))) for key, cls in _SECTIONS.items() if key in doc.data}
    return Style(name=top.get("name", path.stem), description=top.get("description", ""), path=str(path), **parts)
