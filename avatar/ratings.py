"""ratings.csv: a study's questionnaire answers, one row per answer, written as each is given, and read back.

An edge of the pipeline beside logs.py (the same rules: a new 0600 file in the session's folder, never a
link followed, one write per row straight to the operating system, a cut row taken back off); written by
the study mode (avatar.modes.study), read by report.py.
"""

from __future__ import annotations

import csv
import errno
import io
import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from avatar.errors import LogError
from avatar.logs import FILE_MODE, DiskFullError, format_value
from avatar.questionnaire import Rating

RATINGS_NAME = "ratings.csv"
# The header of ratings.csv, in order: (column, Rating field). Columns are only ever added at the end.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("participant", "participant"),
    ("block", "block"),
    ("condition", "condition"),
    ("position", "position"),
    ("questionnaire", "questionnaire"),
    ("item", "item"),
    ("order", "order"),
    ("kind", "kind"),
    ("item_sha256", "item_sha256"),
    ("answer", "answer"),
    ("rt_ms", "rt_ms"),
    ("input", "device"),
    ("t", "t_s"),
    ("wall", "wall"),
)
HEADER = tuple(name for name, _ in COLUMNS)


def _line(values: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue().encode("utf-8")


class RatingsLog:
    """ratings.csv in a session folder. Each row reaches the disk (fsync) before `write` returns: an answer
    is a few a minute, and one given must survive a crash or a power cut. Safe to close twice."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / RATINGS_NAME
        self.rows = 0
        self._lock = threading.Lock()
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_APPEND, FILE_MODE)
        except OSError as exc:
            raise LogError(f"cannot create {self.path}: {exc.strerror or exc}") from None
        self._append(_line(HEADER))

    def write(self, rating: Rating) -> None:
        values = vars(rating)
        self._append(_line([format_value(values[field]) for _, field in COLUMNS]))
        self.rows += 1

    def _append(self, data: bytes) -> None:
        with self._lock:
            if self._fd < 0:
                return
            size = os.fstat(self._fd).st_size
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view):]
                os.fsync(self._fd)
            except OSError as exc:
                try:  # a row is there whole or not at all
                    os.ftruncate(self._fd, size)
                except OSError:
                    pass
                if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                    raise DiskFullError(f"disk full while writing {self.path}: the answers so far are kept") from None
                raise LogError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> RatingsLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_ratings(folder: Path) -> tuple[Rating, ...]:
    """A session's answers, in the order given; () without a ratings.csv. A cut last row (a crash) or a
    damaged one is skipped, the rest kept; columns are found by name."""
    path = Path(folder) / RATINGS_NAME
    try:
        handle = open(path, newline="", encoding="utf-8", errors="replace")
    except OSError:
        return ()
    found = []
    with handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        at = {name: header.index(name) for name in HEADER if name in header}
        if not {"item", "answer"} <= set(at):
            return ()
        for row in reader:
            if len(row) != len(header):
                continue
            cell = {name: row[i] for name, i in at.items()}
            position = _number(cell.get("position", ""))
            order = _number(cell.get("order", ""))
            found.append(Rating(
                participant=cell.get("participant", ""), block=cell.get("block", ""), condition=cell.get("condition", ""),
                position=int(position) if position is not None else None, questionnaire=cell.get("questionnaire", ""),
                item=cell["item"], order=int(order) if order is not None else 0, kind=cell.get("kind", ""),
                item_sha256=cell.get("item_sha256", ""), answer=cell["answer"], rt_ms=_number(cell.get("rt_ms", "")),
                device=cell.get("input", ""), t_s=_number(cell.get("t", "")), wall=_number(cell.get("wall", ""))))
    return tuple(found)
