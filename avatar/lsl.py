"""Lab streaming layer (LSL): a run's frames and events as LSL streams, and markers sent in by a lab.

An edge of the pipeline, beside the logs: it copies what the loop hands it and never feeds back into
the stages. Only used with `--lsl`; docs/lsl.md describes the streams (part of the contract).

pylsl is imported lazily, inside the functions that need it, for two reasons: a machine without
liblsl can still run everything else, and liblsl reads its configuration (`LSLAPICFG`,
`lsl_api.cfg`) once, at its first call, so a caller (a test) can choose it before that moment.
"""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from enum import Enum
from pathlib import Path

from avatar import __version__
from avatar.contract import Column
from avatar.errors import AvatarError
from avatar.events import Event, LabMarker, MarkersDropped, TruncatedLabMarker

DATA_STREAM_NAME = "MirrorAvatar"
# Not one of the XDF meta-data types (EEG, Gaze, MoCap, ...): none fits facial-expression channels,
# and the XDF spec allows a type of one's own. Recorders and pyxdf treat it as an opaque string.
DATA_STREAM_TYPE = "Expression"
MARKER_STREAM_NAME = "MirrorAvatarMarkers"
MARKER_STREAM_TYPE = "Markers"  # the XDF type that LabRecorder, pyxdf and MNE know as events
CONTROL_STREAM_NAME = "MirrorAvatarControl"  # an outside stream of markers *to* the avatar
IRREGULAR_RATE = 0.0  # LSL's IRREGULAR_RATE: samples come when they come

# How the listener looks for the control stream: short resolves, so close() is quick, and a pause
# between tries, so a lab without one costs almost nothing.
RESOLVE_TIMEOUT_S = 0.5
RESOLVE_PAUSE_S = 1.0
PULL_TIMEOUT_S = 0.2
MAX_PENDING_MARKERS = 1000  # a lab that floods markers while nobody polls loses the oldest (counted)
# liblsl's own queue for the control stream, in units of 100 samples for an irregular stream: up to
# 1,000 markers wait there while the listener's thread is busy. The thread drains it quickly (markers
# over the rate are counted and thrown away without being decoded), so it rarely holds more than a few.
INLET_BUFFER = 10
PULL_CHUNK = 64  # markers taken off liblsl's queue in one call under a flood
CLOCK_OFFSET_EVERY_S = 5.0  # how often the offset is asked again: clocks drift by microseconds a second

# A liblsl configuration that keeps discovery on this machine: multicast only within the machine,
# queries sent straight to 127.0.0.1, IPv6 off (some sandboxes have no ::1 route), and a session
# id of its own so that other LSL programs on the machine neither see these streams nor are seen.
# Used by the tests; a user can write it to a file and point LSLAPICFG at it (docs/lsl.md).
LOOPBACK_CONFIG = """\
[ports]
IPv6 = disable

[multicast]
ResolveScope = machine

[lab]
KnownPeers = {{127.0.0.1}}
SessionID = {session_id}

[log]
level = -2
"""

# Where liblsl looks for a configuration, in its own order (liblsl api_config.cpp).
_CONFIG_FILES = ("lsl_api.cfg", "~/lsl_api/lsl_api.cfg", "/etc/lsl_api/lsl_api.cfg")


def loopback_config(session_id: str) -> str:
    """The text of an lsl_api.cfg that keeps LSL on this machine, in a session of its own."""
    return LOOPBACK_CONFIG.format(session_id=session_id)


def default_source_id(mode: str = "mirror") -> str:
    """A source id that is the same for every run of one mode on this machine: `mirror-avatar-<host>-<mode>`.

    A recorder (LabRecorder) that loses a stream takes it back when a stream of the same name and
    source id appears, so a run restarted during a recording is recorded on. The mode is part of it
    because the modes have different channels, and a stream taken back must keep its channels. The
    process id is not: it changes with every run (it was, in older versions).
    """
    return f"mirror-avatar-{socket.gethostname()}-{mode}"


def _import_pylsl():
    try:
        import pylsl
    except (ImportError, RuntimeError, OSError) as exc:  # pylsl raises RuntimeError when liblsl is missing
        raise AvatarError(f"--lsl: liblsl is not available ({_one_line(exc)}); install pylsl>=1.16") from None
    return pylsl


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _quiet_defaults(pylsl) -> None:
    """With no lsl_api.cfg anywhere, keep liblsl's defaults but not its INFO lines on stderr.

    A configuration the user has (LSLAPICFG or a file where liblsl looks) is left alone: a lab's
    KnownPeers or SessionID must win, or its recorder would not see the streams.
    """
    if os.environ.get("LSLAPICFG") or any(Path(p).expanduser().exists() for p in _CONFIG_FILES):
        return
    try:
        pylsl.set_config_content("[log]\nlevel = -2\n")
    except Exception:  # an old liblsl without it: only the log lines differ
        pass


def _as_float(value) -> float:
    """A sample value: None, text and anything not a number become NaN (the stream's "no value")."""
    if value is None or isinstance(value, str):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def marker_text(event_type: str, payload: Mapping) -> str:
    """One marker: the event as a one-line JSON object, `{"type": ..., **payload}` (NaN becomes null)."""
    body = {"type": event_type, **{k: v for k, v in payload.items() if k != "type"}}
    return json.dumps(_json_safe(body), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class LslStreams:
    """The two outlets of a run: one float32 sample per frame, and one JSON string per event.

    Creating them does not wait for a listener; a sample pushed while nobody listens is dropped by
    liblsl, so a recorder must listen before the session starts: `wait_for_recorder` (docs/lsl.md).
    """

    def __init__(
        self,
        channels: Sequence[Column],
        source_id: str | None = None,
        nominal_rate: float = IRREGULAR_RATE,
        metadata: Mapping[str, object] | None = None,
    ):
        channel_names = [c.name for c in channels]
        if not channel_names:
            raise AvatarError("--lsl: the data stream needs at least one channel")
        if len(set(channel_names)) != len(channel_names):
            raise AvatarError(f"--lsl: channel names repeat: {', '.join(channel_names)}")
        self.channels = tuple(channels)
        pylsl = _import_pylsl()
        _quiet_defaults(pylsl)
        self.channel_names = list(channel_names)
        self.source_id = source_id or default_source_id()
        self.nominal_rate = float(nominal_rate) if nominal_rate and nominal_rate > 0 else IRREGULAR_RATE
        self._pylsl = pylsl
        self._lock = threading.Lock()  # pushes come from the perception, present and main threads
        self._closed = False
        try:
            data_info = pylsl.StreamInfo(
                DATA_STREAM_NAME,
                DATA_STREAM_TYPE,
                len(self.channel_names),
                self.nominal_rate,
                pylsl.cf_float32,
                self.source_id,
            )
            self._describe(data_info, metadata or {})
            marker_info = pylsl.StreamInfo(
                MARKER_STREAM_NAME, MARKER_STREAM_TYPE, 1, IRREGULAR_RATE, pylsl.cf_string, f"{self.source_id}-markers"
            )
            self._describe_markers(marker_info)
            self._data = pylsl.StreamOutlet(data_info)
            self._markers = pylsl.StreamOutlet(marker_info)
        except Exception as exc:
            raise AvatarError(f"--lsl: cannot create the LSL streams ({_one_line(exc)})") from None

    def _describe(self, info, metadata: Mapping[str, object]) -> None:
        desc = info.desc()
        channels = desc.append_child("channels")
        for column in self.channels:
            channel = channels.append_child("channel")
            channel.append_child_value("label", column.name)
            channel.append_child_value("unit", column.unit)
            channel.append_child_value("type", column.lsl_type or "")
        acquisition = desc.append_child("acquisition")
        acquisition.append_child_value("manufacturer", "mirror-avatar")
        acquisition.append_child_value("model", "MediaPipe face landmarker + empathy model")
        acquisition.append_child_value("version", __version__)
        if metadata:
            extra = desc.append_child("mirror_avatar")
            for key, value in metadata.items():
                extra.append_child_value(str(key), "" if value is None else str(value))

    def _describe_markers(self, info) -> None:
        desc = info.desc()
        desc.append_child_value("format", "json")
        desc.append_child_value("data_stream", DATA_STREAM_NAME)
        desc.append_child_value("data_source_id", self.source_id)
        acquisition = desc.append_child("acquisition")
        acquisition.append_child_value("manufacturer", "mirror-avatar")
        acquisition.append_child_value("version", __version__)

    @staticmethod
    def clock_at_perf(perf_s: float) -> float:
        """LSL's clock at a moment given by time.perf_counter(), e.g. a frame's capture.

        The two clocks are both monotonic but need not be the same clock, so the age of the moment
        is carried over rather than the reading.
        """
        import pylsl

        return pylsl.local_clock() - (time.perf_counter() - perf_s)

    def push_frame(self, values: Sequence[object], timestamp: float | None = None) -> None:
        """One sample: a value per channel, in order; a None or text value is NaN.

        `timestamp` is on LSL's clock (see `clock_at_perf`); None stamps the sample now.
        """
        row = [_as_float(value) for value in values]
        with self._lock:
            if self._closed:
                return
            if timestamp is None:
                self._data.push_sample(row)
            else:
                self._data.push_sample(row, float(timestamp))

    def push_marker(self, event_type: str, payload: Mapping | None = None, timestamp: float | None = None) -> str:
        """One event as a marker; returns the string that was sent."""
        text = marker_text(event_type, payload or {})
        with self._lock:
            if not self._closed:
                if timestamp is None:
                    self._markers.push_sample([text])
                else:
                    self._markers.push_sample([text], float(timestamp))
        return text

    def has_consumers(self, markers: bool = False) -> bool:
        """True when some inlet (a recorder, a viewer) is connected to the data (or marker) stream."""
        with self._lock:
            if self._closed:
                return False
            return bool((self._markers if markers else self._data).have_consumers())

    def close(self) -> None:
        """Withdraw both streams; safe to call twice. Recorders see the streams end."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            data, markers = self._data, self._markers
            self._data = self._markers = None
        del data, markers  # pylsl destroys an outlet when its last reference goes

    def __enter__(self) -> LslStreams:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- meeting the lab's recorder: --wait-for-recorder and --labrecorder -----------------------

RECORDER_WAIT_S = 60.0  # --wait-for-recorder without S, and --labrecorder: time to set LabRecorder up by hand
RECORDER_POLL_S = 0.05  # how often the outlets are asked for a consumer while the session waits
LABRECORDER_PORT = 22345  # LabRecorder's remote control ("EnableRCS" in its window) listens here by default
LABRECORDER_DEFAULT = f"127.0.0.1:{LABRECORDER_PORT}"
LABRECORDER_CONNECT_S = 2.0  # a recorder that does not accept the connection by then is not listening
# LabRecorder answers a command with "OK" once its window has done it; `update` looks for streams
# (about a second). Each command waits for its answer, at most this long: an older LabRecorder read
# one line each time data arrived, so the second of two commands sent together was never read.
LABRECORDER_ANSWER_S = 3.0
# LabRecorder is told to stop this long after session_end was sent: it takes what its inlets hold
# every 0.5 s (chunk_interval in its recording.h), and a stop before that can leave the last markers out.
LABRECORDER_STOP_AFTER_S = 1.0


@dataclass(frozen=True)
class RecorderWait:
    """How the wait for a recorder ended: whether one listened to both streams, and after how long."""

    connected: bool
    waited_s: float
    timeout_s: float

    def as_dict(self) -> dict[str, object]:
        return {"connected": self.connected, "waited_s": round(self.waited_s, 3), "timeout_s": self.timeout_s}


def wait_for_recorder(streams: LslStreams, timeout_s: float, on_wait: Callable[[float], None] | None = None,
                      poll_s: float = RECORDER_POLL_S) -> RecorderWait:
    """Wait until some inlet (a recorder) is connected to both of the run's streams, at most `timeout_s`.

    `on_wait(remaining_s)` is called between two looks (a window draws its caption there). Whatever it
    raises ends the wait, and so does a signal handler's StopRequested: the wait runs in the main thread.
    """
    started = time.monotonic()
    while True:
        waited_s = time.monotonic() - started
        if streams.has_consumers() and streams.has_consumers(markers=True):
            return RecorderWait(True, waited_s, timeout_s)
        if waited_s >= timeout_s:
            return RecorderWait(False, waited_s, timeout_s)
        if on_wait is not None:
            on_wait(timeout_s - waited_s)
        time.sleep(min(poll_s, max(0.0, timeout_s - waited_s)))


class LabRecorderRemote:
    """LabRecorder's remote control: one text line per command over TCP (LabRecorder's README, "Remote Control").

    Used here: `update` (look for streams again, so this run's are listed), `select all`, `start`, and
    `stop`. Each phase opens a connection of its own, so a LabRecorder restarted during the session is
    still told to stop. A recorder that is not listening is a `problem` (one notice), never an error.
    """

    def __init__(self, host: str, port: int, connect_timeout_s: float = LABRECORDER_CONNECT_S,
                 answer_timeout_s: float = LABRECORDER_ANSWER_S):
        self.host, self.port = host, port
        self.connect_timeout_s = connect_timeout_s
        self.answer_timeout_s = answer_timeout_s
        self.started = False  # LabRecorder took `start`
        self.stopped = False
        self.problem: str | None = None  # why the last phase failed, for a notice

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def start(self) -> bool:
        """Tell LabRecorder to list the streams, select them all and record; False (and `problem`) if it cannot be told."""
        self.started = self._send("update", "select all", "start")
        return self.started

    def stop(self) -> bool:
        """Tell LabRecorder to stop recording (only when it was started here)."""
        if self.started and not self.stopped:
            self.stopped = self._send("stop")
        return self.stopped

    def _send(self, *commands: str) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s) as connection:
                for command in commands:
                    connection.sendall(f"{command}\n".encode("ascii"))
                    self._answer(connection)
        except OSError as exc:
            self.problem = (f"--labrecorder: LabRecorder's remote control at {self.address} did not take "
                            f"{' / '.join(commands)!r} ({_one_line(exc)}); is LabRecorder running with EnableRCS on?")
            return False
        return True

    def _answer(self, connection: socket.socket) -> None:
        """Wait for LabRecorder's answer to one command ("OK"), at most `answer_timeout_s`: the next command
        goes after it, so LabRecorder reads each on its own."""
        connection.settimeout(self.answer_timeout_s)
        try:
            connection.recv(256)
        except TimeoutError:
            pass
        finally:
            connection.settimeout(self.connect_timeout_s)


class RecorderGate:
    """Meets the lab's recorder before the session starts (docs/lsl.md, "Recording with LabRecorder").

    With `labrecorder` ((host, port) of LabRecorder's remote control), it tells LabRecorder to record
    the streams, and to stop at the end. With `wait_s` (and always with `labrecorder`), it holds the
    session's start until a recorder listens to both streams, so `session_start` is in the recording.
    """

    def __init__(self, streams: LslStreams, wait_s: float | None = None, labrecorder: tuple[str, int] | None = None,
                 stop_after_s: float = LABRECORDER_STOP_AFTER_S):
        self.streams = streams
        self.wait_s = wait_s if wait_s is not None else (RECORDER_WAIT_S if labrecorder is not None else None)
        self.remote = LabRecorderRemote(*labrecorder) if labrecorder is not None else None
        self.stop_after_s = stop_after_s
        self.waited: RecorderWait | None = None
        self._notice: Callable[[str], None] = lambda text: None

    def meet(self, notice: Callable[[str], None], on_wait: Callable[[float], None] | None = None) -> None:
        """Before session_start: start LabRecorder, then wait for a recorder. `notice` says what happens, at once."""
        self._notice = notice
        if self.remote is not None and not self.remote.start():
            notice(f"{self.remote.problem}; the session goes on without starting a recording")
        if self.wait_s is None:
            return
        notice(f"waiting for the recorder: record {DATA_STREAM_NAME} and {MARKER_STREAM_NAME} "
               f"(source_id {self.streams.source_id}); the session starts then, or in {self.wait_s:g} s")
        started = time.monotonic()
        try:
            self.waited = wait_for_recorder(self.streams, self.wait_s, on_wait)
        except BaseException:  # a signal or the window stopped the wait: session.json says how long it lasted
            self.waited = RecorderWait(False, time.monotonic() - started, self.wait_s)
            raise
        if not self.waited.connected:
            notice(f"no recorder listened to both LSL streams within {self.wait_s:g} s; the session starts anyway, "
                   "and a recording started later misses its beginning")

    def session_info(self) -> dict[str, dict[str, object]]:
        """For session.json: `lsl_recorder` (the wait, and what LabRecorder was told)."""
        info: dict[str, object] = {"source_id": self.streams.source_id}
        if self.waited is not None:
            info["wait"] = self.waited.as_dict()
        if self.remote is not None:
            info["labrecorder"] = {"address": self.remote.address, "started": self.remote.started}
        return {"lsl_recorder": info}

    def close(self) -> None:
        """After session_end: tell LabRecorder to stop, once the last markers had time to reach it."""
        if self.remote is None or not self.remote.started or self.remote.stopped:
            return
        time.sleep(self.stop_after_s)
        if not self.remote.stop():
            self._notice(f"{self.remote.problem}; stop the recording in LabRecorder")


class DropReason(Enum):
    """Why a marker from the lab was received but not logged (the `reason` of a markers_dropped event)."""

    RATE = "rate"  # more than MarkerLimits.per_second arrived in one second
    QUEUE_FULL = "queue full"  # nobody polled, and MarkerLimits.pending were already waiting


@dataclass(frozen=True)
class MarkerLimits:
    """How much of a lab's marker stream is kept, so that a broken or hostile sender cannot flood the run.

    Measured before these limits: 1 MB markers at 400/s took the program from 213 MB to 2.2 GB, the
    markers' latency to 8.5 s and events.jsonl to 1 GB in 4 s (docs/lsl.md).
    """

    max_chars: int = 1000  # a longer marker is cut here and logged with `truncated: true`
    per_second: int = 50  # more in one second are dropped, counted and reported
    pending: int = MAX_PENDING_MARKERS  # waiting for poll(); beyond this the oldest are dropped
    report_every_s: float = 1.0  # markers_dropped at most this often (per reason)


@dataclass(frozen=True)
class ReceivedMarker:
    """One marker as received: its text (cut to the limit), its LSL time stamp, and its size on the wire."""

    text: str
    stamp: float
    size_bytes: int
    truncated: bool


@dataclass(frozen=True)
class MarkerCounts:
    """What became of the markers received so far; always `received == logged + dropped + pending`."""

    received: int = 0
    logged: int = 0  # handed out by poll() / poll_events(), to be logged
    dropped: int = 0  # over the rate, or pushed out of a full queue
    truncated: int = 0  # logged, but cut to MarkerLimits.max_chars
    pending: int = 0  # received, not yet polled

    def as_dict(self) -> dict[str, int]:
        """For session.json's `lsl_markers`."""
        return asdict(self)


@dataclass(frozen=True)
class Backlog:
    """What waits for poll(): markers and their characters."""

    markers: int
    chars: int


def decode_marker(values: Sequence[bytes | str], max_chars: int) -> tuple[str, bool]:
    """A marker's text, decoded leniently (invalid UTF-8 becomes U+FFFD) and cut to max_chars.

    Returns the text and whether it was cut. A sample with several channels becomes a JSON list. Only
    the first 4 * max_chars bytes of a value are decoded: a huge marker costs no more than a short one.
    """
    limit = 4 * max_chars + 4  # a UTF-8 character is at most 4 bytes; the cut one lands past max_chars
    texts, cut = [], False
    for value in values:
        if isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value[:limit])
            cut = cut or len(value) > limit
            texts.append(raw.decode("utf-8", errors="replace"))
        else:
            texts.append(str(value)[:limit])
            cut = cut or len(str(value)) > limit
    text = texts[0] if len(texts) == 1 else json.dumps(texts, ensure_ascii=False)
    if len(text) > max_chars:
        return text[:max_chars], True
    return text, cut


def _size_bytes(values: Sequence[bytes | str]) -> int:
    return sum(len(v) if isinstance(v, (bytes, bytearray, memoryview)) else len(str(v).encode("utf-8", "replace"))
               for v in values)


class MarkerListener:
    """Receives markers that a lab sends to the avatar on an LSL stream named `stream_name`.

    A background thread looks for the stream (short resolves, retried, so nothing waits for it),
    connects when it appears, reconnects when it comes back, and keeps what arrives for `poll()`,
    within `limits`: each marker cut to a length, at most so many a second, at most so many waiting.
    Every marker received is counted as logged, dropped or pending (`counts`); `poll_events()` reports
    drops as markers_dropped events, never silently.
    """

    def __init__(self, stream_name: str = CONTROL_STREAM_NAME, limits: MarkerLimits | None = None):
        self.stream_name = stream_name
        self.limits = limits or MarkerLimits()
        self._pylsl = _import_pylsl()
        _quiet_defaults(self._pylsl)
        self._pending: deque[ReceivedMarker] = deque()
        self._pending_chars = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._counts = MarkerCounts()
        self._unreported = dict.fromkeys(DropReason, 0)  # dropped since the last markers_dropped
        self._last_report = dict.fromkeys(DropReason, -math.inf)  # time.monotonic() of it
        self._window_end = -math.inf  # the rate limit's one-second window, on time.monotonic()
        self._window_count = 0
        self.source_id: str | None = None  # of the control stream, once found
        self._thread = threading.Thread(target=self._run, name="lsl-markers", daemon=True)
        self._thread.start()

    @property
    def connected(self) -> bool:
        """True once the control stream was found and an inlet opened on it."""
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    @property
    def counts(self) -> MarkerCounts:
        """Markers received, logged, dropped, truncated and pending so far."""
        with self._lock:
            return replace(self._counts, pending=len(self._pending))

    def session_info(self) -> dict[str, dict[str, int]]:
        """What became of the lab's markers, for session.json (`lsl_markers`)."""
        return {"lsl_markers": self.counts.as_dict()}

    def backlog(self) -> Backlog:
        """The markers waiting for poll() and their characters (both bounded by `limits`)."""
        with self._lock:
            return Backlog(len(self._pending), self._pending_chars)

    def poll(self) -> list[str]:
        """The marker strings received since the last poll, oldest first (cut to the limit)."""
        return [marker.text for marker in self._take()]

    def poll_with_times(self) -> list[tuple[str, float]]:
        """As poll(), with each marker's LSL time stamp (the sender's, corrected to this clock)."""
        return [(marker.text, marker.stamp) for marker in self._take()]

    def poll_events(self, now_s: float | None = None) -> list[Event]:
        """The markers received since the last poll as events, oldest first, then any drops to report.

        A marker is a `marker` event (source `lsl`; a cut one has `truncated` and `size_bytes`). Markers
        dropped since the last report give one markers_dropped event per reason, at most once every
        `limits.report_every_s` (`now_s` is time.monotonic(), for tests).
        """
        events: list[Event] = []
        for marker in self._take():
            if marker.truncated:
                events.append(TruncatedLabMarker("lsl", marker.text, True, marker.size_bytes))
            else:
                events.append(LabMarker("lsl", marker.text))
        now_s = time.monotonic() if now_s is None else now_s
        with self._lock:
            for reason in DropReason:
                count = self._unreported[reason]
                if count and now_s - self._last_report[reason] >= self.limits.report_every_s:
                    events.append(MarkersDropped(count, reason.value))
                    self._unreported[reason] = 0
                    self._last_report[reason] = now_s
        return events

    def _take(self) -> list[ReceivedMarker]:
        with self._lock:
            items = list(self._pending)
            self._pending.clear()
            self._pending_chars = 0
            self._counts = replace(self._counts, logged=self._counts.logged + len(items))
        return items

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=RESOLVE_TIMEOUT_S + PULL_TIMEOUT_S + 2.0)

    def __enter__(self) -> MarkerListener:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the background thread ----------------------------------------------------------------

    def _run(self) -> None:
        pylsl = self._pylsl
        while not self._stop.is_set():
            try:
                found = pylsl.resolve_byprop("name", self.stream_name, 1, RESOLVE_TIMEOUT_S)
            except Exception:  # liblsl fails a lookup while the network changes: look again shortly
                found = []
            if not found:
                self._stop.wait(RESOLVE_PAUSE_S)
                continue
            try:
                self._listen(found[0])
            except Exception:  # the stream went away for good: look for it again
                self._connected.clear()
                self._stop.wait(RESOLVE_PAUSE_S)

    def _open_inlet(self, info):
        """An inlet on the lab's stream, and whether it gives strings as raw bytes (pylsl >= 1.18)."""
        pylsl = self._pylsl
        # recover=False: when the sender quits, pull_sample raises LostError and the loop
        # above resolves the name again, which also finds a sender restarted with a new source id.
        # No proc_clocksync: it cost 0.33 ms a sample (measured), so a flood outran the thread; the
        # few markers kept are put on this clock by _ClockOffset instead.
        options = dict(max_buflen=INLET_BUFFER, recover=False)
        try:
            return pylsl.StreamInlet(info, as_numpy=True, **options), True
        except TypeError:  # an older pylsl: it decodes, and a bad value raises (see _pull)
            return pylsl.StreamInlet(info, **options), False

    def _listen(self, info) -> None:
        inlet, raw = self._open_inlet(info)
        try:
            inlet.open_stream(timeout=5.0)
            self.source_id = info.source_id()
            self._connected.set()
            clock = _ClockOffset(inlet)
            while not self._stop.is_set():
                pulled = self._pull(inlet, raw)
                for values, stamp in pulled[: self._admit(len(pulled))]:
                    self._keep(values, stamp + clock.offset_s())
        finally:
            self._connected.clear()
            inlet.close_stream()
            del inlet

    def _pull(self, inlet, raw: bool) -> list[tuple[Sequence[bytes | str], float]]:
        """The samples waiting, oldest first, each with its sender's time stamp; waits PULL_TIMEOUT_S for one."""
        try:
            sample, stamp = inlet.pull_sample(timeout=PULL_TIMEOUT_S)
        except UnicodeDecodeError as exc:
            # An older pylsl decodes after taking the sample off the queue: keep the raw bytes it
            # failed on (the whole marker on a one-channel stream) and go on with the next sample;
            # its time stamp is lost with the sample, so it is stamped on arrival.
            return [([exc.object], self._pylsl.local_clock())]
        if sample is None:
            return []
        pulled = [(list(sample), float(stamp))]
        if raw:  # the rest of what waits in one call: about 20 us a marker less than one call each (measured)
            samples, stamps = inlet.pull_chunk(timeout=0.0, max_samples=PULL_CHUNK)
            pulled.extend((list(values), float(t)) for values, t in zip(samples, stamps, strict=True))
        return pulled

    def _admit(self, count: int) -> int:
        """Count `count` samples received at once; returns how many of them (the first) this second still takes."""
        now = time.monotonic()
        with self._lock:
            if now >= self._window_end:
                self._window_end, self._window_count = now + 1.0, 0
            admitted = max(0, min(count, self.limits.per_second - self._window_count))
            self._window_count += admitted
            if count > admitted:  # the admitted ones are counted as received when queued, in one step
                self._counts = replace(self._counts, received=self._counts.received + count - admitted)
                self._drop(DropReason.RATE, count - admitted)
            return admitted

    def _keep(self, values: Sequence[bytes | str], stamp: float) -> None:
        """Queue an admitted marker, cut to the limit; a full queue drops its oldest (counted)."""
        text, truncated = decode_marker(values, self.limits.max_chars)  # outside the lock: polls never wait
        marker = ReceivedMarker(text, stamp, _size_bytes(values), truncated)
        with self._lock:
            while len(self._pending) >= self.limits.pending:
                self._pending_chars -= len(self._pending.popleft().text)
                self._drop(DropReason.QUEUE_FULL)
            self._pending.append(marker)
            self._pending_chars += len(text)
            self._counts = replace(self._counts, received=self._counts.received + 1,
                                   truncated=self._counts.truncated + int(truncated))

    def _drop(self, reason: DropReason, count: int = 1) -> None:
        """Count markers dropped (the lock is held)."""
        self._counts = replace(self._counts, dropped=self._counts.dropped + count)
        self._unreported[reason] += count


class _ClockOffset:
    """The offset from the sender's LSL clock to this one, asked of liblsl at most every CLOCK_OFFSET_EVERY_S.

    liblsl's time_correction() took about 3 ms a call (measured), so it is not asked per marker.
    """

    def __init__(self, inlet):
        self._inlet = inlet
        self._offset_s = 0.0  # until the first answer: both clocks on one machine agree to microseconds
        self._asked_at = -math.inf

    def offset_s(self) -> float:
        now = time.monotonic()
        if now - self._asked_at >= CLOCK_OFFSET_EVERY_S:
            self._asked_at = now
            try:
                self._offset_s = float(self._inlet.time_correction(timeout=PULL_TIMEOUT_S))
            except Exception:  # no answer yet (or the sender is going): keep the last one
                pass
        return self._offset_s
