"""Questionnaire answers in reports: per item and condition for one session (a section of report.html), and
for many sessions at once (`python -m avatar report --group DIR...`: tables, a tidy CSV and a summary CSV).

An edge of the pipeline, used by report.py: it reads ratings.csv (avatar.ratings) and what session.json says
of the protocol's items, and writes files. No matplotlib: report.py draws the plot.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from avatar.errors import ConfigError
from avatar.logs import format_value, write_atomically
from avatar.questionnaire import ItemKind, Rating, answer_number
from avatar.ratings import RATINGS_NAME, read_ratings
from avatar.settings_schema import show_path

END_LABEL = "at the end"  # how the report names the "condition" of an `end` questionnaire's answers
GROUP_TIDY = "group_ratings.csv"
GROUP_SUMMARY = "group_summary.csv"
GROUP_HTML = "group_report.html"
KINDS = frozenset(k.value for k in ItemKind)


@dataclass(frozen=True)
class ItemFacts:
    """What session.json says of an item (the protocol as it was run); the report's words and scales."""

    id: str
    questionnaire: str
    text: str = ""
    kind: str = ""
    points: int = 7
    low: str = ""
    high: str = ""
    options: tuple[str, ...] = ()
    detection: bool = False

    @staticmethod
    def all_from_session(session: dict) -> tuple[ItemFacts, ...]:
        """Every item of the session's protocol, in the file's order; () for a damaged or older session.json."""
        protocol = session.get("protocol") if isinstance(session, dict) else None
        questionnaires = protocol.get("questionnaires") if isinstance(protocol, dict) else None
        found = []
        for q in questionnaires if isinstance(questionnaires, list) else ():
            items = q.get("items") if isinstance(q, dict) else None
            for item in items if isinstance(items, list) else ():
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    continue
                options = item.get("options")
                points = item.get("points")
                found.append(ItemFacts(
                    id=item["id"], questionnaire=str(q.get("id", "")), text=str(item.get("text", "")),
                    kind=str(item.get("kind", "")), points=points if isinstance(points, int) else 7,
                    low=str(item.get("low", "")), high=str(item.get("high", "")),
                    options=tuple(str(o) for o in options) if isinstance(options, list) else (),
                    detection=item.get("detection") is True))
        return tuple(found)


@dataclass(frozen=True)
class CellStats:
    """One item's answers in one condition."""

    n: int
    mean: float | None  # likert and vas: the mean answer; yes/no: the share of yes; a choice: none
    sd: float | None  # the sample standard deviation (n - 1); none for fewer than two answers
    counts: tuple[tuple[str, int], ...]  # yes/no and choice: each answer and how often it was given

    @staticmethod
    def of(kind: str, answers: Sequence[str], options: Sequence[str] = ()) -> CellStats:
        numbers = [x for x in (answer_number(kind, a) if kind in KINDS else None for a in answers) if x is not None]
        mean = sum(numbers) / len(numbers) if numbers and kind != ItemKind.CHOICE.value else None
        sd = None
        if mean is not None and len(numbers) >= 2:
            sd = math.sqrt(sum((x - mean) ** 2 for x in numbers) / (len(numbers) - 1))
        counts: tuple[tuple[str, int], ...] = ()
        if kind in (ItemKind.YESNO.value, ItemKind.CHOICE.value):
            order = ["yes", "no"] if kind == ItemKind.YESNO.value else list(options)
            order += sorted(set(answers) - set(order))
            counts = tuple((a, answers.count(a)) for a in order)
        return CellStats(len(answers), mean, sd, counts)

    def words(self, kind: str) -> str:
        """The cell as a table shows it."""
        if self.n == 0:
            return "-"
        if kind == ItemKind.YESNO.value:
            yes = dict(self.counts).get("yes", 0)
            return f"yes {yes} of {self.n} ({100 * yes / self.n:.0f} %)"
        if self.counts:
            return ", ".join(f"{a}: {c}" for a, c in self.counts if c)
        if self.mean is None:
            return f"n = {self.n}"
        sd = f", sd {self.sd:.2f}" if self.sd is not None else ""
        return f"{self.mean:.2f} (n = {self.n}{sd})"


@dataclass(frozen=True)
class ItemSummary:
    """One item's answers by condition, in the conditions' order."""

    item: str
    questionnaire: str
    kind: str
    text: str
    detection: bool
    points: int
    cells: tuple[tuple[str, CellStats], ...]  # (condition, its answers); "" is an `end` questionnaire's


def condition_label(condition: str) -> str:
    return condition or END_LABEL


def summarize(ratings: Iterable[Rating], items: Sequence[ItemFacts] = (), conditions: Sequence[str] = ()) -> list[ItemSummary]:
    """Each item's answers by condition: items in the protocol's order (then any others as answered), conditions
    in the order given (then any others as answered; the end's last)."""
    ratings = list(ratings)
    facts = {f.id: f for f in items}
    item_order = [f.id for f in items] + [r.item for r in ratings if r.item not in facts]
    condition_order = list(dict.fromkeys([*conditions, *(r.condition for r in ratings if r.condition)]))
    if any(not r.condition for r in ratings):
        condition_order.append("")
    out = []
    for item in dict.fromkeys(item_order):
        given = [r for r in ratings if r.item == item]
        fact = facts.get(item)
        kind = fact.kind if fact and fact.kind else next((r.kind for r in given), "")
        if not given and fact is None:
            continue
        cells = tuple((c, CellStats.of(kind, [r.answer for r in given if r.condition == c], fact.options if fact else ()))
                      for c in condition_order if any(r.condition == c for r in given))
        out.append(ItemSummary(item, fact.questionnaire if fact else next((r.questionnaire for r in given), ""), kind,
                               fact.text if fact else "", fact.detection if fact else False,
                               fact.points if fact else 7, cells))
    return out


def value_of(rating: Rating, fact: ItemFacts | None) -> float | None:
    """An answer as a number for a tidy table: likert and vas as given, yes 1 and no 0, a choice its option's
    1-based number."""
    if rating.kind == ItemKind.CHOICE.value:
        options = fact.options if fact else ()
        return float(options.index(rating.answer) + 1) if rating.answer in options else None
    return rating.number


# --- one session: a section of report.html (its plot is drawn by report.py) ---------------------------------

def _cell(value) -> str:
    return f"<td>{html.escape(str(value))}</td>"


def html_section(summaries: Sequence[ItemSummary], ratings: Sequence[Rating], plotted: bool) -> str:
    """The questionnaire part of report.html: items by condition, the detection question, every answer."""
    if not ratings and not summaries:
        return ""
    if not ratings:
        return ("<h2>Questionnaire answers by condition</h2>\n<p class=\"note\">No answers: the protocol's questionnaires "
                "were skipped (a headless run: see the questionnaire_skipped events) or never reached.</p>")
    conditions = list(dict.fromkeys(c for s in summaries for c, _ in s.cells))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ("item", "question", "kind", *map(condition_label, conditions)))
    rows = []
    for s in summaries:
        cells = dict(s.cells)
        rows.append("<tr>" + _cell(s.item) + _cell(s.text or "-") + _cell(s.kind)
                    + "".join(_cell(cells[c].words(s.kind) if c in cells else "-") for c in conditions) + "</tr>")
    parts = ["<h2>Questionnaire answers by condition</h2>",
             f"<table><tr>{head}</tr>{''.join(rows)}</table>",
             '<p class="note">Likert and VAS items: the mean answer (with n, and the standard deviation from two '
             "answers on); yes/no: how many said yes; a choice: how often each option was chosen. Every answer is in "
             f"{RATINGS_NAME}.</p>"]
    if plotted:
        parts.append('<img src="ratings.png" alt="answers by condition, one panel per item">')
    detection = [s for s in summaries if s.detection]
    if detection:
        parts.append("<h2>Detection: did the participant notice the imitation?</h2>")
        for s in detection:
            body = "".join("<tr>" + _cell(condition_label(c)) + _cell(cell.words(s.kind)) + "</tr>" for c, cell in s.cells)
            parts.append(f"<p>{html.escape(s.text or s.item)}</p><table><tr><th>condition</th><th>answers</th></tr>{body}</table>")
        parts.append('<p class="note">Mimicry that is noticed loses its effect (Bailenson &amp; Yee 2005): '
                     "compare the ratings of those who noticed it with those who did not.</p>")
    answer_rows = "".join(
        "<tr>" + "".join(_cell(v) for v in (r.block or "-", condition_label(r.condition), r.questionnaire, r.item,
                                             r.answer, format_value(r.rt_ms) or "-", r.device, format_value(r.t_s)))
        + "</tr>" for r in ratings)
    answer_head = "".join(f"<th>{h}</th>" for h in ("block", "condition", "questionnaire", "item", "answer",
                                                     "response time (ms)", "input", "session time (s)"))
    parts.append(f"<h3>Every answer, in the order given</h3><table><tr>{answer_head}</tr>{answer_rows}</table>")
    return "\n".join(parts)


# --- many sessions: python -m avatar report --group DIR... ----------------------------------------------------

TIDY_COLUMNS = ("session", "protocol", "status", "participant", "block", "condition", "position", "questionnaire",
                "item", "order", "kind", "item_sha256", "answer", "value", "rt_ms", "input", "t", "wall")
SUMMARY_COLUMNS = ("questionnaire", "item", "kind", "condition", "n", "mean", "sd", "counts", "text")


def _is_session(folder: Path) -> bool:
    return (folder / "session.json").is_file() or (folder / RATINGS_NAME).is_file()


def find_sessions(dirs: Sequence[Path]) -> list[Path]:
    """Each DIR that is a session folder, and the session folders inside each DIR that is not (a --log-dir)."""
    found: list[Path] = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            raise ConfigError(f"report --group: {show_path(d)} is not a folder")
        inside = [d] if _is_session(d) else sorted(c for c in d.iterdir() if c.is_dir() and _is_session(c))
        if not inside:
            raise ConfigError(f"report --group: no session folders in {show_path(d)}")
        found += [s for s in inside if s.resolve() not in {f.resolve() for f in found}]
    return found


def _session_json(folder: Path) -> dict:
    try:
        data = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _csv(rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([format_value(v) for v in row])
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class GroupReport:
    """What `report --group` wrote, and what it found."""

    tidy: Path
    summary: Path
    html: Path
    sessions: int
    answers: int
    notices: tuple[str, ...] = ()


def build_group_report(dirs: Sequence[Path], out: Path | None = None) -> GroupReport:
    """Every answer of many sessions in one tidy CSV, and per item and condition: n, mean and sd (a CSV and an
    HTML page of one table per item). Aborted sessions count with the answers they have (see `status`)."""
    sessions = find_sessions(dirs)
    out = Path(out) if out is not None else Path(os.path.commonpath([s.resolve().parent for s in sessions]))
    if not out.is_dir():
        raise ConfigError(f"report --group --out {show_path(out)}: not a folder")
    tidy_rows: list[Sequence[object]] = [TIDY_COLUMNS]
    every: list[Rating] = []
    facts: dict[str, ItemFacts] = {}
    conditions: list[str] = []
    texts: dict[str, set[str]] = {}
    for folder in sessions:
        session = _session_json(folder)
        protocol = session.get("protocol")
        protocol_name = protocol.get("name", "") if isinstance(protocol, dict) else ""
        session_facts = {f.id: f for f in ItemFacts.all_from_session(session)}
        for fact in session_facts.values():
            facts.setdefault(fact.id, fact)
        blocks = protocol.get("blocks") if isinstance(protocol, dict) else None
        for block in blocks if isinstance(blocks, list) else ():
            if isinstance(block, dict) and isinstance(block.get("condition"), str) and block["condition"] not in conditions:
                conditions.append(block["condition"])
        for r in read_ratings(folder):
            every.append(r)
            texts.setdefault(r.item, set()).add(r.item_sha256)
            tidy_rows.append((folder.name, protocol_name, session.get("status", ""), r.participant, r.block, r.condition,
                              r.position, r.questionnaire, r.item, r.order, r.kind, r.item_sha256, r.answer,
                              value_of(r, session_facts.get(r.item)), r.rt_ms, r.device, r.t_s, r.wall))
    summaries = summarize(every, list(facts.values()), conditions)
    summary_rows: list[Sequence[object]] = [SUMMARY_COLUMNS]
    for s in summaries:
        for condition, cell in s.cells:
            counts = "; ".join(f"{a}={c}" for a, c in cell.counts)
            summary_rows.append((s.questionnaire, s.item, s.kind, condition, cell.n, cell.mean, cell.sd, counts, s.text))
    notices = tuple(f"item {item} was asked with {len(hashes)} different texts (see item_sha256)"
                    for item, hashes in texts.items() if len(hashes) > 1)
    report = GroupReport(out / GROUP_TIDY, out / GROUP_SUMMARY, out / GROUP_HTML, len(sessions), len(every), notices)
    write_atomically(report.tidy, _csv(tidy_rows))
    write_atomically(report.summary, _csv(summary_rows))
    write_atomically(report.html, _group_html(summaries, sessions, report).encode("utf-8"))
    return report


def _group_html(summaries: Sequence[ItemSummary], sessions: Sequence[Path], report: GroupReport) -> str:
    tables = []
    for s in summaries:
        rows = "".join(
            "<tr>" + _cell(condition_label(c)) + _cell(cell.n) + _cell("-" if cell.mean is None else f"{cell.mean:.3f}")
            + _cell("-" if cell.sd is None else f"{cell.sd:.3f}") + _cell(", ".join(f"{a}: {n}" for a, n in cell.counts) or "-")
            + "</tr>" for c, cell in s.cells)
        flag = " (the detection question)" if s.detection else ""
        tables.append(f"<h2>{html.escape(s.item)}{flag}</h2><p>{html.escape(s.text)} <span class=\"note\">"
                      f"({html.escape(s.kind)}, questionnaire {html.escape(s.questionnaire)})</span></p>"
                      "<table><tr><th>condition</th><th>n</th><th>mean</th><th>sd</th><th>answers</th></tr>"
                      f"{rows}</table>")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notices)
    listed = "".join(f"<li>{html.escape(s.name)}</li>" for s in sessions)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Questionnaire answers of {report.sessions} sessions</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1150px; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; font-size: 14px; }}
th {{ background: #f3f3f3; }}
.note {{ color: #555; font-size: 13px; }}
</style></head><body>
<h1>Questionnaire answers of {report.sessions} sessions ({report.answers} answers)</h1>
<p class="note">Per item and condition: n answers, the mean and the sample standard deviation (likert and vas as
answered; yes/no as the share of yes), and how often each answer was given. Every answer is in {GROUP_TIDY}, the
tables in {GROUP_SUMMARY}.</p>
{"<ul>" + notes + "</ul>" if notes else ""}
{''.join(tables) or "<p>No answers.</p>"}
<h2>Sessions</h2><ul>{listed}</ul>
</body></html>
"""
