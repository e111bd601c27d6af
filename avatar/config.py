"""Config files: `--config FILE.toml` -> validated settings, with errors that name file, line and key.

At the edge, with the CLI: strings become enums here, once. Data only: tomllib, no eval, no pickle.
Flags given on the command line override the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from avatar.errors import ConfigError


@dataclass(frozen=True)
class Key:
    """One allowed key: its kind, its range or choices, and what it means."""

    kind: type  # bool, int, float, str, or an Enum
    help: str
    minimum: float | None = None
    maximum: float | None = None
    presets: dict[str, float] | None = None  # names that stand for numbers (familiarity)
    optional: bool = False  # may be left out to mean "not fixed"


def describe_kind(key: Key) -> str:
    if isinstance(key.kind, type) and issubclass(key.kind, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in key.kind)
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}[key.kind]


def key_line(text: str, section: str | None, key: str) -> int | None:
    """The 1-based line where `key` is set inside [section] (None if not found)."""
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if header and not stripped.startswith("[["):
            current = header.group(1).strip().strip('"')
            if section is not None and current == section and key == "":
                return number
            continue
        if current == section and re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line):
            return number
    return None


def read_toml(path: Path) -> tuple[dict, str]:
    """Parse a TOML file; a ConfigError names the file and the line of a syntax error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config file is a folder: {path}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text (UTF-8) TOML file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "invalid TOML"
        line = getattr(exc, "lineno", None)
        if line is None:
            found = re.search(r"line (\d+)", message)
            line = int(found.group(1)) if found else None
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where}: not valid TOML: {message}") from None
    return data, text


def check_value(value: Any, key: Key, where: str, name: str) -> Any:
    """Turn a TOML value into the key's kind, or raise a ConfigError that names `where` and `name`."""
    kind = key.kind
    if key.presets is not None and isinstance(value, str):
        if value in key.presets:
            return key.presets[value]
        close = difflib.get_close_matches(value, list(key.presets), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; give a number or one of {', '.join(key.presets)}"
        raise ConfigError(f"{where}: {name} = {value!r} is unknown{hint}")
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {name} must be {describe_kind(key)}, not {type(value).__name__}")
        try:
            return kind(value)
        except ValueError:
            names = [m.value for m in kind]
            close = difflib.get_close_matches(value, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{where}: {name} = {value!r} is unknown: choose from {', '.join(names)}{hint}") from None
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {name} must be true or false, not {type(value).__name__}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {name} must be a string, not {type(value).__name__}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {name} must be a whole number, not {type(value).__name__}")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {name} must be a number, not {type(value).__name__}")
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            raise ConfigError(f"{where}: {name} must be a finite number")
    if key.minimum is not None and value < key.minimum or key.maximum is not None and value > key.maximum:
        low = "" if key.minimum is None else f"{key.minimum:g}"
        high = "" if key.maximum is None else f"{key.maximum:g}"
        span = f"from {low} to {high}" if low and high else (f"at least {low}" if low else f"at most {high}")
        raise ConfigError(f"{where}: {name} = {value} is out of range: {span}")
    return value


def validate_section(data: Any, schema: dict[str, Key], path: Path, text: str, section: str) -> dict[str, Any]:
    """Check one table against its schema; unknown keys are errors with the closest known key."""
    if not isinstance(data, dict):
        line = key_line(text, None, section)
        raise ConfigError(f"{path}:{line or '?'}: {section} must be a table ([{section}])")
    values = {}
    for name, value in data.items():
        line = key_line(text, section, name)
        where = f"{path}:{line}" if line else str(path)
        if name not in schema:
            close = difflib.get_close_matches(name, list(schema), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(schema)}"
            raise ConfigError(f"{where}: unknown key {name!r} in [{section}]{hint}")
        values[name] = check_value(value, schema[name], where, f"[{section}] {name}")
    return values


# -- the run config ---------------------------------------------------------------------------


def empathy_schema() -> dict[str, Key]:
    """The [empathy] keys: every field of EmpathySettings, with ranges for the ones that have one."""
    from avatar.empathy import FAMILIARITY_PRESETS, EmpathySettings

    known = {
        "familiarity": Key(float, "0-1 or a preset; leave out to let it grow", 0.0, 1.0, dict(FAMILIARITY_PRESETS), optional=True),
        "load": Key(float, "the avatar's own simulated load", 0.0, 1.0),
        "delay_s": Key(float, "total lag of the delayed condition, s", 0.0, 60.0),
        "seed": Key(int, "makes every random choice reproducible"),
    }
    schema = {}
    for f in dataclasses.fields(EmpathySettings):
        if f.name in known:
            schema[f.name] = known[f.name]
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        if isinstance(default, enum.Enum):
            schema[f.name] = Key(type(default), f"one of {', '.join(m.value for m in type(default))}")
        elif isinstance(default, bool):
            schema[f.name] = Key(bool, "true or false")
        elif isinstance(default, int):
            schema[f.name] = Key(int, "a whole number", 0)
        elif isinstance(default, float):
            # Time constants, probabilities and weights: none of them may be negative.
            upper = 1.0 if any(w in f.name for w in ("probability", "floor", "weight", "chance")) else None
            schema[f.name] = Key(float, "a number", 0.0, upper)
    return schema


# Names a person would write for fields whose Python name carries a unit.
EMPATHY_ALIASES = {"delay": "delay_s"}

RUN_SCHEMA = {
    "source": Key(str, "camera, camera:N, demo, or a path"),
    "duration": Key(float, "seconds a still is held", 0.001, 86_400.0),
    "realtime": Key(bool, "pace a file like a camera"),
    "loop": Key(bool, "start a file again at its end"),
    "seed": Key(int, "makes every random choice reproducible"),
    "avatar": Key(str, "the avatar style, a name or a path"),
    "log_dir": Key(str, "where session folders go"),
}


def load_run_config(path: Path) -> dict[str, dict[str, Any]]:
    """Read a run config: {"empathy": {...EmpathySettings fields...}, "run": {...}}."""
    path = Path(path)
    data, text = read_toml(path)
    sections = {"empathy": empathy_schema(), "run": RUN_SCHEMA}
    result: dict[str, dict[str, Any]] = {}
    for section, table in data.items():
        if section not in sections:
            line = key_line(text, section, "") or key_line(text, None, section)
            close = difflib.get_close_matches(section, list(sections), n=1)
            hint = f"; did you mean [{close[0]}]?" if close else f"; known sections: {', '.join(sections)}"
            raise ConfigError(f"{path}:{line or '?'}: unknown section [{section}]{hint}")
        if section == "empathy" and isinstance(table, dict):
            table = {EMPATHY_ALIASES.get(k, k): v for k, v in table.items()}
            text_for_lines = text
            for alias, field_name in EMPATHY_ALIASES.items():
                text_for_lines = re.sub(rf"(?m)^(\s*){alias}(\s*=)", rf"\g<1>{field_name}\g<2>", text_for_lines)
            result[section] = validate_section(table, sections[section], path, text_for_lines, section)
        else:
            result[section] = validate_section(table, sections[section], path, text, section)
    return result
