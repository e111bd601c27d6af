"""Session reports: a session folder's files -> report.html with matplotlib PNGs next to it.

An edge of the pipeline: it only reads frames.csv, events.jsonl, session.json and ratings.csv, so
`python -m avatar report SESSION_DIR` rebuilds the same report from the files at any time;
`python -m avatar report --group DIR...` combines the questionnaire answers of many (ratings_report.py).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import html
import io
import itertools
import json
import math
import re
import sys
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avatar import contract, ratings_report
from avatar.errors import CliError, ConfigError
from avatar.logs import write_atomically
from avatar.questionnaire import ItemKind, Rating
from avatar.ratings import read_ratings
from avatar.ratings_report import ItemFacts, ItemSummary

MAX_LAG_S = 4.0  # the echo is looked for up to 4 s behind the smile (the delayed condition's lag)
MIN_PAIRS = 10  # fewer frames with a face than this give no lag
REPORT_NAME = "report.html"
PNG_NAMES = ("timeline.png", "blocks.png", "lags.png")
RATINGS_PNG = "ratings.png"  # only for a session with questionnaire answers
FILE_MODE = 0o600
EVENT_MARKS = {"marker": ("M", "#d62728"), "lapse": ("L", "#9467bd"), "face_lost": ("x", "#7f7f7f"),
               "face_found": ("o", "#2ca02c"), "break_skipped": ("s", "#8c564b")}


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class SessionFacts:
    """What the report uses of session.json, read back once with its types checked (a damaged or
    older file gives None for what it lacks, never an error)."""

    participant: str | None = None
    protocol_name: str | None = None
    protocol_path: str = ""
    protocol_sha256: str | None = None
    block_order: tuple[str, ...] = ()
    mode: str | None = None
    source_path: str | None = None
    start: str | None = None
    end: str | None = None
    status: str | None = None
    condition: str = ""  # the run's own condition, for a session without blocks

    @staticmethod
    def from_json(data: dict) -> SessionFacts:
        def part(key: str) -> dict:
            value = data.get(key)
            return value if isinstance(value, dict) else {}

        protocol, empathy = part("protocol"), part("settings").get("empathy")
        order = data.get("block_order")
        return SessionFacts(
            participant=_text(data.get("participant")),
            protocol_name=_text(protocol.get("name")),
            protocol_path=_text(protocol.get("path")) or "",
            protocol_sha256=_text(data.get("protocol_sha256")),
            block_order=tuple(str(b) for b in order) if isinstance(order, list) else (),
            mode=_text(data.get("mode")),
            source_path=_text(part("source").get("path")),
            start=_text(data.get("start")),
            end=_text(data.get("end")),
            status=_text(data.get("status")),
            condition=(_text(empathy.get("condition")) or "") if isinstance(empathy, dict) else "",
        )


@dataclass(frozen=True)
class Span:
    """A block of the session (from its block_start and block_end events), or the whole session."""

    name: str
    condition: str
    position: int
    start_t: float
    end_t: float
    completed: bool

    def holds(self, t: float) -> bool:
        return self.start_t <= t < self.end_t + 1e-9


@dataclass(frozen=True)
class BlockLabels:
    """The `block` column of frames.csv as a code per row and the names the codes stand for."""

    codes: np.ndarray  # int32, one per row
    names: tuple[str, ...]

    def rows_of(self, name: str) -> np.ndarray:
        if name not in self.names:
            return np.zeros(len(self.codes), dtype=bool)
        return self.codes == self.names.index(name)


@dataclass(frozen=True)
class EventDigest:
    """What the report keeps of events.jsonl: never the events, only what it shows of them.

    The blocks, a count per block and kind, and the timeline bins in which each marked kind (marker,
    lapse, ...) occurs. Its size depends on the number of blocks, kinds and bins, not of events: a
    session with 100,000 markers costs no more memory than one with ten.
    """

    spans: tuple[Span, ...]
    counts: tuple[dict[str, int], ...]  # one per span: events of each kind within it
    totals: dict[str, int]  # events of each kind in the whole file
    marks: dict[str, np.ndarray]  # kind -> session times (s) of the timeline bins it occurs in


@dataclass
class SessionData:
    folder: Path
    columns: dict[str, np.ndarray]  # the numeric columns the report uses, as float arrays (NaN for empty)
    blocks: BlockLabels | None  # frames.csv's `block` column, when the mode wrote one
    events: EventDigest
    session: SessionFacts
    ratings: tuple[Rating, ...] = ()  # ratings.csv: the questionnaires' answers, in the order given
    items: tuple[ItemFacts, ...] = ()  # the protocol's questionnaire items, as session.json has them

    @property
    def t(self) -> np.ndarray:
        return self.columns.get("t", np.zeros(0))


@dataclass
class BlockStats:
    name: str
    condition: str
    position: int
    start_t: float
    end_t: float
    frames: int
    face_fraction: float
    mean_smile: float | None
    mean_echo: float | None
    best_lag_s: float | None
    lag_r: float | None
    lapses: int
    completed: bool
    events: dict[str, int] = field(default_factory=dict)
    lag_curve: tuple[np.ndarray, np.ndarray] | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "lag_curve"}


# --- reading ----------------------------------------------------------------------------------------

# The contract's own columns are numbers; any other column is a mode's text (block, condition, phase).
NUMERIC_COLUMNS = frozenset(c.name for c in contract.FRAME_COLUMNS if c.kind is not str)
# Only these are kept of frames.csv: 8 bytes a row each, so an hour at 30 fps is under 4 MB.
USED_COLUMNS = ("t", "faces", "smile", "echo_smile")
# Not counted per block: a block's own boundaries and the model's reset at each.
# Not counted per block: a block's own boundaries and the model's reset at each, and the questionnaires
# (asked after a block: their first event falls on its end; they have a section of their own).
UNCOUNTED = frozenset({"block_start", "block_end", "setting", "new_person", "questionnaire_start", "item_onset",
                       "item_answer", "questionnaire_end", "questionnaire_skipped"})
TIMELINE_BINS = 4000  # event marks are kept per bin of session time; the timeline is 1,100 pixels wide
# A longer line of events.jsonl (a 1 MB marker logged by an older version) is read in pieces of this
# many characters; only its head (type and t, which the logger writes first) is parsed.
MAX_EVENT_LINE = 64 * 1024
_EVENT_HEAD = re.compile(r'\{\s*"type"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"t"\s*:\s*(null|-?[0-9][0-9.eE+-]*)')


def load_session(folder: str | Path) -> SessionData:
    """Read a session folder in one pass over frames.csv and two over events.jsonl, keeping only what the
    report shows; time and memory grow with the session's frames, and not with its events."""
    folder = Path(folder)
    frames_path = folder / "frames.csv"
    if not folder.is_dir():
        raise ConfigError(f"report: {folder} is not a session folder")
    if not frames_path.is_file():
        raise ConfigError(f"report: {frames_path} not found (is {folder} a session folder?)")
    try:
        columns, blocks = _read_frames(frames_path)
    except OSError as exc:
        raise ConfigError(f"report: cannot read {frames_path}: {exc.strerror or exc}") from None
    try:
        session = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        session = {}
    facts = SessionFacts.from_json(session if isinstance(session, dict) else {})
    t = columns.get("t", np.zeros(0))
    last_t = float(np.nanmax(t)) if len(t) and np.isfinite(t).any() else 0.0
    events = digest_events(folder / "events.jsonl", last_t, facts.condition)
    session = session if isinstance(session, dict) else {}
    return SessionData(folder, columns, blocks, events, facts, read_ratings(folder), ItemFacts.all_from_session(session))


def _read_frames(path: Path) -> tuple[dict[str, np.ndarray], BlockLabels | None]:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        wanted = [(i, name) for i, name in enumerate(header) if name in USED_COLUMNS]
        values = {name: array("d") for _, name in wanted}
        block_at = header.index("block") if "block" in header else None
        codes, names = array("i"), {}
        for row in reader:
            if len(row) != len(header):
                continue  # a cut last line (a crash): skip it, keep the rest
            for i, name in wanted:
                values[name].append(_float(row[i]))
            if block_at is not None:
                codes.append(names.setdefault(row[block_at], len(names)))
    columns = {name: np.frombuffer(column, dtype=float) if len(column) else np.zeros(0) for name, column in values.items()}
    if block_at is None:
        return columns, None
    return columns, BlockLabels(np.frombuffer(codes, dtype=np.int32) if len(codes) else np.zeros(0, np.int32), tuple(names))


def _float(text: str) -> float:
    try:
        return float(text) if text != "" else math.nan
    except ValueError:
        return math.nan


def _number(value, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else default


def _event_lines(path: Path) -> Iterator[tuple[str, bool]]:
    """Each line of events.jsonl and whether it is whole; a line longer than MAX_EVENT_LINE gives its head
    only (False), and the rest of it is read past in pieces, never held."""
    try:
        handle = open(path, encoding="utf-8", errors="replace")
    except OSError:
        return
    with handle:
        while True:
            line = handle.readline(MAX_EVENT_LINE)
            if not line:
                return
            if line.endswith("\n") or len(line) < MAX_EVENT_LINE:
                yield line, True
                continue
            yield line, False
            while True:
                rest = handle.readline(MAX_EVENT_LINE)
                if not rest or rest.endswith("\n"):
                    break


def _event_head(line: str, whole: bool) -> tuple[str, float | None] | None:
    """An event's type and time (None when it has none), or None for a line that is not an event."""
    head = _EVENT_HEAD.match(line)
    if head is not None:  # the logger's own layout: type and t first; no need to parse the rest
        kind = head.group(1)
        if "\\" in kind:
            kind = json.loads(f'"{kind}"')
        t = None if head.group(2) == "null" else _float(head.group(2))
        return kind, (t if t is not None and math.isfinite(t) else None)
    if not whole:
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    t = record.get("t")
    return str(record.get("type")), (float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else None)


def _block_spans(path: Path, last_t: float, condition: str) -> list[Span]:
    """The first pass: blocks from block_start/block_end events; without any, the whole session is one span."""
    spans: list[Span] = []
    open_start: dict | None = None
    for line, whole in _event_lines(path):
        if not whole or '"block_' not in line:
            continue
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if not isinstance(e, dict):
            continue
        if e.get("type") == "block_start":
            open_start = e
        elif e.get("type") == "block_end" and open_start is not None:
            spans.append(_span(open_start, len(spans), _number(e.get("t"), 0.0), bool(e.get("completed", True))))
            open_start = None
    if open_start is not None:  # cut short by a crash: up to the last row
        spans.append(_span(open_start, len(spans), last_t, False))
    if not spans:
        spans.append(Span("session", condition, 1, 0.0, last_t + 1e-6, True))
    return spans


def _span(start: dict, index: int, end_t: float, completed: bool) -> Span:
    position = start.get("position", index + 1)
    return Span(str(start.get("block", "?")), str(start.get("condition", "")),
                int(position) if isinstance(position, (int, float)) and math.isfinite(position) else 0,
                _number(start.get("t"), 0.0), end_t, completed)


def digest_events(path: Path, last_t: float, condition: str = "") -> EventDigest:
    """Two streaming passes over events.jsonl: the blocks first, then each event counted into the blocks
    that hold its time and, for the marked kinds, into its timeline bin."""
    spans = _block_spans(path, last_t, condition)
    order = sorted(range(len(spans)), key=lambda i: spans[i].start_t)
    starts = [spans[i].start_t for i in order]
    reach = list(itertools.accumulate((spans[i].end_t for i in order), max))  # furthest end so far
    counts: list[dict[str, int]] = [{} for _ in spans]
    totals: dict[str, int] = {}
    span_s = max(1.0, last_t)
    bins = {kind: np.zeros(TIMELINE_BINS, dtype=bool) for kind in EVENT_MARKS}
    for line, whole in _event_lines(path):
        head = _event_head(line, whole)
        if head is None:
            continue
        kind, t = head
        totals[kind] = totals.get(kind, 0) + 1
        if t is None:
            continue
        if kind in bins and t >= 0:
            bins[kind][min(TIMELINE_BINS - 1, int(t / span_s * TIMELINE_BINS))] = True
        if kind in UNCOUNTED:
            continue
        j = bisect.bisect_right(starts, t) - 1
        while j >= 0 and reach[j] + 1e-9 > t:  # spans meet at a boundary: an event there counts in both
            if spans[order[j]].holds(t):
                counted = counts[order[j]]
                counted[kind] = counted.get(kind, 0) + 1
            j -= 1
    width = span_s / TIMELINE_BINS
    marks = {kind: (np.flatnonzero(hit) + 0.5) * width for kind, hit in bins.items() if hit.any()}
    return EventDigest(tuple(spans), tuple(counts), totals, marks)


# --- statistics ---------------------------------------------------------------------------------------

def lag_curve(smile: np.ndarray, echo: np.ndarray, fps: float, max_lag_s: float = MAX_LAG_S) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of echo(t + lag) against smile(t), for lags 0..max_lag_s (frames with a face only)."""
    n = len(smile)
    max_k = int(round(max_lag_s * fps))
    lags, rs = [], []
    for k in range(0, min(max_k, n - 1) + 1):
        x, y = smile[: n - k], echo[k:]
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < MIN_PAIRS:
            break
        xs, ys = x[ok], y[ok]
        sx, sy = xs.std(), ys.std()
        r = float(((xs - xs.mean()) * (ys - ys.mean())).mean() / (sx * sy)) if sx > 1e-9 and sy > 1e-9 else math.nan
        lags.append(k / fps)
        rs.append(r)
    return np.asarray(lags), np.asarray(rs)


def best_lag(smile: np.ndarray, echo: np.ndarray, fps: float, max_lag_s: float = MAX_LAG_S) -> tuple[float | None, float | None]:
    """The lag (s) at which the echo follows the smile best, and its r; None when it cannot be told."""
    lags, rs = lag_curve(smile, echo, fps, max_lag_s)
    if len(rs) == 0 or not np.isfinite(rs).any():
        return None, None
    i = int(np.nanargmax(rs))
    return float(lags[i]), float(rs[i])


def _fps(t: np.ndarray) -> float:
    dt = np.diff(t[np.isfinite(t)])
    dt = dt[dt > 0]
    return float(1.0 / np.median(dt)) if len(dt) else 30.0


def _mean(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else None


def block_spans(data: SessionData) -> list[Span]:
    """Blocks from block_start/block_end events; a session without blocks is one span, 'session'."""
    return list(data.events.spans)


def block_stats(data: SessionData, max_lag_s: float = MAX_LAG_S) -> list[BlockStats]:
    t = data.t
    n = len(t)
    smile = data.columns.get("smile", np.full(n, np.nan))
    echo = data.columns.get("echo_smile", np.full(n, np.nan))
    faces = data.columns.get("faces", np.zeros(n))
    fps = _fps(t)
    out = []
    for span, counts in zip(data.events.spans, data.events.counts, strict=True):
        if data.blocks is not None and span.name != "session":
            rows = data.blocks.rows_of(span.name)
        else:
            rows = (t >= span.start_t) & (t < span.end_t)
        s, e_ = smile[rows], echo[rows]
        lag, r = best_lag(s, e_, fps, max_lag_s)
        lag = None if lag is None else round(lag, 3)
        out.append(BlockStats(
            name=span.name, condition=span.condition, position=span.position, start_t=span.start_t,
            end_t=span.end_t, frames=int(rows.sum()),
            face_fraction=float((faces[rows] > 0).mean()) if rows.any() else 0.0,
            mean_smile=_mean(s), mean_echo=_mean(e_), best_lag_s=lag, lag_r=r, lapses=counts.get("lapse", 0),
            completed=span.completed, events=dict(counts), lag_curve=lag_curve(s, e_, fps, max_lag_s),
        ))
    return out


# --- plots ----------------------------------------------------------------------------------------------

BLOCK_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_atomically(path, buffer.getvalue())


def plot_timeline(data: SessionData, stats: list[BlockStats], path: Path) -> None:
    """Smile and echo over the session, blocks shaded and named, events ticked along the top."""
    fig = _figure(11, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    t = data.t
    for i, b in enumerate(stats):
        if b.name != "session":
            ax.axvspan(b.start_t, b.end_t, color=BLOCK_COLORS[i % len(BLOCK_COLORS)], alpha=0.10, lw=0)
            label = b.name if b.name == b.condition or not b.condition else f"{b.name}\n({b.condition})"
            ax.text((b.start_t + b.end_t) / 2, 1.07, label, ha="center", va="bottom", fontsize=9)
    ax.plot(t, data.columns.get("smile", np.full(len(t), np.nan)), color="#1f77b4", lw=1.4, label="smile (person)")
    ax.plot(t, data.columns.get("echo_smile", np.full(len(t), np.nan)), color="#ff7f0e", lw=1.6, label="echo (avatar)")
    for kind, times in data.events.marks.items():  # one line per kind, not one per event
        mark = EVENT_MARKS[kind]
        ax.plot(times, np.full(len(times), 1.02), ls="", marker="v" if mark[0] in "ML" else "|", color=mark[1],
                ms=7, clip_on=False)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlim(0, max(1.0, float(np.nanmax(t)) if len(t) else 1.0))
    ax.set_xlabel("session time (s)")
    ax.set_ylabel("0-1")
    handles, names = ax.get_legend_handles_labels()
    from matplotlib.lines import Line2D

    for kind in ("marker", "lapse"):
        if data.events.totals.get(kind):
            handles.append(Line2D([], [], marker="v", ls="", color=EVENT_MARKS[kind][1]))
            names.append(kind)
    ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    fig.subplots_adjust(left=0.06, right=0.86, top=0.82, bottom=0.13)
    _save(fig, path)


def plot_blocks(stats: list[BlockStats], path: Path) -> None:
    """Mean smile and mean echo per block, with the lapse count written above each block."""
    fig = _figure(7, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(stats))
    ax.bar(x - 0.18, [b.mean_smile or 0.0 for b in stats], width=0.36, color="#1f77b4", label="mean smile")
    ax.bar(x + 0.18, [b.mean_echo or 0.0 for b in stats], width=0.36, color="#ff7f0e", label="mean echo")
    for i, b in enumerate(stats):
        ax.text(i, max(b.mean_smile or 0.0, b.mean_echo or 0.0) + 0.03, f"lapses {b.lapses}", ha="center", fontsize=8)
    ax.set_xticks(x, [f"{b.name}\n{b.condition}" for b in stats])
    ax.set_ylim(0, 1)
    ax.set_ylabel("0-1")
    ax.legend(fontsize=9, frameon=False)
    fig.tight_layout()
    _save(fig, path)


def plot_lags(stats: list[BlockStats], path: Path) -> None:
    """r of echo against smile as a function of lag, per block; the best lag is marked."""
    fig = _figure(7, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    for i, b in enumerate(stats):
        if b.lag_curve is None or len(b.lag_curve[0]) == 0:
            continue
        color = BLOCK_COLORS[i % len(BLOCK_COLORS)]
        ax.plot(b.lag_curve[0], b.lag_curve[1], color=color, label=b.name)
        if b.best_lag_s is not None:
            ax.plot([b.best_lag_s], [b.lag_r], "o", color=color)
    ax.axhline(0, color="#999999", lw=0.8)
    ax.set_xlabel("lag of the echo behind the smile (s)")
    ax.set_ylabel("correlation r")
    ax.set_ylim(-1, 1)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=9, frameon=False)
    fig.tight_layout()
    _save(fig, path)


def plot_ratings(summaries: Sequence[ItemSummary], ratings: Sequence[Rating], path: Path) -> bool:
    """Small multiples: per item with a scale (likert, vas, yes/no as share of yes), the mean by condition
    as a bar and each answer as a dot. False (and no file) when there is nothing to plot."""
    plotted = [s for s in summaries if s.kind in (ItemKind.LIKERT.value, ItemKind.VAS.value, ItemKind.YESNO.value) and s.cells]
    if not plotted:
        return False
    conditions = list(dict.fromkeys(c for s in plotted for c, _ in s.cells))  # one colour per condition throughout
    columns = min(4, len(plotted))
    rows = -(-len(plotted) // columns)
    fig = _figure(2.8 * columns + 0.6, 2.7 * rows + 0.3)
    for index, summary in enumerate(plotted):
        ax = fig.add_subplot(rows, columns, index + 1)
        for x, (condition, cell) in enumerate(summary.cells):
            color = BLOCK_COLORS[conditions.index(condition) % len(BLOCK_COLORS)]
            if cell.mean is not None:
                ax.bar(x, cell.mean, width=0.6, color=color, alpha=0.35)
            values = [r.number for r in ratings if r.item == summary.item and r.condition == condition]
            values = [v for v in values if v is not None]
            jitter = [(k - (len(values) - 1) / 2) * min(0.08, 0.4 / max(1, len(values))) for k in range(len(values))]
            ax.plot([x + j for j in jitter], values, "o", color=color, ms=5)
        ax.set_xticks(range(len(summary.cells)), [ratings_report.condition_label(c) for c, _ in summary.cells], fontsize=8)
        if summary.kind == ItemKind.LIKERT.value:
            ax.set_ylim(0.5, summary.points + 0.5)
            ax.set_yticks(range(1, summary.points + 1))
        elif summary.kind == ItemKind.VAS.value:
            ax.set_ylim(0, 100)
        else:
            ax.set_ylim(0, 1.05)
            ax.set_ylabel("share of yes", fontsize=8)
        ax.set_title(summary.item, fontsize=10)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    _save(fig, path)
    return True



# --- the HTML -----------------------------------------------------------------------------------------------

def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def render_html(data: SessionData, stats: list[BlockStats], status: str, ratings_html: str = "") -> str:
    s = data.session
    facts = [
        ("participant", s.participant or "-"),
        ("protocol", f"{s.protocol_name or '-'} ({s.protocol_path})" if s.protocol_name else "-"),
        ("protocol SHA-256", s.protocol_sha256 or "-"),
        ("block order", ", ".join(s.block_order) or "-"),
        ("mode", s.mode or "-"),
        ("source", s.source_path or "-"),
        ("start", s.start or "-"),
        ("end", s.end or "-"),
        ("status", status),
        ("frames", len(data.t)),
    ]
    event_kinds = sorted({k for b in stats for k in b.events})
    head = "".join(f"<th>{html.escape(h)}</th>" for h in (
        "#", "block", "condition", "start (s)", "length (s)", "frames", "face seen", "mean smile", "mean echo",
        "best lag (s)", "r at best lag", "lapses", "completed", *event_kinds))
    rows = []
    for b in stats:
        cells = [b.position, b.name, b.condition, _fmt(b.start_t, 2), _fmt(b.end_t - b.start_t, 2), b.frames,
                 f"{100 * b.face_fraction:.0f} %", _fmt(b.mean_smile), _fmt(b.mean_echo), _fmt(b.best_lag_s, 2),
                 _fmt(b.lag_r, 2), b.lapses, "yes" if b.completed else "no", *[b.events.get(k, 0) for k in event_kinds]]
        rows.append("<tr>" + "".join(f"<td>{_fmt(c) if not isinstance(c, str) else html.escape(c)}</td>" for c in cells) + "</tr>")
    fact_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts)
    title = f"Session report: {s.participant or data.folder.name}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1150px; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; font-size: 14px; }}
th {{ background: #f3f3f3; }}
img {{ max-width: 100%; margin: 0.5em 0; }}
.note {{ color: #555; font-size: 13px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table>{fact_rows}</table>
<h2>Smile and echo over the session</h2>
<img src="timeline.png" alt="smile and echo over time, blocks shaded">
<h2>Per block</h2>
<table><tr>{head}</tr>{''.join(rows)}</table>
<p class="note">Mean smile and echo are over the block's frames (smile only where a face was seen).
Best lag: the lag between 0 and {MAX_LAG_S:g} s at which the avatar's echo correlates best with the person's
smile (Pearson r over frames with a face). Lapses: expression events the model left (almost) unanswered.</p>
<img src="blocks.png" alt="mean smile and echo per block">
<img src="lags.png" alt="correlation of echo and smile by lag, per block">
{ratings_html}
<p class="note">Built from frames.csv, events.jsonl and session.json in this folder;
rebuild with <code>python -m avatar report {html.escape(str(data.folder))}</code>.</p>
</body></html>
"""


def rating_summaries(data: SessionData, stats: list[BlockStats]) -> list[ItemSummary]:
    """Each questionnaire item's answers by condition, the conditions in the order the blocks ran."""
    conditions = [b.condition for b in sorted(stats, key=lambda b: b.position) if b.condition]
    return ratings_report.summarize(data.ratings, data.items, conditions)


def build_report(folder: str | Path, status: str | None = None, session: dict | None = None) -> Path:
    """Write report.html and its PNGs into the session folder (files 0600); returns the HTML's path."""
    data = load_session(folder)
    if session:
        data.session = SessionFacts.from_json(session)
    status = status or data.session.status or "unknown"
    stats = block_stats(data)
    folder = Path(folder)
    plot_timeline(data, stats, folder / "timeline.png")
    plot_blocks(stats, folder / "blocks.png")
    plot_lags(stats, folder / "lags.png")
    summaries = rating_summaries(data, stats)
    plotted = plot_ratings(summaries, data.ratings, folder / RATINGS_PNG)
    ratings_html = ratings_report.html_section(summaries, data.ratings, plotted)
    # Each file whole or not at all, through a new private temporary file that a planted link cannot redirect.
    target = folder / REPORT_NAME
    write_atomically(target, render_html(data, stats, status, ratings_html).encode("utf-8"))
    write_atomically(folder / "blocks.json", (json.dumps([b.to_json() for b in stats], indent=2) + "\n").encode("utf-8"))
    return target


def command_report(argv: list[str]) -> int:
    """`python -m avatar report SESSION_DIR`: (re)build a session's report.html; `--group DIR...`: the
    questionnaire answers of many sessions."""
    from avatar.arguments import run_subcommand

    return run_subcommand(add_subcommand, argv)


def add_subcommand(subparsers) -> argparse.ArgumentParser:
    """`python -m avatar report`: adds its parser (one-line usage errors, exit code 2) to the command line's subcommands."""
    parser = subparsers.add_parser("report", description="Build report.html for a session folder, or (--group) combine "
                                                          "the questionnaire answers of many sessions.")
    parser.add_argument("session_dir", type=Path, nargs="?", help="a session folder written with --log-dir")
    parser.add_argument("--group", type=Path, nargs="+", metavar="DIR",
                        help="session folders, or folders of them (a --log-dir): one table per item and condition "
                             f"({ratings_report.GROUP_HTML}, {ratings_report.GROUP_SUMMARY}) and every answer "
                             f"({ratings_report.GROUP_TIDY})")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where --group writes its files (default: the folder that holds the sessions)")
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=report_from_args)
    return parser


def report_from_args(args: argparse.Namespace) -> int:
    if (args.session_dir is None) == (args.group is None):
        raise CliError("report: give a SESSION_DIR, or --group DIR... (not both)")
    if args.out is not None and args.group is None:
        raise CliError("report: --out goes with --group")
    if args.group is not None:
        group = ratings_report.build_group_report(args.group, args.out)
        for notice in group.notices:
            print(f"notice: {notice}", file=sys.stderr)
        print(f"{group.sessions} sessions, {group.answers} answers")
        for path in (group.html, group.summary, group.tidy):
            print(path)
        return 0
    path = build_report(args.session_dir)
    print(path)
    return 0
