"""Settings schemas: one TOML reader with a line finder, ranges declared once on dataclass fields, one error wording.

Under config, styles and protocol (the edge) and EmpathySettings; pure (standard library, avatar.errors) like empathy.

Every message has one shape, `FILE:LINE: KEY PATH[ = VALUE]: PROBLEM`, and loses only `FILE:LINE: ` when
the settings were built in Python. The key path is the dotted key a TOML file would use; the n-th
[[block]] is `block[n]`, counted from 1 as a reader counts them:

    c.toml:7: empathy.lapse_max = 2.0: must be from 0 to 1
    c.toml:7: empathy.lapse_mx: unknown key (did you mean lapse_max?)
    c.toml:7: empathy.load = "high": expected a number from 0 to 1 (got a string)
    c.toml:7: empathy.condition = "mimicry": must be one of mimic, delayed, sham, static (did you mean mimic?)
    study.toml:12: block[2].duration_s: missing, every [[block]] needs it
    c.toml:3: not valid TOML: Invalid value (column 9 of "eye_y =")
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import json
import math
import numbers
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from avatar.errors import ConfigError, first_line

SPEC_KEY = "avatar.settings_schema"  # the key of a field's metadata that holds its Spec
MISSING = dataclasses.MISSING
_NO_VALUE = object()  # a message about a key that has no value to show (unknown, missing)
_SHOWN_MAX = 40  # characters of a value quoted in a message; the line number finds the rest
_PATH_SHOWN_MAX = 160  # characters of a file name in a message: its start and its end, the middle cut
_KEY_SHOWN_MAX = 80  # characters of a key path in a message
MAX_FILE_BYTES = 1_000_000  # a settings file is a few kB; a larger one is a mistake or an attack, refused unread
MAX_DEPTH = 32  # lists and tables inside each other: ours use 3; tomllib recurses per level and gives out at a few hundred


# --- declaring settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What a settings field accepts beyond its annotated type (bool, int, float, str, an Enum, `| None`)."""

    low: float | None = None  # inclusive, unless low_open
    high: float | None = None  # inclusive
    soft_high: bool = False  # code may go above high (its user clips it, with a note); a file may not
    low_open: bool = False  # "above low": zero would silence or divide by zero
    less_than: str | None = None  # another setting this one must stay below (event_off < event_on)
    unit: str = ""  # said after a range in a message ("from 0 to 30 s")
    doc: str = ""
    names: Mapping[str, Any] | None = None  # words a file may give for a value ("friend" -> 0.9)
    aliases: tuple[str, ...] = ()  # other spellings a file may use for the key ("delay" for delay_s)
    max_len: int | None = None  # characters, for a string
    multiline: bool = False  # a string may hold newlines and tabs (text shown in paragraphs); no other control character
    pattern: str | None = None  # a string must match all of it ...
    pattern_doc: str = ""  # ... and this says how, in words
    convert: Callable[[Any], Any] | None = None  # a file's value -> the field's; ValueError if it is not one
    expects: str = ""  # what `convert` accepts, in words


def spec(**kwargs: Any) -> dict[str, Spec]:
    """Field metadata for `dataclasses.field(..., metadata=spec(low=0, high=1))`."""
    return {SPEC_KEY: Spec(**kwargs)}


def setting(default: Any = MISSING, *, above: float | None = None, **kwargs: Any) -> Any:
    """A dataclass field that is a setting: `load: float = setting(0.2, low=0, high=1)`.

    `above=x` is `low=x` with x itself refused. Without a default the key is required in a file.
    """
    if above is not None:
        kwargs.update(low=above, low_open=True)
    return dataclasses.field(default=default, metadata=spec(**kwargs))


@dataclass(frozen=True)
class Setting:
    """One settings field as the checks see it: its type from the annotation, its Spec from the metadata."""

    name: str
    kind: type  # bool, int, float, str, tuple (with a converter) or an Enum
    optional: bool  # None is a value (the annotation says `| None`)
    spec: Spec
    default: Any  # MISSING when a file must give it


@functools.cache  # derived from the class alone, so one cache serves every session; it saves re-reading annotations
def settings_of(cls: type) -> Mapping[str, Setting]:
    """The fields of a dataclass that are settings (those declared with `setting`/`spec`), in order."""
    hints = typing.get_type_hints(cls)
    found = {}
    for f in dataclasses.fields(cls):
        s = f.metadata.get(SPEC_KEY)
        if s is None:
            continue
        kind, optional = _kind(hints[f.name], f"{cls.__name__}.{f.name}")
        if kind is tuple and s.convert is None:
            raise TypeError(f"{cls.__name__}.{f.name}: a tuple setting needs a converter")
        default = f.default if f.default is not MISSING else (f.default_factory() if f.default_factory is not MISSING else MISSING)
        found[f.name] = Setting(f.name, kind, optional, s, default)
    return types.MappingProxyType(found)


def _kind(hint: Any, where: str) -> tuple[type, bool]:
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(rest) < len(typing.get_args(hint))
        if len(rest) != 1:
            raise TypeError(f"{where}: a setting has one type (or that type | None), not {hint}")
        hint = rest[0]
    hint = typing.get_origin(hint) or hint
    if hint in (bool, int, float, str, tuple) or (isinstance(hint, type) and issubclass(hint, enum.Enum)):
        return hint, optional
    raise TypeError(f"{where}: a setting is a bool, int, float, str, tuple or Enum, not {hint}")


# --- one wording ------------------------------------------------------------------------------------


def message(problem: str, path: tuple = (), value: Any = _NO_VALUE, file: str | None = None, line: int | None = None) -> str:
    """The one wording: `FILE:LINE: KEY PATH[ = VALUE]: PROBLEM` (the parts that are known)."""
    file = show_path(file) if file else file
    head = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
    place = key_path(path)
    shown = "" if value is _NO_VALUE else f" = {show(value)}"
    return f"{head}{place}{shown}: {problem}" if place else f"{head}{problem}"


def key_path(path: Iterable[str | int]) -> str:
    """("empathy", "load") -> empathy.load; ("block", 1, "name") -> block[2].name (counted from 1)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            text = str(part)
            if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
                text = _printable(json.dumps(_cut(text, _SHOWN_MAX), ensure_ascii=False))
            out += f".{_cut(text, _SHOWN_MAX)}" if out else _cut(text, _SHOWN_MAX)
        if len(out) > _KEY_SHOWN_MAX:
            return _cut(out, _KEY_SHOWN_MAX)
    return out


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters: the start of the text and "…" when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_path(path: Any, limit: int = _PATH_SHOWN_MAX) -> str:
    """A file name for a message: on one line (control characters escaped) and at most `limit` characters.

    A longer one keeps its start (where it is) and its end (the file's own name), joined by "…".
    """
    text = _printable(str(path))
    if len(text) <= limit:
        return text
    tail = (limit - 1) * 2 // 3
    return text[: limit - 1 - tail] + "…" + text[-tail:]


def show(value: Any, _depth: int = 0) -> str:
    """A value as TOML would spell it, on one line and cut short (lists deeper than two levels as [...])."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return show(value.value, _depth)
    if isinstance(value, str):
        text = json.dumps(value[: _SHOWN_MAX * 2], ensure_ascii=False)  # a megabyte string is cut before it is escaped
    elif isinstance(value, dict):
        text = "{...}"
    elif isinstance(value, (list, tuple)):
        if _depth >= 2 and value:
            text = "[...]"
        else:
            text = "[" + ", ".join(show(v, _depth + 1) for v in value[:8]) + (", ...]" if len(value) > 8 else "]")
    else:
        try:
            text = repr(value) if isinstance(value, float) else str(value)
        except ValueError:  # an int too long for str() (Python 3.11's digit limit)
            text = "a very long number"
    return _cut(_printable(text), _SHOWN_MAX)


def _printable(text: str) -> str:
    # A message is one line: a newline, NUL or line separator in a key or value is shown escaped.
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def did_you_mean(word: Any, known: Iterable[str], list_known: bool = True) -> str:
    """` (did you mean X?)` for the closest known word, else ` (known: a, b, c)` (or nothing)."""
    known = [str(k) for k in known]
    # A word far longer than any known one resembles none of them (and difflib would take its time to say so).
    close = difflib.get_close_matches(str(word), known, n=1, cutoff=0.6) if len(str(word)) <= 200 else []
    if close:
        return f" (did you mean {close[0]}?)"
    return f" (known: {', '.join(known)})" if list_known and known else ""


def type_name(value: Any) -> str:
    """What a value is, in a message: "a string", "a table", ..."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, numbers.Integral):
        return "a whole number"
    if isinstance(value, numbers.Real):
        return "a decimal number"
    names = {str: "a string", list: "a list", tuple: "a list", dict: "a table"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a date or time" if type(value).__module__ == "datetime" else f"a {type(value).__name__}"


def range_words(s: Spec) -> str:
    """A range in words: "from 0 to 1", "above 0", "at least 0", "at most 30 s"."""
    unit = f" {s.unit}" if s.unit else ""
    low, high = _number_text(s.low), _number_text(s.high)
    if s.low is not None and s.high is not None:
        return f"above {low} and at most {high}{unit}" if s.low_open else f"from {low} to {high}{unit}"
    if s.low is not None:
        return f"above {low}{unit}" if s.low_open else f"at least {low}{unit}"
    return f"at most {high}{unit}" if s.high is not None else "any number"


def _number_text(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


def expected(s: Setting, from_file: bool = True) -> str:
    """What a setting accepts, in words: "a number from 0 to 1 or one of stranger, friend"."""
    sp = s.spec
    if sp.convert is not None:
        return sp.expects or "a valid value"
    if isinstance(s.kind, type) and issubclass(s.kind, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in s.kind)
    words = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}[s.kind]
    if s.kind in (int, float) and (sp.low is not None or sp.high is not None):
        words += " " + range_words(sp)
    if from_file and sp.names:
        words += " or one of " + ", ".join(sp.names)
    return words


# --- reading a TOML file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TomlFile:
    """A parsed TOML document and its text, so that a message can point at the line of any key."""

    path: str
    text: str
    data: Any  # a dict from tomllib; anything when a caller hands over its own document

    @functools.cached_property
    def _lines(self) -> dict[tuple, int]:
        return _key_lines(self.text)

    def line(self, *path: str | int) -> int | None:
        """The 1-based line of a key path, e.g. ("empathy", "lapse_max") or ("block", 1, "duration_s").

        A key the file does not give (a missing one) gets the line of its table's header.
        """
        for n in range(len(path), 0, -1):
            found = self._lines.get(tuple(path[:n]))
            if found is not None:
                return found
        return None

    def place(self, *path: str | int) -> Place:
        return Place(self, tuple(path))


@dataclass(frozen=True)
class Place:
    """Where a value sits: a key path, and the file it came from (None when built in Python)."""

    source: TomlFile | None = None
    path: tuple = ()

    def at(self, *more: str | int) -> Place:
        return Place(self.source, self.path + more)

    def error(self, problem: str, value: Any = _NO_VALUE) -> ConfigError:
        if self.source is None:
            return ConfigError(message(problem, self.path, value))
        return ConfigError(message(problem, self.path, value, self.source.path, self.source.line(*self.path)))


def read_toml(path: str | Path) -> TomlFile:
    """Read and parse a TOML file; every way it can fail is one ConfigError line with file (and line).

    A file larger than MAX_FILE_BYTES is refused before it is read, and a name the system cannot open (too long,
    a NUL in it) is one line too; a long name is cut in the message (`show_path`).
    """
    path = Path(path)
    shown = show_path(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{shown}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{shown}: is a folder, not a file") from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read it: {exc.strerror or first_line(exc)}") from None
    except ValueError:  # "embedded null byte": no file can have that name
        raise ConfigError(f"{shown}: not a usable file name (it holds a NUL character)") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{shown}: too large for a settings file (more than {MAX_FILE_BYTES // 1_000_000} MB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{shown}:{line}: not UTF-8 text (byte {exc.start})") from None
    return parse_toml(text, str(path))


def parse_toml(text: str, path: str = "<toml>") -> TomlFile:
    """Parse TOML text; only a ConfigError escapes, whatever the text.

    Beyond the syntax it refuses text over MAX_FILE_BYTES and values nested more than MAX_DEPTH deep
    (tomllib recurses once per level, and so would every check after it).
    """
    shown = show_path(path)
    if len(text) > MAX_FILE_BYTES:
        raise ConfigError(f"{shown}: too large for a settings file (more than {MAX_FILE_BYTES // 1_000_000} MB)")
    nul = text.find("\x00")
    if nul >= 0:
        line, column = text.count("\n", 0, nul) + 1, nul - text.rfind("\n", 0, nul)
        raise ConfigError(f"{shown}:{line}: not valid TOML: a NUL byte (column {column})")
    too_deep = _line_nested_too_deep(text)
    if too_deep is not None:
        raise ConfigError(f"{shown}:{too_deep}: {_TOO_DEEP}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_message(str(exc), text, path)) from None
    except RecursionError:  # nesting the scan above did not see (it is a sketch of TOML, not a parser)
        raise ConfigError(f"{shown}: {_TOO_DEEP}") from None
    except (ValueError, OverflowError) as exc:  # tomllib's own limits on odd input (a number of 5000 digits)
        raise ConfigError(f"{shown}: not valid TOML: {_cut(_printable(first_line(exc)), 80)}") from None
    doc = TomlFile(path, text, data)
    _check_depth(doc)
    return doc


_TOO_DEEP = f"lists or tables nested more than {MAX_DEPTH} levels deep (a settings file needs three)"


def _line_nested_too_deep(text: str) -> int | None:
    """The line where inline lists and tables ([ and {) first nest beyond MAX_DEPTH, or None.

    A scan of TOML's brackets, strings and comments, run before tomllib so that deep nesting is refused with its
    line before tomllib's recursion gives out; a [table] header's brackets open nothing.
    """
    depth, line, i, n = 0, 1, 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            at_line_start = True
            i += 1
            continue
        if c in " \t\r":
            i += 1
            continue
        if at_line_start and c == "[" and depth == 0:  # a [table] or [[table]] header: skip the line's key
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        at_line_start = False
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c in "\"'":
            quotes = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else c
            j = i + len(quotes)
            while j < n and not text.startswith(quotes, j):
                if c == '"' and text[j] == "\\":
                    j += 1
                elif len(quotes) == 1 and text[j] == "\n":
                    break  # an unclosed one-line string: tomllib will say so
                j += 1
            line += text.count("\n", i, j)
            i = j + len(quotes)
        else:
            if c in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return line
            elif c in "]}":
                depth = max(0, depth - 1)
            i += 1
    return None


def _check_depth(doc: TomlFile) -> None:
    """Refuse a document nested deeper than MAX_DEPTH (dotted keys and table headers nest without brackets)."""
    todo: list[tuple[Any, tuple, int]] = [(doc.data, (), 0)]
    while todo:
        value, path, depth = todo.pop()
        if depth > MAX_DEPTH:
            while path and isinstance(path[-1], int):
                path = path[:-1]
            raise Place(doc, path[:MAX_DEPTH]).error(_TOO_DEEP)
        if isinstance(value, dict):
            todo.extend((v, path + (k,), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            todo.extend((v, path + (i,), depth + 1) for i, v in enumerate(value))


def _syntax_message(reason: str, text: str, path: str) -> str:
    reason = reason.splitlines()[0].strip() if reason.strip() else "invalid TOML"
    lines = text.split("\n")
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", reason)
    if found:
        line, column = int(found.group(1)), int(found.group(2))
        reason = reason[: found.start()]
    else:
        # tomllib says "at end of document": point at the last line that holds anything.
        line = max((n for n, raw in enumerate(lines, start=1) if raw.strip()), default=1)
        column = None
        reason = re.sub(r"\s*\(at end of document\)$", "", reason)
    source = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    where = f"column {column} of {show(source)}" if column and source else (show(source) if source else "")
    return f"{show_path(path)}:{line}: not valid TOML: {_cut(_printable(reason), 80)}" + (f" ({where})" if where else "")


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _read_key(s: str, i: int) -> tuple[list[str], int] | None:
    """A dotted TOML key from s[i] -> its parts and where it ends (None if there is no key there)."""
    parts = []
    while True:
        while i < len(s) and s[i] in " \t":
            i += 1
        if i < len(s) and s[i] == '"':
            end = i + 1
            while end < len(s) and s[end] != '"':
                end += 2 if s[end] == "\\" else 1
            try:
                parts.append(json.loads(s[i : end + 1]))
            except ValueError:  # a TOML escape JSON lacks (\e, \x): the key as written will do
                parts.append(s[i + 1 : end])
            i = end + 1
        elif i < len(s) and s[i] == "'":
            end = s.find("'", i + 1)
            if end < 0:
                return None
            parts.append(s[i + 1 : end])
            i = end + 1
        else:
            bare = _BARE_KEY.match(s, i)
            if not bare:
                return None
            parts.append(bare.group())
            i = bare.end()
        while i < len(s) and s[i] in " \t":
            i += 1
        if i < len(s) and s[i] == ".":
            i += 1
            continue
        return parts, i


def _key_lines(text: str) -> dict[tuple, int]:
    """Each key path in the text -> the 1-based line that sets it (tomllib keeps no positions)."""
    found: dict[tuple, int] = {}
    table: tuple = ()
    arrays: dict[tuple, int] = {}  # an array of tables -> the index of its last [[header]]
    in_string: str | None = None  # the quotes of a multi-line string that is still open

    def resolve(parts: list[str]) -> tuple:
        path: tuple = ()
        for part in parts:
            path += (part,)
            if path in arrays:  # [a.b] under [[a]] belongs to a's last element
                path += (arrays[path],)
        return path

    for number, raw in enumerate(text.split("\n"), start=1):
        rest = raw
        if in_string is not None:
            if in_string not in raw:
                continue
            rest, in_string = raw.split(in_string, 1)[1], None
        else:
            stripped = raw.strip()
            if stripped.startswith("[["):
                key = _read_key(stripped, 2)
                if key:
                    parent = resolve(key[0][:-1]) + (key[0][-1],)
                    arrays[parent] = arrays.get(parent, -1) + 1
                    found.setdefault(parent, number)
                    table = parent + (arrays[parent],)
                    found[table] = number
                continue
            if stripped.startswith("["):
                key = _read_key(stripped, 1)
                if key:
                    table = resolve(key[0])
                    found.setdefault(table, number)
                continue
            key = _read_key(raw, 0)
            if key and key[1] < len(raw) and raw[key[1]] == "=":
                for n in range(1, len(key[0]) + 1):
                    found.setdefault(table + tuple(key[0][:n]), number)
                rest = raw[key[1] + 1 :]
        for quotes in ('"""', "'''"):
            if rest.count(quotes) % 2:
                in_string = quotes
                break
    return found


# --- checking values ----------------------------------------------------------------------------------


def check_keys(table: Mapping, known: Iterable[str], place: Place) -> None:
    """Refuse a key that is not known, with the closest known one as a hint."""
    known = list(known)
    for key, value in table.items():
        if key not in known:
            what = "unknown section" if isinstance(value, dict) and not place.path else "unknown key"
            raise place.at(key).error(what + did_you_mean(key, known))


def check_table(cls: type, table: Any, place: Place, required: Iterable[str] | None = None,
                others: Iterable[str] = ()) -> dict[str, Any]:
    """A file's table -> {field name: value} for the keys it gives, each checked against cls's settings.

    `required` defaults to the settings without a default; `others` are keys checked elsewhere (skipped here,
    but offered as hints). Settings declared `less_than` another are checked against the given or default value.
    """
    if not isinstance(table, dict):
        raise place.error(f"expected a table (got {type_name(table)})", table)
    settings = settings_of(cls)
    others = tuple(others)
    spelled = {alias: name for name, s in settings.items() for alias in (name, *s.spec.aliases)}
    check_keys(table, [*spelled, *others], place)
    values: dict[str, Any] = {}
    written: dict[str, str] = {}
    for key, value in table.items():
        if key in others:
            continue
        name = spelled[key]
        if name in written:
            raise place.at(key).error(f"given twice (also as {written[name]})")
        values[name] = _check(settings[name], value, place.at(key), from_file=True)
        written[name] = key
    needed = [n for n, s in settings.items() if s.default is MISSING] if required is None else list(required)
    for name in needed:
        if name not in values:
            raise place.at(name).error("missing, " + (f"every [[{place.path[-2]}]] needs it" if len(place.path) >= 2
                                                      and isinstance(place.path[-1], int) else "it is required"))
    _check_order(settings, values, place, written)
    return values


def check_value(cls: type, name: str, value: Any, place: Place | None = None, from_file: bool = True) -> Any:
    """One value for one setting of cls -> the field's value (a file's names and enum strings turned into it)."""
    place = place if place is not None else Place(None, (name,))
    return _check(settings_of(cls)[name], value, place, from_file)


def validate_settings(obj: Any, section: str) -> None:
    """Check a settings dataclass built in Python: the file's wording, without file and line."""
    settings = settings_of(type(obj))
    place = Place(None, (section,))
    values = {}
    for name, s in settings.items():
        values[name] = getattr(obj, name)
        _check(s, values[name], place.at(name), from_file=False)
    _check_order(settings, values, place, {name: name for name in settings})


def _check(s: Setting, value: Any, place: Place, from_file: bool) -> Any:
    sp = s.spec

    def wrong_type() -> ConfigError:
        return place.error(f"expected {expected(s, from_file)} (got {type_name(value)})", value)

    if value is None:
        if s.optional:
            return None
        raise wrong_type()
    if from_file and sp.names is not None and isinstance(value, str):
        if value in sp.names:
            return sp.names[value]
        raise place.error(f"must be {expected(s)}" + did_you_mean(value, sp.names, list_known=False), value)
    if sp.convert is not None:
        if not from_file:
            return value
        try:
            return sp.convert(value)
        except (ValueError, TypeError):
            raise place.error(f"must be {expected(s)}", value) from None
    kind = s.kind
    if issubclass(kind, enum.Enum):
        if isinstance(value, kind):
            return value
        if from_file and isinstance(value, str):
            try:
                return kind(value)
            except ValueError:
                choices = [str(m.value) for m in kind]
                raise place.error(f"must be {expected(s)}" + did_you_mean(value, choices, list_known=False), value) from None
        raise wrong_type()
    if kind is bool or kind is str:
        if not isinstance(value, kind):
            raise wrong_type()
        if kind is str:
            _check_text(value, sp, place)
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise wrong_type()
    if kind is int and not isinstance(value, numbers.Integral):
        raise place.error("must be a whole number", value)
    if kind is float:
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int beyond any float: its range, if it has one, says more than "finite"
            finite = sp.high is not None and sp.low is not None
        if not finite:
            raise place.error("must be a finite number", value)
    too_high = sp.high is not None and value > sp.high and (from_file or not sp.soft_high)
    if (sp.low is not None and (value < sp.low or (sp.low_open and value == sp.low))) or too_high:
        raise place.error(f"must be {range_words(sp)}", value)
    if not from_file:
        return value
    return float(value) if kind is float else int(value)


def _check_text(value: str, sp: Spec, place: Place) -> None:
    control = next((c for c in value if _is_control(c) and not (sp.multiline and c in "\n\t")), None)
    if control is not None:
        allowed = " (newlines and tabs are allowed)" if sp.multiline else ""
        raise place.error(f"must not hold control characters such as {_printable(control)}{allowed}", value)
    if sp.max_len is not None and len(value) > sp.max_len:
        raise place.error(f"must be at most {sp.max_len} characters long (it has {len(value)})", value)
    if sp.pattern is not None and not re.fullmatch(sp.pattern, value):
        raise place.error(f"must be {sp.pattern_doc or 'of the form ' + sp.pattern}", value)


def _is_control(c: str) -> bool:
    """A C0 or C1 control character, DEL, a line or paragraph separator, or a lone surrogate."""
    return c < " " or "\x7f" <= c <= "\x9f" or c in "\u2028\u2029" or "\ud800" <= c <= "\udfff"


def _check_order(settings: Mapping[str, Setting], values: dict[str, Any], place: Place, written: dict[str, str]) -> None:
    """`less_than` pairs; the key that was given is blamed, so a file's message points at its line."""
    for name, s in settings.items():
        other = s.spec.less_than
        if other is None or (name not in values and other not in values):
            continue
        low = values.get(name, s.default)
        high = values.get(other, settings[other].default)
        if any(v is None or v is MISSING for v in (low, high)) or low < high:
            continue
        if name in values:
            raise place.at(written[name]).error(f"must be below {other} ({show(high)})", low)
        raise place.at(written[other]).error(f"must be above {name} ({show(low)})", high)
