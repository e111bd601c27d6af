"""Study questionnaires: a protocol's [[questionnaire]] items, when each is asked, and one being answered.

Read by protocol.py, asked by the study mode (avatar.modes.study), written by ratings.py and read back by
report.py. Pure: no pygame, cv2 or mediapipe; the clock is passed in, so the answering is tested without one.

    [[questionnaire]]
    id = "likeability"
    after = "each_block"          # each_block | end | a block's name | a list of block names
    shuffle = true                # the items in a random order, seeded per participant and block
    title = "About the face you just saw"   # optional, shown small above each item

    [[questionnaire.item]]
    id = "likeable"
    text = "How likeable was the face?"
    kind = "likert"               # likert | vas | choice | yesno
    points = 7                    # likert: 5 or 7
    low = "not at all"            # likert and vas: the ends' labels
    high = "very much"

    [[questionnaire.item]]
    id = "detected"
    text = "Did the face imitate you?"
    kind = "yesno"
    detection = true              # the mimicry-detection question: the report shows it on its own
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from avatar import settings_schema as schema
from avatar.settings_schema import Place, TomlFile, setting

MAX_QUESTIONNAIRES = 16
MAX_ITEMS = 40  # in one questionnaire; more is a survey, not a rating after a block
MAX_OPTIONS = 9  # a choice is answered with the keys 1-9
MAX_ITEM_TEXT = 300  # one item fills the screen in large type
MAX_LABEL = 80
VAS_MAX = 100
TEXT_HASH_CHARS = 12  # of the text's SHA-256 hex digest: 48 bits tell texts apart in any study
# Ids end up in CSV columns and file names: the characters the protocol's names use.
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
ID_RULE = "letters, digits, '-', '_' or '.', starting with a letter or digit"
YES, NO = "yes", "no"


class ItemKind(Enum):
    LIKERT = "likert"  # 1..points, the ends labelled
    VAS = "vas"  # a visual-analogue line, 0-100, the ends labelled
    CHOICE = "choice"  # one of 2-9 options
    YESNO = "yesno"


class When(Enum):
    """Where a questionnaire is asked: after every block, once at the end, or after the named blocks."""

    EACH_BLOCK = "each_block"
    END = "end"
    BLOCKS = "blocks"


def _options(value: Any) -> tuple[str, ...]:
    """A file's `options` -> a tuple of 2-9 different one-line texts (ValueError otherwise)."""
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_OPTIONS:
        raise ValueError(value)
    options = []
    for option in value:
        if not isinstance(option, str) or not option.strip() or len(option) > MAX_LABEL or not option.isprintable():
            raise ValueError(option)
        options.append(option.strip())
    if len(set(options)) != len(options):
        raise ValueError(value)
    return tuple(options)


@dataclass(frozen=True)
class Item:
    """One [[questionnaire.item]]: `id`, `text` and `kind` must be given."""

    id: str = setting(max_len=40, pattern=ID_PATTERN, pattern_doc=ID_RULE)
    text: str = setting(max_len=MAX_ITEM_TEXT, multiline=True)  # drawn on the screen: no control characters
    kind: ItemKind = setting()
    points: int = setting(7, low=5, high=7)  # likert only: 5 or 7
    low: str = setting("", max_len=MAX_LABEL)  # likert and vas: the label of the low end
    high: str = setting("", max_len=MAX_LABEL)
    options: tuple[str, ...] = setting((), convert=_options,
                                       expects=f"a list of 2 to {MAX_OPTIONS} different option texts, each one line "
                                               f"of at most {MAX_LABEL} characters")
    detection: bool = setting(False)  # the mimicry-detection question ("Did the face imitate you?")

    @property
    def text_sha256(self) -> str:
        """The start of the SHA-256 of the text: ratings.csv tells a reworded item from the original by it."""
        return text_hash(self.text)

    @property
    def choices(self) -> tuple[str, ...]:
        """The answers a key 1..n gives, in order (a VAS has none: it is answered on its line)."""
        if self.kind is ItemKind.LIKERT:
            return tuple(str(n) for n in range(1, self.points + 1))
        if self.kind is ItemKind.CHOICE:
            return self.options
        if self.kind is ItemKind.YESNO:
            return (YES, NO)
        return ()

    def to_json(self) -> dict:
        return {"id": self.id, "text": self.text, "kind": self.kind.value, "points": self.points, "low": self.low,
                "high": self.high, "options": list(self.options), "detection": self.detection,
                "text_sha256": self.text_sha256}


@dataclass(frozen=True)
class Questionnaire:
    """One [[questionnaire]]: its items, and after which blocks it is asked."""

    items: tuple[Item, ...]
    id: str = setting("", max_len=40, pattern=ID_PATTERN, pattern_doc=ID_RULE)  # "" in a file: q1, q2, ...
    title: str = setting("", max_len=MAX_LABEL)
    shuffle: bool = setting(False)
    when: When = When.EACH_BLOCK
    blocks: tuple[str, ...] = field(default=())  # the blocks it follows, when `when` is BLOCKS

    def follows(self, block_name: str) -> bool:
        """Asked right after this block (an `end` questionnaire follows the last block, see `asked_after`)."""
        return self.when is When.EACH_BLOCK or (self.when is When.BLOCKS and block_name in self.blocks)

    def to_json(self) -> dict:
        after: Any = list(self.blocks) if self.when is When.BLOCKS else self.when.value
        return {"id": self.id, "title": self.title, "shuffle": self.shuffle, "after": after,
                "items": [item.to_json() for item in self.items]}


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:TEXT_HASH_CHARS]


# --- reading a protocol's [[questionnaire]] tables -----------------------------------------------------

ITEM_NEEDS = ("id", "text", "kind")


def parse_questionnaires(doc: TomlFile, raw: Any, block_names: Sequence[str]) -> tuple[Questionnaire, ...]:
    """The file's `questionnaire` value -> Questionnaires; every problem is one ConfigError line with file and line."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise doc.place("questionnaire").error("expected [[questionnaire]] tables", raw)
    if len(raw) > MAX_QUESTIONNAIRES:
        raise doc.place("questionnaire", MAX_QUESTIONNAIRES).error(
            f"too many questionnaires ({len(raw)}; at most {MAX_QUESTIONNAIRES})")
    found: list[Questionnaire] = []
    item_ids: set[str] = set()
    for i, table in enumerate(raw):
        place = doc.place("questionnaire", i)
        values = schema.check_table(Questionnaire, table, place, required=(), others=("after", "item"))
        if not values.get("id"):
            values["id"] = f"q{i + 1}"
        if any(q.id == values["id"] for q in found):
            raise place.at("id").error("must be unique: an earlier questionnaire has this id", values["id"])
        when, blocks = _check_after(table.get("after", When.EACH_BLOCK.value), place.at("after"), block_names)
        items = _check_items(table.get("item"), place, item_ids)
        found.append(Questionnaire(items=items, when=when, blocks=blocks, **values))
    return tuple(found)


def _check_after(value: Any, place: Place, block_names: Sequence[str]) -> tuple[When, tuple[str, ...]]:
    words = 'must be "each_block", "end", a block\'s name or a list of block names'
    if value in (When.EACH_BLOCK.value, When.END.value):
        return When(value), ()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise place.error(words, value)
    for name in names:
        if name not in block_names:
            hint = schema.did_you_mean(name, [When.EACH_BLOCK.value, When.END.value, *block_names])
            raise place.error(f"{schema.show(name)} is not a block of this protocol; {words}{hint}", value)
    if len(set(names)) != len(names):
        raise place.error("names a block twice", value)
    return When.BLOCKS, tuple(names)


def _check_items(raw: Any, place: Place, item_ids: set[str]) -> tuple[Item, ...]:
    if raw is None:
        raise place.at("item").error("no items: add at least one [[questionnaire.item]] table")
    if not isinstance(raw, list) or not raw:
        raise place.at("item").error("expected [[questionnaire.item]] tables", raw)
    if len(raw) > MAX_ITEMS:
        raise place.at("item", MAX_ITEMS).error(f"too many items ({len(raw)}; at most {MAX_ITEMS})")
    items = []
    for j, table in enumerate(raw):
        item = check_item(table, place.at("item", j))
        if item.id in item_ids:
            raise place.at("item", j, "id").error("must be unique: an earlier item has this id", item.id)
        item_ids.add(item.id)
        items.append(item)
    return tuple(items)


def check_item(table: Any, place: Place) -> Item:
    """One [[questionnaire.item]] table -> Item: the keys of its kind, and none of another kind's."""
    values = schema.check_table(Item, table, place, required=())
    for key in ITEM_NEEDS:
        if key not in values:
            raise place.at(key).error("missing, every [[questionnaire.item]] needs it")
    values["text"] = values["text"].strip()
    if not values["text"]:
        raise place.at("text").error("must not be empty", table["text"])
    kind = values["kind"]
    given = set(values)
    if kind is ItemKind.LIKERT and values.get("points", 7) not in (5, 7):
        raise place.at("points").error("must be 5 or 7", values["points"])
    if kind is not ItemKind.LIKERT and "points" in given:
        raise place.at("points").error(f"only a likert item has points (this one is {kind.value})", values["points"])
    for end in ("low", "high"):
        if kind in (ItemKind.LIKERT, ItemKind.VAS) and not values.get(end, "").strip():
            raise place.at(end).error(f"missing, a {kind.value} item labels both ends (low and high)")
        if kind not in (ItemKind.LIKERT, ItemKind.VAS) and end in given:
            raise place.at(end).error(f"only likert and vas items have labelled ends (this one is {kind.value})", values[end])
    if kind is ItemKind.CHOICE and "options" not in given:
        raise place.at("options").error("missing, a choice item needs its options")
    if kind is not ItemKind.CHOICE and "options" in given:
        raise place.at("options").error(f"only a choice item has options (this one is {kind.value})", list(values["options"]))
    return Item(**values)


# --- when each is asked, and in which order ---------------------------------------------------------------

def asked_after(questionnaires: Sequence[Questionnaire], block_name: str, last: bool) -> list[Questionnaire]:
    """The questionnaires asked after this block, in the file's order; the `end` ones follow the last block."""
    after = [q for q in questionnaires if q.follows(block_name)]
    if last:
        after += [q for q in questionnaires if q.when is When.END]
    return after


def item_order(questionnaire: Questionnaire, participant: str, seed: int, occasion: str) -> tuple[Item, ...]:
    """The items as this participant sees them on this occasion (a block's position, or "end").

    Shuffled when asked, from a seed of the protocol's seed, the participant, the questionnaire and the
    occasion: the same session always gets the same order, and each block gets its own.
    """
    items = list(questionnaire.items)
    if questionnaire.shuffle:
        random.Random(f"{seed}-{participant}-{questionnaire.id}-{occasion}").shuffle(items)
    return tuple(items)


def vas_value(fraction: float) -> int:
    """A place along a VAS line (0 at the low end, 1 at the high end) -> its 0-100 answer."""
    return int(round(min(1.0, max(0.0, fraction)) * VAS_MAX))


def answer_number(kind: ItemKind | str, answer: str) -> float | None:
    """An answer as a number for means: likert and vas as given, yes = 1 and no = 0; None for a choice."""
    kind = ItemKind(kind) if isinstance(kind, str) else kind
    if kind is ItemKind.YESNO:
        return 1.0 if answer == YES else 0.0 if answer == NO else None
    if kind in (ItemKind.LIKERT, ItemKind.VAS):
        try:
            return float(answer)
        except ValueError:
            return None
    return None


# --- one questionnaire being answered ------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """An item answered: the value as ratings.csv writes it, by which input, and how long after its onset."""

    item: Item
    order: int  # 1-based place of the item in the order shown
    value: str
    device: str  # key | mouse | touch
    rt_ms: float


class Asking:
    """One questionnaire on the participant's screen: the item shown and since when, the choice made, and the
    pause after it before the next item, so that a double press never answers two items.

    Times are seconds on the caller's clock (time.perf_counter in the study mode). The item's onset is the
    first time it is drawn (`show`); an answer before it, during the pause, or after the end is ignored.
    """

    def __init__(self, items: Sequence[Item], pause_s: float):
        if not items:
            raise ValueError("a questionnaire has at least one item")
        self.items = tuple(items)
        self.pause_s = pause_s
        self.index = 0
        self.shown_at: float | None = None
        self.chosen: Answer | None = None
        self.chosen_at = 0.0
        self.cursor: int | None = None  # a VAS answered with the arrow keys: where the marker stands
        self.done = False
        self.answered = 0

    @property
    def item(self) -> Item:
        """The item on screen (the last one, with its answer, once all are answered)."""
        return self.items[self.index]

    @property
    def order(self) -> int:
        return self.index + 1

    def tick(self, now: float) -> None:
        """The pause after an answer is over: the next item, or the end."""
        if self.chosen is None or self.done or now < self.chosen_at + self.pause_s:
            return
        if self.index + 1 < len(self.items):
            self.index += 1
            self.shown_at, self.chosen, self.cursor = None, None, None
        else:
            self.done = True

    def show(self, now: float) -> bool:
        """The item is drawn now; True the first time (its onset)."""
        self.tick(now)
        if self.shown_at is None and not self.done:
            self.shown_at = now
            return True
        return False

    @property
    def waiting(self) -> bool:
        """Shown and not yet answered: a press now is an answer."""
        return self.shown_at is not None and self.chosen is None and not self.done

    def choose(self, value: str, device: str, now: float) -> Answer | None:
        """The participant picked `value`; the Answer, or None when no answer is taken now."""
        self.tick(now)
        if not self.waiting:
            return None
        item = self.item
        if item.kind is ItemKind.VAS:
            if not value.isdigit() or not 0 <= int(value) <= VAS_MAX:
                return None
        elif value not in item.choices:
            return None
        answer = Answer(item, self.order, value, device, round((now - self.shown_at) * 1000.0, 1))
        self.chosen, self.chosen_at = answer, now
        self.answered += 1
        return answer

    def choose_key(self, char: str, now: float) -> Answer | None:
        """A key: 1..n picks the n-th choice (1 = yes and 2 = no; y and n too). A VAS takes no number key."""
        choices = self.item.choices
        if self.item.kind is ItemKind.YESNO and char.lower() in ("y", "n"):
            return self.choose(YES if char.lower() == "y" else NO, "key", now)
        if len(char) == 1 and char.isdigit() and 1 <= int(char) <= len(choices):
            return self.choose(choices[int(char) - 1], "key", now)
        return None

    def move_cursor(self, step: int) -> bool:
        """An arrow key on a VAS: the marker appears in the middle, then moves by `step` (0-100)."""
        if self.item.kind is not ItemKind.VAS or not self.waiting:
            return False
        self.cursor = VAS_MAX // 2 if self.cursor is None else min(VAS_MAX, max(0, self.cursor + step))
        return True

    def confirm_cursor(self, now: float) -> Answer | None:
        """Enter on a VAS whose marker was placed with the arrow keys."""
        if self.item.kind is not ItemKind.VAS or self.cursor is None:
            return None
        return self.choose(str(self.cursor), "key", now)


@dataclass(frozen=True)
class Rating:
    """One row of ratings.csv: an answer, with where in the session it was given."""

    participant: str
    block: str  # "" for an `end` questionnaire
    condition: str
    position: int | None  # the block's 1-based place in this participant's order
    questionnaire: str
    item: str
    order: int
    kind: str
    item_sha256: str
    answer: str
    rt_ms: float | None
    device: str
    t_s: float | None  # session (source) time of the answer
    wall: float | None  # unix time of the answer

    @property
    def number(self) -> float | None:
        return answer_number(self.kind, self.answer) if self.kind in {k.value for k in ItemKind} else None
