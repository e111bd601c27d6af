"""Study protocols: a TOML file of blocks -> a validated, frozen `Protocol`, and the block order.

Used by the study mode (avatar.modes.study) on top of the loop. Pure: no pygame, cv2 or mediapipe.
A bad file gives one ConfigError line naming the file, the line and the key (avatar.settings_schema's
wording, as for config and style files); nothing is evaluated.

    [protocol]
    name = "example"
    counterbalance = "latin"     # none | latin | shuffle
    seed = 1                     # for shuffle
    break_s = 5                  # a break between blocks (Space skips it)
    instruction_s = 4            # how long a block's instruction is shown before it
    answer_pause_s = 0.5         # a questionnaire's answer stays on screen this long before the next item
    end_text = "Thank you!"      # optional: the thank-you screen after the last block
    end_s = 0                    # how long it stays; 0 (default): until the experimenter presses Enter or Esc

    [[block]]
    name = "mimic"
    duration_s = 20
    condition = "mimic"          # mimic | delayed | sham | static
    familiarity = "stranger"     # 0-1, stranger/acquaintance/friend, or "grow"
    load = 0.2
    delay_s = 4                  # the delayed condition's total lag
    mapping = "mirror"           # optional: mirror | anatomical
    instruction = "Look at the face."   # optional

    [[questionnaire]]            # optional: ratings after blocks (avatar.questionnaire, docs/study.md)
    after = "each_block"
    [[questionnaire.item]]
    id = "likeable"
    text = "How likeable was the face?"
    kind = "likert"
    low = "not at all"
    high = "very much"
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from avatar import settings_schema as schema
from avatar.empathy import FAMILIARITY_PRESETS, Condition, Mapping
from avatar.questionnaire import Questionnaire, parse_questionnaires
from avatar.settings_schema import setting

MAX_BLOCKS = 64
MAX_DURATION_S = 3600.0  # one block of an hour is already long for a face study
MAX_BREAK_S = 600.0
MAX_DELAY_S = 30.0
MAX_TEXT = 2000
DEFAULT_LOAD = 0.2
DEFAULT_DELAY_S = 4.0
# Names end up in folder and file names, so only characters that are safe in both.
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
NAME_RULE = "letters, digits, '-', '_' or '.', starting with a letter or digit"


class Counterbalance(Enum):
    NONE = "none"  # the blocks in the file's order
    LATIN = "latin"  # a balanced Latin square (Williams design) row chosen by participant number
    SHUFFLE = "shuffle"  # a shuffle seeded by the protocol's seed and the participant ID


@dataclass(frozen=True)
class Block:
    """One [[block]] of a protocol file; `name`, `duration_s` and `condition` must be given."""

    name: str = setting(max_len=40, pattern=NAME_PATTERN, pattern_doc=NAME_RULE)
    duration_s: float = setting(low=0.5, high=MAX_DURATION_S, unit="s")
    condition: Condition = setting()
    # None: familiarity grows from its start, as in the plain mirror
    familiarity: float | None = setting(None, low=0, high=1, names={**FAMILIARITY_PRESETS, "grow": None})
    load: float = setting(DEFAULT_LOAD, low=0, high=1)
    delay_s: float = setting(DEFAULT_DELAY_S, low=0, high=MAX_DELAY_S, unit="s")
    mapping: Mapping = setting(Mapping.MIRROR)
    instruction: str = setting("", max_len=MAX_TEXT, multiline=True)  # drawn on the screen: no control characters
    fixed: bool = setting(False)  # keeps its place when the others are counterbalanced (e.g. a practice block)

    def to_json(self) -> dict:
        return {
            "name": self.name, "duration_s": self.duration_s, "condition": self.condition.value,
            "familiarity": self.familiarity, "load": self.load, "delay_s": self.delay_s,
            "mapping": self.mapping.value, "instruction": self.instruction, "fixed": self.fixed,
        }


@dataclass(frozen=True)
class Protocol:
    """A protocol file: the [protocol] keys (`name` defaults to the file's name), its blocks, and its text."""

    name: str = setting(max_len=60, pattern=NAME_PATTERN, pattern_doc=NAME_RULE + " (it names the session folder)")
    blocks: tuple[Block, ...]
    counterbalance: Counterbalance = setting(Counterbalance.NONE)
    seed: int = setting(0, low=0, high=2**31 - 1)
    break_s: float = setting(5.0, low=0, high=MAX_BREAK_S, unit="s")
    instruction_s: float = setting(4.0, low=0, high=MAX_BREAK_S, unit="s")
    # After an answer the choice stays on screen this long before the next item: a double press answers one.
    answer_pause_s: float = setting(0.5, low=0, high=5, unit="s")
    # The thank-you screen after the last block: its text ("" for the default), and how long it stays
    # (0: until the experimenter presses Enter or Esc). Shown only once the records are closed.
    end_text: str = setting("", max_len=MAX_TEXT, multiline=True)
    end_s: float = setting(0.0, low=0, high=MAX_BREAK_S, unit="s")
    questionnaires: tuple[Questionnaire, ...] = ()
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
            "answer_pause_s": self.answer_pause_s, "questionnaires": [q.to_json() for q in self.questionnaires],
            "end_text": self.end_text, "end_s": self.end_s,
        }


# --- reading a file ------------------------------------------------------------------------------

TOP_KEYS = ("protocol", "block", "questionnaire")


def parse_protocol(data: Any, path: str = "<protocol>", text: str = "") -> Protocol:
    """A parsed TOML document -> Protocol; every problem is a one-line ConfigError."""
    doc = schema.TomlFile(path, text, data)
    root = doc.place()
    if not isinstance(data, dict):
        raise root.error("the file must hold a [protocol] table and [[block]] tables")
    schema.check_keys(data, TOP_KEYS, root)
    head = schema.check_table(Protocol, data.get("protocol", {}), doc.place("protocol"), required=())
    if "name" not in head:
        default_name = Path(path).stem if path and not path.startswith("<") else "protocol"
        head["name"] = schema.check_value(Protocol, "name", default_name, doc.place("protocol"))

    raw_blocks = data.get("block")
    if raw_blocks is None:
        raise root.error("no blocks: add at least one [[block]] table")
    if not isinstance(raw_blocks, list) or not raw_blocks:
        raise doc.place("block").error("expected [[block]] tables", raw_blocks)
    if len(raw_blocks) > MAX_BLOCKS:
        raise doc.place("block", MAX_BLOCKS).error(f"too many blocks ({len(raw_blocks)}; at most {MAX_BLOCKS})")
    blocks: list[Block] = []
    for i, raw in enumerate(raw_blocks):
        place = doc.place("block", i)
        values = schema.check_table(Block, raw, place)
        if any(b.name == values["name"] for b in blocks):
            raise place.at("name").error("must be unique: an earlier block has this name", values["name"])
        values["instruction"] = values.get("instruction", "").strip()
        blocks.append(Block(**values))
    questionnaires = parse_questionnaires(doc, data.get("questionnaire"), [b.name for b in blocks])
    return Protocol(blocks=tuple(blocks), questionnaires=questionnaires, path=path,
                    sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), text=text, **head)


def parse_protocol_text(text: str, path: str = "<protocol>") -> Protocol:
    """TOML text -> Protocol. Only ConfigError escapes, whatever the text."""
    doc = schema.parse_toml(text, path)
    return parse_protocol(doc.data, path, text)


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a protocol file; its SHA-256 is of the file's bytes (its UTF-8 text, exactly)."""
    doc = schema.read_toml(path)
    return parse_protocol(doc.data, doc.path, doc.text)


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
