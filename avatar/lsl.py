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
from collections.abc import Mapping, Sequence
from pathlib import Path

from avatar import __version__
from avatar.contract import Column
from avatar.errors import AvatarError

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
MAX_PENDING_MARKERS = 1000  # a lab that floods markers while nobody polls loses the oldest

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


def default_source_id() -> str:
    """A source id that is stable for this run: a recorder that loses the stream reconnects to it."""
    return f"mirror-avatar-{socket.gethostname()}-{os.getpid()}"


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
    liblsl, so a recorder must be running before the session starts (docs/lsl.md).
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


class MarkerListener:
    """Receives markers that a lab sends to the avatar on an LSL stream named `stream_name`.

    A background thread looks for the stream (short resolves, retried, so nothing waits for it),
    connects when it appears, reconnects when it comes back, and keeps what arrives for `poll()`.
    """

    def __init__(self, stream_name: str = CONTROL_STREAM_NAME):
        self.stream_name = stream_name
        self._pylsl = _import_pylsl()
        _quiet_defaults(self._pylsl)
        self._pending: deque[tuple[str, float]] = deque(maxlen=MAX_PENDING_MARKERS)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self.source_id: str | None = None  # of the control stream, once found
        self._thread = threading.Thread(target=self._run, name="lsl-markers", daemon=True)
        self._thread.start()

    @property
    def connected(self) -> bool:
        """True once the control stream was found and an inlet opened on it."""
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def poll(self) -> list[str]:
        """The marker strings received since the last poll, oldest first."""
        return [text for text, _ in self.poll_with_times()]

    def poll_with_times(self) -> list[tuple[str, float]]:
        """As poll(), with each marker's LSL time stamp (the sender's, corrected to this clock)."""
        with self._lock:
            items = list(self._pending)
            self._pending.clear()
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
            except Exception:  # the stream went away for good, or a bad sample: look for it again
                self._connected.clear()
                self._stop.wait(RESOLVE_PAUSE_S)

    def _listen(self, info) -> None:
        pylsl = self._pylsl
        # recover=False: when the sender quits, pull_sample raises LostError and the loop
        # above resolves the name again, which also finds a sender restarted with a new source id.
        # proc_clocksync: time stamps arrive on this machine's LSL clock, like the data stream's.
        inlet = pylsl.StreamInlet(info, max_buflen=60, recover=False, processing_flags=pylsl.proc_clocksync)
        try:
            inlet.open_stream(timeout=5.0)
            self.source_id = info.source_id()
            self._connected.set()
            while not self._stop.is_set():
                sample, stamp = inlet.pull_sample(timeout=PULL_TIMEOUT_S)
                if sample is None:
                    continue
                text = sample[0] if len(sample) == 1 else json.dumps(list(sample))
                with self._lock:
                    self._pending.append((str(text), float(stamp)))
        finally:
            self._connected.clear()
            inlet.close_stream()
            del inlet
