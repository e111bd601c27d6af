"""Session logs: frames.csv, events.jsonl and session.json in a new folder per run.

An edge of the pipeline. Rows are written and flushed as they come, files are 0600 in a 0700
folder, a name clash gets a new name (never an overwrite), and close() runs on every exit path.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from avatar.errors import LogError, first_line
from avatar.settings_schema import show_path

FILE_MODE = 0o600
DIR_MODE = 0o700


class DiskFullError(LogError):
    """The disk filled while logging: what was written so far is kept."""


def format_value(value: Any) -> str:
    """Fixed, platform-independent formatting, so two runs write byte-identical rows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:60] or "session"


def make_session_dir(log_dir: Path, name: str) -> Path:
    """Create LOG_DIR/<name> (0700); if it exists, <name>-2, -3, ... Never reuses a folder.

    Every way the folder can be refused (not a folder, not writable, a name too long or holding a NUL) is
    one LogError naming --log-dir, with the folder's name cut to a readable length.
    """
    log_dir = Path(log_dir)
    shown = show_path(log_dir)
    if "\x00" in str(log_dir):
        raise LogError(f"--log-dir {shown}: not a usable folder name (it holds a NUL character)")
    try:
        if log_dir.exists() and not log_dir.is_dir():
            raise LogError(f"--log-dir {shown} is not a folder")
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LogError(f"--log-dir {shown} cannot be created: {exc.strerror or first_line(exc)}") from None
    if not os.access(log_dir, os.W_OK | os.X_OK):
        raise LogError(f"--log-dir {shown} is not writable")
    base = _safe_name(name)
    for attempt in range(1, 10_000):
        candidate = log_dir / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            candidate.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise LogError(f"--log-dir {shown}: cannot create a session folder: {exc.strerror or first_line(exc)}") from None
        os.chmod(candidate, DIR_MODE)
        return candidate
    raise LogError(f"--log-dir {shown}: too many sessions named {base}")


def _open_private(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_APPEND, FILE_MODE)


def _is_disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: a private temporary file beside it (created new, never
    through a link), synced, then renamed over it. The temporary file never outlives a failure."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class SessionLog:
    """One run's files. Use as a context manager, or call close(); both are safe to repeat.

    Each row and event goes to the file in one write, straight to the operating system, so what was
    written survives a crash. When the disk fills, a cut row is taken back off the end of the file,
    and the room kept in `.reserve` is given back for the closing lines and session.json.
    """

    RESERVE_BYTES = 256 * 1024

    def __init__(self, folder: Path, columns: Sequence[str]):
        self.folder = Path(folder)
        self.columns = tuple(columns)  # frames.csv's header: contract.frame_columns() names
        self.closed = False
        self._lock = threading.Lock()
        self.rows_written = 0
        self.disk_full = False
        self._closing = False  # the closing records may use the reserve's room
        self._reserve = self.folder / ".reserve"
        self._frames_fd = self._events_fd = -1
        self._sizes: dict[int, int] = {}  # bytes written so far, by file descriptor
        try:
            self._frames_fd = _open_private(self.folder / "frames.csv")
            self._events_fd = _open_private(self.folder / "events.jsonl")
            self._keep_reserve()
        except OSError as exc:
            self._close_fds()
            if _is_disk_full(exc):
                raise DiskFullError(f"disk full: cannot start logs in {self.folder}") from None
            raise LogError(f"cannot write logs in {self.folder}: {exc.strerror or exc}") from None
        self._append(self._frames_fd, self._csv_line(self.columns))
        self.session: dict[str, Any] = {}

    @classmethod
    def create(cls, log_dir: Path, name: str, columns: Sequence[str]) -> SessionLog:
        return cls(make_session_dir(log_dir, name), columns)

    def _keep_reserve(self) -> None:
        fd = os.open(self._reserve, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        try:
            os.write(fd, bytes(self.RESERVE_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _release_reserve(self) -> None:
        self._reserve.unlink(missing_ok=True)

    @staticmethod
    def _csv_line(values: Sequence[str]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(values)
        return buffer.getvalue().encode("utf-8")

    def _append(self, fd: int, data: bytes) -> None:
        with self._lock:  # events come from more than one thread
            if self.closed or (self.disk_full and not self._closing):
                return
            # Only this log appends to its files (created new, under this lock): their sizes are known
            # without asking the system on every row.
            size = self._sizes.get(fd, 0)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                self._sizes[fd] = size + len(data)
            except OSError as exc:
                # A line is there whole or not at all: a cut one is taken back off the end.
                try:
                    os.ftruncate(fd, size)
                except OSError:
                    pass
                if _is_disk_full(exc):
                    self.disk_full = True
                    self._release_reserve()
                    raise DiskFullError(f"disk full while writing {self.folder}: stopped with the data written so far") from None
                raise LogError(f"cannot write logs in {self.folder}: {exc.strerror or exc}") from None

    def write_row(self, values: Sequence[Any]) -> None:
        """Write one row: a value per column, in the header's order."""
        self._append(self._frames_fd, self._csv_line([format_value(value) for value in values]))
        self.rows_written += 1

    def frame(self, values: Mapping[str, Any]) -> None:
        """Write one row from column names to values (missing ones are left empty)."""
        self.write_row([values.get(name) for name in self.columns])

    def event(self, type_: str, t_s: float | None, **fields: Any) -> None:
        record = {"type": type_, "t": None if t_s is None else round(float(t_s), 6), "wall": round(time.time(), 3)}
        record.update(fields)
        self._append(self._events_fd, (json.dumps(record, sort_keys=False, default=str) + "\n").encode("utf-8"))

    def begin_closing(self) -> None:
        """The run is over: the closing lines and session.json may use the room kept in reserve."""
        with self._lock:
            self._closing = True
            self._release_reserve()

    def write_session(self, session: dict[str, Any]) -> None:
        """Write session.json atomically (a temporary file, then a rename)."""
        self.session = session
        if self.disk_full and not self._closing:
            return
        target = self.folder / "session.json"
        try:
            write_atomically(target, (json.dumps(session, indent=2, default=str) + "\n").encode("utf-8"))
        except OSError as exc:
            if _is_disk_full(exc):
                self.disk_full = True
                raise DiskFullError(f"disk full while writing {target}: stopped with the data written so far") from None
            raise LogError(f"cannot write {target}: {exc.strerror or exc}") from None

    def _close_fds(self) -> None:
        for fd in (self._frames_fd, self._events_fd):
            if fd < 0:
                continue
            try:
                os.fsync(fd)
            except OSError:
                pass  # a full disk: what reached the file is kept, and the caller was told
            finally:
                os.close(fd)
        self._frames_fd = self._events_fd = -1

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._close_fds()
            self._release_reserve()

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
