"""The frames.csv contract in one table: each column's name, unit, type, LSL type and where it comes from.

Pure data about `FrameOutcome` (outcome.py). The CSV header, the LSL channel descriptions, the report's
reader and docs/contract.md's column table all come from here; columns are only ever added at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from avatar.expression import Expression
from avatar.outcome import FrameOutcome

# Units as the XDF/LSL meta-data conventions write them.
COUNT, SECONDS, MILLISECONDS, DEGREES, NORMALIZED, BOOLEAN, TEXT = (
    "count", "seconds", "milliseconds", "degrees", "normalized", "boolean", "text")
UNIX_SECONDS = "unix seconds"

# LSL channel types: where the sample is in time, what was read from the person, what the avatar
# shows, the empathy model's state, and how fast it ran.
TIME, PERSON, AVATAR, MODEL, PERFORMANCE = "Time", "Person", "Avatar", "Model", "Performance"


@dataclass(frozen=True)
class Column:
    """One frames.csv column. `lsl_type` None keeps it off the LSL data stream (text, wall time)."""

    name: str
    unit: str
    kind: type
    lsl_type: str | None
    read: Callable[[FrameOutcome, float], object]  # (outcome, latency_ms) -> value; None is an empty cell
    doc: str


def _seen(read: Callable[[Expression], float]) -> Callable[[FrameOutcome, float], float | None]:
    """A channel of the person: empty when no face was read (a held reading still counts as none)."""
    return lambda o, _: float(read(o.expression)) if o.expression.present else None


def _person(name: str, read: Callable[[Expression], float], doc: str, unit: str = NORMALIZED) -> Column:
    return Column(name, unit, float, PERSON, _seen(read), doc)


def _model(name: str, read: Callable[[FrameOutcome], object], doc: str, unit: str = NORMALIZED, kind: type = float,
           lsl_type: str = MODEL) -> Column:
    # Plain Python numbers (a numpy float32 would print differently in the CSV).
    return Column(name, unit, kind, lsl_type, lambda o, _: kind(read(o)), doc)


# The first twelve: the contract since the first release.
BASE_COLUMNS = (
    _model("frame", lambda o: o.frame.index, "the source's frame index", COUNT, int, TIME),
    _model("t", lambda o: o.frame.t_s, "source time (the file's own clock)", SECONDS, float, TIME),
    Column("wall", UNIX_SECONDS, float, None, lambda o, _: o.frame.capture_wall, "when the frame was taken"),
    _model("faces", lambda o: o.faces, "faces in view", COUNT, int, PERSON),
    _person("smile", lambda x: x.smile, "the person's smile"),
    _person("wince", lambda x: x.wince, "the person's wince (pain)"),
    _model("echo_smile", lambda o: o.echo.smile, "the avatar's smile", lsl_type=AVATAR),
    _model("echo_wince", lambda o: o.echo.wince, "the avatar's softened wince, with its concern", lsl_type=AVATAR),
    _model("familiarity", lambda o: o.echo.familiarity, "how familiar the person is to the avatar"),
    _model("load", lambda o: o.echo.load, "the avatar's load, configured plus the scene's"),
    _model("gain", lambda o: o.echo.gain, "the smile gain used, after the guard"),
    Column("latency_ms", MILLISECONDS, float, PERFORMANCE, lambda _, latency_ms: latency_ms,
           "from the frame's capture to its logging"),
)


def _held(o: FrameOutcome, _latency_ms: float) -> float:
    return round(o.expression.held, 4)


EXPRESSION_COLUMNS = (
    _person("smile_duchenne", lambda x: x.duchenne, "how much of the smile comes with eye narrowing"),
    _person("surprise", lambda x: x.surprise, "raised brows and wide eyes"),
    _person("frown", lambda x: x.frown, "lowered brows without a smile"),
    _person("mouth_open", lambda x: x.mouth_open, "jaw open"),
    _person("blink_left", lambda x: x.blink_left, "the person's own left eye closed"),
    _person("blink_right", lambda x: x.blink_right, "the person's own right eye closed"),
    _person("yaw", lambda x: x.yaw_deg, "head turned to the person's left", DEGREES),
    _person("pitch", lambda x: x.pitch_deg, "head tilted up", DEGREES),
    _person("roll", lambda x: x.roll_deg, "head tilted toward the person's right shoulder", DEGREES),
    _person("face_x", lambda x: x.face_x, "face centre, a fraction of the frame's width from the left"),
    _person("face_y", lambda x: x.face_y, "face centre, a fraction of the frame's height from the top"),
    _person("face_size", lambda x: x.face_size, "the face box's larger side, a fraction of the frame"),
    _person("confidence", lambda x: x.confidence, "how far the reading can be trusted"),
    Column("held", NORMALIZED, float, PERSON, _held, "1 while a lost face's last reading is held, fading to 0"),
)


ECHO_COLUMNS = (
    _model("delay_s", lambda o: o.echo.delay_s, "the onset delay used (mimic) or the total lag (delayed)", SECONDS),
    _model("target_smile", lambda o: o.echo.diagnostics.target_smile, "what the echo's smile moves toward"),
    _model("target_wince", lambda o: o.echo.diagnostics.target_wince, "what the concern moves toward"),
    _model("concern", lambda o: o.echo.concern, "how much the avatar answers distress with concern"),
    _model("lapse", lambda o: int(o.echo.diagnostics.lapse), "this frame echoes a lapsed expression event", BOOLEAN, int),
    _model("p_lapse", lambda o: o.echo.diagnostics.p_lapse, "the lapse chance for an event starting now"),
    _model("anticipated_smile", lambda o: o.echo.diagnostics.anticipated_smile, "the smile predicted a moment ahead"),
    _model("gain_familiarity", lambda o: o.echo.diagnostics.gain_familiarity, "the familiarity part of the gain"),
    _model("gain_load", lambda o: o.echo.diagnostics.gain_load, "the load part of the gain"),
    _model("gain_wince", lambda o: o.echo.diagnostics.gain_wince, "the distress gain"),
    _model("load_scene", lambda o: o.echo.diagnostics.load_scene, "what the scene added to the load"),
    _model("attack_s", lambda o: o.echo.diagnostics.attack_s, "the echo's attack time", SECONDS),
    _model("release_s", lambda o: o.echo.diagnostics.release_s, "the echo's release time", SECONDS),
    _model("learned_smile_peak", lambda o: o.echo.diagnostics.learned_smile_peak, "the visitor's typical smile size"),
    _model("learned_smile_rise_s", lambda o: o.echo.diagnostics.learned_smile_rise_s, "their typical smile rise", SECONDS),
    _model("learned_smile_fall_s", lambda o: o.echo.diagnostics.learned_smile_fall_s, "their typical smile fall", SECONDS),
    _model("learned_smile_roll_deg", lambda o: o.echo.diagnostics.learned_smile_roll_deg,
           "the head tilt that comes with their smile", DEGREES),
    _model("learned_events", lambda o: o.echo.diagnostics.learned_events, "smile events learned from this visitor", COUNT, int),
    _model("smile_roll_deg", lambda o: o.echo.smile_roll_deg, "the head tilt that goes with the echo", DEGREES),
)

# Added after every earlier column, a mode's included (docs/contract.md: new columns only at the end).
LATE_COLUMNS = (
    _person("sad", lambda x: x.sad, "sadness and crying"),
    _person("distress", lambda x: x.distress, "max(wince, sad): what the avatar answers with concern"),
    _person("talking", lambda x: x.talking, "how much the mouth moves at syllable rate"),
)


def frame_columns(mode_columns: Iterable[Column] = ()) -> tuple[Column, ...]:
    """Every frames.csv column in order, with a mode's own after the echo's and before the late ones."""
    columns = BASE_COLUMNS + EXPRESSION_COLUMNS + ECHO_COLUMNS + tuple(mode_columns) + LATE_COLUMNS
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"frames.csv columns repeat: {', '.join(n for n in names if names.count(n) > 1)}")
    return columns


FRAME_COLUMNS = frame_columns()
BASE_COLUMN_NAMES = tuple(c.name for c in BASE_COLUMNS)


def row(columns: Iterable[Column], outcome: FrameOutcome, latency_ms: float) -> tuple:
    """The values of one frame's row, in column order."""
    return tuple(column.read(outcome, latency_ms) for column in columns)


def streamed(columns: Iterable[Column]) -> tuple[Column, ...]:
    """The columns on the LSL data stream: all but text and wall time (float32 holds neither)."""
    return tuple(c for c in columns if c.lsl_type is not None)


def markdown_table(columns: Iterable[Column]) -> str:
    """The column table of docs/contract.md (a test checks that the docs hold exactly this)."""
    lines = ["| # | column | unit | type | LSL type | meaning |", "|---|---|---|---|---|---|"]
    for i, c in enumerate(columns, start=1):
        lines.append(f"| {i} | `{c.name}` | {c.unit} | {c.kind.__name__} | {c.lsl_type or '-'} | {c.doc} |")
    return "\n".join(lines) + "\n"
