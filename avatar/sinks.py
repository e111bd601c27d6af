"""Where outcomes and events leave a run: the session log, LSL, and any later output, through one fan-out.

An edge of the pipeline. A new output is a new `Sink`; `Sinks` builds each frame's row once from the
contract table (contract.py), hands it to every sink, and closes them all with one ExitStack.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any, Protocol

from avatar import contract
from avatar.contract import Column
from avatar.events import Aborted, Event, SessionEnd, SessionStatus
from avatar.logs import DiskFullError, SessionLog, utc_now_iso
from avatar.outcome import FrameOutcome


class Sink(Protocol):
    """One output. Calls come from more than one thread, each kind in order."""

    def frame(self, outcome: FrameOutcome, values: Sequence[object]) -> None:
        """One frame's row: a value per contract column, in order."""

    def event(self, t_s: float | None, event: Event) -> None: ...

    def closing(self) -> None:
        """The run is over: the closing events and finish() follow (make room for them)."""

    def finish(self, status: SessionStatus, session_info: dict[str, Any]) -> None:
        """After the closing events: the last word on the session (session.json)."""

    def close(self) -> None: ...


class LogSink:
    """frames.csv, events.jsonl and session.json in a new folder (logs.SessionLog)."""

    def __init__(self, log: SessionLog, session_info: dict[str, Any]):
        self.log = log
        self.session_info = session_info
        log.write_session(session_info)

    def frame(self, outcome: FrameOutcome, values: Sequence[object]) -> None:
        self.log.write_row(values)

    def event(self, t_s: float | None, event: Event) -> None:
        self.log.event(event.type, t_s, **event.record())

    def closing(self) -> None:
        self.log.begin_closing()

    def finish(self, status: SessionStatus, session_info: dict[str, Any]) -> None:
        self.session_info.update(session_info, end=utc_now_iso(), status=status.value)
        self.log.write_session(self.session_info)

    def close(self) -> None:
        self.log.close()


class LslSink:
    """The LSL data stream (the contract's streamed columns) and the markers stream (every event)."""

    def __init__(self, streams, columns: Sequence[Column]):
        self.streams = streams  # lsl.LslStreams, created by the runner (pylsl is imported only with --lsl)
        self._streamed = [i for i, column in enumerate(columns) if column.lsl_type is not None]

    def frame(self, outcome: FrameOutcome, values: Sequence[object]) -> None:
        self.streams.push_frame([values[i] for i in self._streamed],
                                timestamp=self.streams.clock_at_perf(outcome.frame.capture_perf))

    def event(self, t_s: float | None, event: Event) -> None:
        self.streams.push_marker(event.type, {"t": t_s, **event.record()})

    def closing(self) -> None:
        pass

    def finish(self, status: SessionStatus, session_info: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        self.streams.close()


class Sinks:
    """Every output of a run. The row of a frame is built once; one sink failing never keeps
    another from closing."""

    def __init__(self, columns: Sequence[Column]):
        self.columns = tuple(columns)
        self._sinks: list[Sink] = []
        self._stack = ExitStack()
        self.rows = 0
        self.last_t_s = 0.0  # source time of the last row

    def add(self, sink: Sink) -> None:
        self._sinks.append(sink)
        self._stack.callback(sink.close)

    def __bool__(self) -> bool:
        return bool(self._sinks)

    def frame(self, outcome: FrameOutcome, latency_ms: float) -> None:
        self.rows += 1
        self.last_t_s = max(self.last_t_s, outcome.frame.t_s)
        if not self._sinks:
            return
        values = contract.row(self.columns, outcome, latency_ms)
        for sink in self._sinks:
            sink.frame(outcome, values)

    def event(self, t_s: float | None, event: Event) -> None:
        for sink in self._sinks:
            sink.event(t_s, event)

    def end(self, status: SessionStatus, reason: str, t_s: float, frames: int, session_info: dict[str, Any]) -> list[str]:
        """The closing events and session.json, in every sink; returns what could not be written."""
        problems = []
        for sink in self._sinks:
            try:
                sink.closing()
                if status is SessionStatus.ABORTED:
                    sink.event(t_s, Aborted(reason))
                sink.event(t_s, SessionEnd(status.value, reason, frames))
            except DiskFullError as exc:
                problems.append(str(exc))
            try:  # session.json tells the truth even when the last lines found no room
                sink.finish(status, {**session_info, "frames": frames, "reason": reason})
            except DiskFullError as exc:
                problems.append(str(exc))
        return problems

    def close(self) -> None:
        self._stack.close()


def latency_ms_since(capture_perf: float) -> float:
    return (time.perf_counter() - capture_perf) * 1000.0
