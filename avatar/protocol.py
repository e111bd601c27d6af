"""Study protocols: a TOML file of blocks -> a validated, frozen `Protocol`, and the block order.

Used by the study mode (avatar.modes.study) on top of the loop. Pure: no pygame, cv2 or mediapipe.
A bad file gives one ConfigError line naming the file, the line and the key; nothing is evaluated.

    [protocol]
    name = "example"
    counterbalance = "latin"     # none | latin | shuffle
    seed = 1                     # for shuffle
    break_s = 5                  # a break between blocks (Space skips it)
    instruction_s = 4            # how long a block's instruction is shown before it

    [[block]]
    name = "mimic"
    duration_s = 20
    condition = "mimic"          # mimic | delayed | sham | static
    familiarity = "stranger"     # 0-1, stranger/acquaintance/friend, or "grow"
    load = 0.2
    delay_s = 4                  # the delayed condition's total lag
    mapping = "mirror"           # optional: mirror | anatomical
    instruction = "Look at the face."   # optional
"""

from __future__ import annotations

import difflib
import hashlib
import math
import random
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from avatar.empathy import FAMILIARITY_PRESETS, Condition, Mapping
from avatar.errors import ConfigError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - 3.10
    import tomli as tomllib  # type: ignore[no-redef]

MAX_BLOCKS = 64
MAX_DURATION_S = 3600.0  # one block of an hour is already long for a face study
MAX_BREAK_S = 600.0
MAX_DELAY_S = 30.0
MAX_TEXT = 2000


class Counterbalance(Enum):
    NONE = "none"  # the blocks in the file's order
    LATIN = "latin"  # a balanced Latin square (Williams design) row chosen by participant number
    SHUFFLE = "shuffle"  # a shuffle seeded by the protocol's seed and the participant ID


@dataclass(frozen=True)
class Block:
    name: str
    duration_s: float
    condition: Condition
    familiarity: float | None  # None: familiarity grows from its start, as in the plain mirror
    load: float
    delay_s: float
    mapping: Mapping = Mapping.MIRROR
    instruction: str = ""
    fixed: bool = False  # keeps its place when the others are counterbalanced (e.g. a practice block)

    def to_json(self) -> dict:
        return {
            "name": self.name, "duration_s": self.duration_s, "condition": self.condition.value,
            "familiarity": self.familiarity, "load": self.load, "delay_s": self.delay_s,
            "mapping": self.mapping.value, "instruction": self.instruction, "fixed": self.fixed,
        }


@dataclass(frozen=True)
class Protocol:
    name: str
    blocks: tuple[Block, ...]
    counterbalance: Counterbalance = Counterbalance.NONE
    seed: int = 0
    break_s: float = 5.0
    instruction_s: float = 4.0
    path: str = ""
    sha256: str = ""
    text: str = field(default="", repr=False)

    @property
    def total_s(self) -> float:
        """Session time with no break skipped: instructions, blocks and the breaks between them."""
        blocks = sum(b.duration_s for b in self.blocks)
        instructions = sum(self.instruction_s for b in self.blocks if b.instruction)
        return blocks + instructions + self.break_s * max(0, len(self.blocks) - 1)

    def to_json(self) -> dict:
        return {
            "name": self.name, "path": self.path, "sha256": self.sha256,
            "counterbalance": self.counterbalance.value, "seed": self.seed, "break_s": self.break_s,
            "instruction_s": self.instruction_s, "blocks": [b.to_json() for b in self.blocks], "text": self.text,
        }


# --- the keys a file may hold -------------------------------------------------------------------

PROTOCOL_KEYS = ("name", "counterbalance", "seed", "break_s", "instruction_s")
BLOCK_KEYS = ("name", "duration_s", "condition", "familiarity", "load", "delay_s", "mapping", "instruction", "fixed")
TOP_KEYS = ("protocol", "block")
DEFAULT_LOAD = 0.2
DEFAULT_DELAY_S = 4.0


class _Where:
    """Finds the line of a key in the file's text, so a message can point at it (tomllib keeps none)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\"'-]+)\s*=")

    def __init__(self, path: str, text: str):
        self.path = path
        self.lines = text.splitlines()

    def line(self, table: str | None, index: int | None = None, key: str | None = None) -> int | None:
        """1-based line of `key` in [table] (or the index-th [[table]]), else of the table's header."""
        current, count, header_line = None, -1, None
        for number, raw in enumerate(self.lines, start=1):
            header = self._HEADER.match(raw)
            if header:
                name = header.group(2).strip().strip("\"'")
                current = name
                if name == table:
                    count += 1
                    if index is None or count == index:
                        header_line = number
                continue
            if current == table and (index is None or count == index) and key is not None:
                match = self._KEY.match(raw)
                if match and match.group(1).strip("\"'") == key:
                    return number
            if table is None and current is None and key is not None:
                match = self._KEY.match(raw)
                if match and match.group(1).strip("\"'") == key:
                    return number
        return header_line

    def error(self, message: str, table: str | None = None, index: int | None = None, key: str | None = None) -> ConfigError:
        number = self.line(table, index, key)
        at = f" line {number}" if number else ""
        return ConfigError(f"protocol {self.path}{at}: {message}")


def _hint(key: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else f" (allowed: {', '.join(allowed)})"


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__)


def _number(value: Any, what: str, lo: float, hi: float, err, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise err(f"{what} must be {'a whole number' if integer else 'a number'}, not {_type_name(value)}")
    if integer and not isinstance(value, int):
        raise err(f"{what} must be a whole number, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise err(f"{what} must be a finite number, not {value!r}")
    if not lo <= value <= hi:
        raise err(f"{what} {value!r} is out of range: give {lo:g} to {hi:g}")
    return value if integer else float(value)


def _text(value: Any, what: str, err, max_len: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise err(f"{what} must be text, not {_type_name(value)}")
    if len(value) > max_len:
        raise err(f"{what} is too long ({len(value)} characters; at most {max_len})")
    return value


def _enum(value: Any, kind: type[Enum], what: str, err):
    names = tuple(member.value for member in kind)
    if not isinstance(value, str):
        raise err(f"{what} must be one of {', '.join(names)}, not {_type_name(value)}")
    try:
        return kind(value)
    except ValueError:
        raise err(f"{what} {value!r} is unknown{_hint(value, names)}") from None


def _familiarity(value: Any, what: str, err) -> float | None:
    if isinstance(value, str):
        if value == "grow":
            return None
        if value in FAMILIARITY_PRESETS:
            return FAMILIARITY_PRESETS[value]
        raise err(f"{what} {value!r} is unknown{_hint(value, (*FAMILIARITY_PRESETS, 'grow'))}")
    return _number(value, what, 0.0, 1.0, err)


def _check_keys(table: dict, allowed: tuple[str, ...], where: _Where, table_name: str | None, index: int | None, label: str) -> None:
    for key in table:
        if key not in allowed:
            raise where.error(f"{label}key {key!r} is unknown{_hint(str(key), allowed)}", table_name, index, str(key))


def parse_protocol(data: Any, path: str = "<protocol>", text: str = "") -> Protocol:
    """A parsed TOML document -> Protocol; every problem is a one-line ConfigError."""
    where = _Where(path, text)
    if not isinstance(data, dict):
        raise where.error("the file must hold a [protocol] table and [[block]] tables")
    _check_keys(data, TOP_KEYS, where, None, None, "top-level ")
    head = data.get("protocol", {})
    if not isinstance(head, dict):
        raise where.error("protocol must be a table: [protocol]", None, None, "protocol")
    _check_keys(head, PROTOCOL_KEYS, where, "protocol", None, "[protocol] ")

    def head_err(key: str):
        return lambda message: where.error(f"[protocol] {message}", "protocol", None, key)

    default_name = Path(path).stem if path and not path.startswith("<") else "protocol"
    name = _text(head.get("name", default_name), "name", head_err("name"), 60)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise head_err("name")(f"name {name!r} must be letters, digits, '-', '_' or '.' (it names the session folder)")
    counterbalance = _enum(head.get("counterbalance", "none"), Counterbalance, "counterbalance", head_err("counterbalance"))
    seed = int(_number(head.get("seed", 0), "seed", 0, 2**31 - 1, head_err("seed"), integer=True))
    break_s = _number(head.get("break_s", 5.0), "break_s", 0.0, MAX_BREAK_S, head_err("break_s"))
    instruction_s = _number(head.get("instruction_s", 4.0), "instruction_s", 0.0, MAX_BREAK_S, head_err("instruction_s"))

    raw_blocks = data.get("block")
    if raw_blocks is None:
        raise where.error("no blocks: add at least one [[block]] table")
    if not isinstance(raw_blocks, list) or not raw_blocks:
        raise where.error("block must be a list of tables: write each as [[block]]", None, None, "block")
    if len(raw_blocks) > MAX_BLOCKS:
        raise where.error(f"too many blocks ({len(raw_blocks)}; at most {MAX_BLOCKS})", "block")
    blocks: list[Block] = []
    for i, raw in enumerate(raw_blocks):
        if not isinstance(raw, dict):
            raise where.error(f"block {i + 1} must be a table: write it as [[block]]", None, None, "block")
        label = f"block {i + 1}" + (f" ({raw['name']!r})" if isinstance(raw.get("name"), str) else "")
        _check_keys(raw, BLOCK_KEYS, where, "block", i, f"{label}: ")

        def err_for(key: str, label: str = label, i: int = i):
            return lambda message: where.error(f"{label}: {message}", "block", i, key)

        for required in ("name", "duration_s", "condition"):
            if required not in raw:
                raise where.error(f"{label}: {required} is missing", "block", i)
        block_name = _text(raw["name"], "name", err_for("name"), 40)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", block_name):
            raise err_for("name")(f"name {block_name!r} must be letters, digits, '-', '_' or '.'")
        if any(b.name == block_name for b in blocks):
            raise err_for("name")(f"name {block_name!r} is used by an earlier block; names must be unique")
        blocks.append(Block(
            name=block_name,
            duration_s=_number(raw["duration_s"], "duration_s", 0.5, MAX_DURATION_S, err_for("duration_s")),
            condition=_enum(raw["condition"], Condition, "condition", err_for("condition")),
            familiarity=_familiarity(raw.get("familiarity", "grow"), "familiarity", err_for("familiarity")),
            load=_number(raw.get("load", DEFAULT_LOAD), "load", 0.0, 1.0, err_for("load")),
            delay_s=_number(raw.get("delay_s", DEFAULT_DELAY_S), "delay_s", 0.0, MAX_DELAY_S, err_for("delay_s")),
            mapping=_enum(raw.get("mapping", "mirror"), Mapping, "mapping", err_for("mapping")),
            instruction=_text(raw.get("instruction", ""), "instruction", err_for("instruction")).strip(),
            fixed=_flag(raw.get("fixed", False), "fixed", err_for("fixed")),
        ))
    return Protocol(name=name, blocks=tuple(blocks), counterbalance=counterbalance, seed=seed, break_s=break_s,
                    instruction_s=instruction_s, path=path, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), text=text)


def _flag(value: Any, what: str, err) -> bool:
    if not isinstance(value, bool):
        raise err(f"{what} must be true or false, not {_type_name(value)}")
    return value


def parse_protocol_text(text: str, path: str = "<protocol>") -> Protocol:
    """TOML text -> Protocol. Only ConfigError escapes, whatever the text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"protocol {path}: not valid TOML: {exc}") from None
    except (ValueError, RecursionError, OverflowError) as exc:  # tomllib's own limits on odd input
        raise ConfigError(f"protocol {path}: not valid TOML: {type(exc).__name__}") from None
    return parse_protocol(data, path, text)


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a protocol file; its SHA-256 is of the file's bytes."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"--protocol {path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"--protocol {path}: cannot read it: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"protocol {path}: not UTF-8 text (byte {exc.start})") from None
    protocol = parse_protocol_text(text, str(path))
    from dataclasses import replace

    return replace(protocol, sha256=hashlib.sha256(raw).hexdigest())


# --- block order ----------------------------------------------------------------------------------

def williams_square(n: int) -> list[list[int]]:
    """A balanced Latin square (Williams 1949): each block follows each other equally often.

    n rows for an even n; 2n rows (each row and its reverse) for an odd n.
    """
    if n <= 0:
        return [[]]
    first, lo, hi = [0], 1, n - 1
    for j in range(1, n):  # 0, 1, n-1, 2, n-2, ...
        if j % 2:
            first.append(lo)
            lo += 1
        else:
            first.append(hi)
            hi -= 1
    rows = [[(x + r) % n for x in first] for r in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return rows


def participant_number(participant: str) -> int | None:
    """The number in an ID (P07 -> 7, sub-12 -> 12): the last run of digits, or None."""
    digits = re.findall(r"\d+", participant)
    return int(digits[-1]) if digits else None


def block_order(protocol: Protocol, participant: str) -> list[int]:
    """Indices into protocol.blocks, in the order this participant runs them. Fixed blocks stay put."""
    n = len(protocol.blocks)
    movable = [i for i, b in enumerate(protocol.blocks) if not b.fixed]
    if protocol.counterbalance is Counterbalance.NONE or len(movable) < 2:
        return list(range(n))
    if protocol.counterbalance is Counterbalance.LATIN:
        rows = williams_square(len(movable))
        number = participant_number(participant)
        if number is None:  # no digits: a stable row from the ID's hash (documented in docs/study.md)
            number = int(hashlib.sha256(participant.encode("utf-8")).hexdigest()[:8], 16)
        row = rows[(number - 1) % len(rows)] if number > 0 else rows[0]
        permuted = [movable[k] for k in row]
    else:
        permuted = list(movable)
        random.Random(f"{protocol.seed}-{participant}").shuffle(permuted)
    order, it = [], iter(permuted)
    for i, b in enumerate(protocol.blocks):
        order.append(i if b.fixed else next(it))
    return order
