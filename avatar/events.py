"""What happens in a session besides frames: one small frozen type per kind of event.

Plain data, made by the stages and modes and written by the sinks (a line of events.jsonl, an LSL
marker). `record()` gives the fields in declaration order: that order is the contract's key order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    """One event. Its `type` names it in the logs; its fields follow in declaration order."""

    TYPE: ClassVar[str] = ""
    OMIT_IF_NONE: ClassVar[frozenset[str]] = frozenset()  # optional fields: absent rather than null

    @property
    def type(self) -> str:
        return self.TYPE

    def record(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if not (value is None and name in self.OMIT_IF_NONE)}


# --- the session's lifecycle -----------------------------------------------------------------


class SessionStatus(Enum):
    """Where a session is in its life, as session.json and session_end say it."""

    STARTED = "started"
    FINISHED = "finished"
    ABORTED = "aborted"


@dataclass(frozen=True)
class SessionStart(Event):
    TYPE = "session_start"
    source: str
    version: str
    mode: str


@dataclass(frozen=True)
class Aborted(Event):
    TYPE = "aborted"
    reason: str


@dataclass(frozen=True)
class SessionEnd(Event):
    TYPE = "session_end"
    status: str
    reason: str
    frames: int


@dataclass(frozen=True)
class FrameError(Event):
    TYPE = "frame_error"
    error: str
    message: str
    count: int


@dataclass(frozen=True)
class SourceError(Event):
    TYPE = "source_error"
    error: str
    message: str


@dataclass(frozen=True)
class FaceFound(Event):
    TYPE = "face_found"
    faces: int


@dataclass(frozen=True)
class FaceLost(Event):
    TYPE = "face_lost"
    faces: int


@dataclass(frozen=True)
class CameraLost(Event):
    TYPE = "camera_lost"
    source: str


@dataclass(frozen=True)
class CameraBack(Event):
    TYPE = "camera_back"
    source: str


@dataclass(frozen=True)
class LabMarker(Event):
    """A marker a lab sent over LSL."""

    TYPE = "marker"
    source: str
    label: str


# --- the empathy model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingChanged(Event):
    TYPE = "setting"
    name: str
    value: Any


@dataclass(frozen=True)
class NewPerson(Event):
    TYPE = "new_person"
    OMIT_IF_NONE = frozenset({"reason"})
    familiarity: float
    reason: str | None = None


@dataclass(frozen=True)
class Lapse(Event):
    TYPE = "lapse"
    channel: str
    event: int
    p_lapse: float
    residual: float


@dataclass(frozen=True)
class Learned(Event):
    TYPE = "learned"
    channel: str
    events: int
    peak: float
    rise_s: float
    fall_s: float
    roll_deg: float


@dataclass(frozen=True)
class LoadClipped(Event):
    TYPE = "load_clipped"
    load: float
    note: str = "load above 1 is clipped to 1"


# --- modes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ControlChanged(Event):
    """A classroom key changed the model or the view."""

    TYPE = "control"
    name: str
    value: Any


@dataclass(frozen=True)
class VisitorStart(Event):
    TYPE = "visitor_start"
    visitor: int


@dataclass(frozen=True)
class VisitorEnd(Event):
    TYPE = "visitor_end"
    visitor: int
    duration_s: float
    reason: str


@dataclass(frozen=True)
class PortraitFaceChanged(Event):
    """The visitor's own face became the portrait (captured) or was let go (forgotten); never the face itself."""

    TYPE = "portrait_face"
    action: str  # "captured" or "forgotten"
    similarity: float  # 1 for portrait:self, else --self-similarity


@dataclass(frozen=True)
class AttractStart(Event):
    TYPE = "attract_start"


@dataclass(frozen=True)
class AttractEnd(Event):
    TYPE = "attract_end"
    duration_s: float


@dataclass(frozen=True)
class BlockStart(Event):
    TYPE = "block_start"
    block: str
    position: int
    condition: str
    familiarity: float | None
    load: float
    delay_s: float
    mapping: str
    duration_s: float


@dataclass(frozen=True)
class BlockEnd(Event):
    TYPE = "block_end"
    block: str
    position: int
    condition: str
    duration_s: float
    completed: bool


@dataclass(frozen=True)
class PhaseStart(Event):
    """An instruction or break screen starts (`instruction_start`, `break_start`)."""

    phase: str
    next_block: str
    position: int
    duration_s: float

    @property
    def type(self) -> str:
        return f"{self.phase}_start"

    def record(self) -> dict[str, Any]:
        return {"next_block": self.next_block, "position": self.position, "duration_s": self.duration_s}


@dataclass(frozen=True)
class PhaseEnd(Event):
    phase: str
    next_block: str
    skipped: bool

    @property
    def type(self) -> str:
        return f"{self.phase}_end"

    def record(self) -> dict[str, Any]:
        return {"next_block": self.next_block, "skipped": self.skipped}


@dataclass(frozen=True)
class KeyMarker(Event):
    """The experimenter pressed M."""

    TYPE = "marker"
    n: int
    source: str = "key"


@dataclass(frozen=True)
class ProtocolIncomplete(Event):
    TYPE = "protocol_incomplete"
    reason: str
    completed: int
    blocks: int


# --- chat ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatSent(Event):
    """The visitor sent a line; its words only with --log-chat-text (`text`), else just its length."""

    TYPE = "chat_user"
    OMIT_IF_NONE = frozenset({"text"})
    length: int
    text: str | None = None


@dataclass(frozen=True)
class ChatFallback(Event):
    TYPE = "chat_fallback"
    reason: str


@dataclass(frozen=True)
class ChatAnswered(Event):
    TYPE = "chat_reply"
    OMIT_IF_NONE = frozenset({"text"})
    length: int
    source: str
    latency_ms: float
    text: str | None = None


# --- markers from a lab over LSL (docs/lsl.md) -------------------------------------------------------


@dataclass(frozen=True)
class TruncatedLabMarker(Event):
    """A marker a lab sent over LSL that was longer than the limit: its start, flagged, and its full size."""

    TYPE = "marker"
    source: str
    label: str
    truncated: bool
    size_bytes: int


@dataclass(frozen=True)
class MarkersDropped(Event):
    """Lab markers received but not logged since the last such event: how many, and why (`rate`, `queue full`)."""

    TYPE = "markers_dropped"
    count: int
    reason: str


# --- study questionnaires (docs/study.md) -----------------------------------------------------------------


@dataclass(frozen=True)
class QuestionnaireStart(Event):
    """A questionnaire's first item is about to be shown; `block` is "" for an `end` questionnaire."""

    TYPE = "questionnaire_start"
    questionnaire: str
    block: str
    condition: str
    items: int


@dataclass(frozen=True)
class ItemOnset(Event):
    """An item first drawn on the participant's screen (its response time counts from here)."""

    TYPE = "item_onset"
    questionnaire: str
    item: str
    order: int
    block: str
    condition: str
    kind: str
    item_sha256: str


@dataclass(frozen=True)
class ItemAnswered(Event):
    """An item answered: the value as ratings.csv has it, how (`key`, `mouse`, `touch`) and how fast."""

    TYPE = "item_answer"
    questionnaire: str
    item: str
    order: int
    block: str
    condition: str
    answer: str
    rt_ms: float
    input: str


@dataclass(frozen=True)
class QuestionnaireEnd(Event):
    TYPE = "questionnaire_end"
    questionnaire: str
    block: str
    answered: int
    items: int
    completed: bool


@dataclass(frozen=True)
class QuestionnaireSkipped(Event):
    """A questionnaire not asked: nobody can answer it (`headless`)."""

    TYPE = "questionnaire_skipped"
    questionnaire: str
    block: str
    items: int
    reason: str
