"""LSL streams with real liblsl on loopback: an outside listener finds them, reads them, and talks back.

liblsl reads its configuration once, at its first call, so the loopback configuration is set here, at
import (collection), before any test in this process touches LSL. It keeps discovery on this machine
and in a session id of its own, so these tests need no network and see no other LSL program.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from avatar import contract
from avatar.errors import AvatarError
from avatar.events import LabMarker, MarkersDropped, TruncatedLabMarker
from avatar.lsl import (
    CONTROL_STREAM_NAME,
    DATA_STREAM_NAME,
    DATA_STREAM_TYPE,
    MARKER_STREAM_NAME,
    MARKER_STREAM_TYPE,
    LslStreams,
    MarkerLimits,
    MarkerListener,
    decode_marker,
    loopback_config,
    marker_text,
)

_CONFIG_DIR = Path(tempfile.mkdtemp(prefix="mirror-avatar-lsl-"))
atexit.register(shutil.rmtree, _CONFIG_DIR, True)
(_CONFIG_DIR / "lsl_api.cfg").write_text(loopback_config(f"mirror-avatar-tests-{os.getpid()}"))
os.environ["LSLAPICFG"] = str(_CONFIG_DIR / "lsl_api.cfg")

RESOLVE_S = 5.0  # generous; on loopback a present stream is found in milliseconds
COLUMNS = contract.streamed(contract.BASE_COLUMNS) + tuple(c for c in contract.ECHO_COLUMNS if c.name in ("delay_s", "lapse"))
CHANNELS = [c.name for c in COLUMNS]


def _values(row: dict) -> list:
    """A frame's values in channel order, from a row by name (missing ones empty)."""
    return [row.get(name) for name in CHANNELS]


def _pylsl():
    import pylsl

    return pylsl


def _resolve(prop: str, value: str, source_id: str):
    """The stream with this property and source id, as an outside program would find it."""
    pylsl = _pylsl()
    deadline = time.monotonic() + RESOLVE_S
    while time.monotonic() < deadline:
        for info in pylsl.resolve_byprop(prop, value, 1, 1.0):
            if info.source_id() == source_id:
                return info
    raise AssertionError(f"no LSL stream with {prop}={value!r} and source_id={source_id!r} within {RESOLVE_S} s")


def _wait_until(condition, timeout_s: float = RESOLVE_S, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout_s} s")
        time.sleep(0.02)


def _channel_desc(info) -> list[tuple[str, str, str]]:
    channel = info.desc().child("channels").child("channel")
    found = []
    while not channel.empty():
        found.append((channel.child_value("label"), channel.child_value("unit"), channel.child_value("type")))
        channel = channel.next_sibling("channel")
    return found


@pytest.fixture
def streams(request):
    source_id = f"test-{os.getpid()}-{request.node.name}"
    with LslStreams(COLUMNS, source_id=source_id, nominal_rate=30.0, metadata={"mode": "study"}) as made:
        yield made


@pytest.fixture
def data_inlet(streams):
    pylsl = _pylsl()
    inlet = pylsl.StreamInlet(_resolve("name", DATA_STREAM_NAME, streams.source_id))
    inlet.open_stream(timeout=RESOLVE_S)
    _wait_until(streams.has_consumers, what="the data outlet seeing its listener")
    yield inlet
    inlet.close_stream()


def test_an_outside_listener_finds_the_data_stream_with_every_channel_named(streams):
    info = _resolve("name", DATA_STREAM_NAME, streams.source_id)
    assert info.type() == DATA_STREAM_TYPE == "Expression"
    assert info.channel_count() == len(CHANNELS)
    assert info.channel_format() == _pylsl().cf_float32
    assert info.nominal_srate() == pytest.approx(30.0)

    pylsl = _pylsl()
    inlet = pylsl.StreamInlet(info)
    full = inlet.info(timeout=RESOLVE_S)  # the resolver's copy has no <desc>; the inlet fetches it
    described = _channel_desc(full)
    assert [label for label, _, _ in described] == CHANNELS
    units = {label: unit for label, unit, _ in described}
    assert units["smile"] == "normalized"
    assert units["latency_ms"] == "milliseconds"
    assert units["delay_s"] == units["t"] == "seconds"
    assert units["frame"] == units["faces"] == "count"
    kinds = {label: kind for label, _, kind in described}
    assert (kinds["smile"], kinds["echo_smile"], kinds["gain"]) == ("Person", "Avatar", "Model")
    assert full.desc().child("mirror_avatar").child_value("mode") == "study"
    assert full.desc().child("acquisition").child_value("manufacturer") == "mirror-avatar"
    del inlet


def test_wall_clock_and_text_columns_are_not_streamed():
    from avatar.modes.study import StudyMode

    names = [c.name for c in contract.streamed(contract.frame_columns(StudyMode.columns))]
    assert "wall" not in names and not {"block", "condition", "phase"} & set(names)
    assert names[:3] == ["frame", "t", "faces"]


def test_every_streamed_column_has_a_unit_and_a_type():
    described = {c.name: (c.unit, c.lsl_type) for c in contract.streamed(contract.FRAME_COLUMNS)}
    assert described["yaw"] == ("degrees", "Person")
    assert described["delay_s"] == ("seconds", "Model")
    assert described["echo_wince"] == ("normalized", "Avatar")
    assert described["latency_ms"] == ("milliseconds", "Performance")
    assert all(unit and kind for unit, kind in described.values())


def test_pushed_frames_arrive_with_their_values_and_time_stamps(streams, data_inlet):
    pylsl = _pylsl()
    now = pylsl.local_clock()
    rows = [
        {"frame": 0, "t": 0.0, "wall": 1.8e9, "faces": 1, "smile": 0.25, "wince": 0.0, "echo_smile": 0.125, "gain": 0.5},
        {"frame": 1, "t": 1 / 30, "faces": 0, "smile": None, "wince": None, "echo_smile": 0.1, "lapse": True},
    ]
    for i, row in enumerate(rows):
        streams.push_frame(_values(row), timestamp=now + i / 30)

    received = []
    for _ in rows:
        sample, stamp = data_inlet.pull_sample(timeout=RESOLVE_S)
        assert sample is not None, "a pushed frame did not arrive"
        received.append((dict(zip(CHANNELS, sample, strict=True)), stamp))

    (first, t0), (second, t1) = received
    assert t0 == pytest.approx(now, abs=1e-6) and t1 == pytest.approx(now + 1 / 30, abs=1e-6)
    assert first["frame"] == 0 and first["faces"] == 1
    assert first["smile"] == pytest.approx(0.25, abs=1e-6)  # float32 on the wire
    assert first["echo_smile"] == pytest.approx(0.125, abs=1e-6)
    assert first["gain"] == pytest.approx(0.5, abs=1e-6)
    assert math.isnan(first["latency_ms"]), "a channel not in the row is NaN"
    assert second["frame"] == 1 and second["t"] == pytest.approx(1 / 30, abs=1e-6)
    assert math.isnan(second["smile"]) and math.isnan(second["wince"]), "None (no face) is NaN"
    assert second["lapse"] == 1.0


def test_frame_time_stamps_can_come_from_the_capture_moment(streams, data_inlet):
    captured = time.perf_counter() - 0.040  # a frame captured 40 ms ago
    stamp = LslStreams.clock_at_perf(captured)
    streams.push_frame(_values({"frame": 7}), timestamp=stamp)
    sample, received = data_inlet.pull_sample(timeout=RESOLVE_S)
    assert sample[CHANNELS.index("frame")] == 7
    assert received == pytest.approx(_pylsl().local_clock() - 0.040, abs=0.5)
    assert received == pytest.approx(stamp, abs=1e-6)


def test_the_marker_stream_receives_each_event_as_one_json_string(streams):
    pylsl = _pylsl()
    info = _resolve("name", MARKER_STREAM_NAME, f"{streams.source_id}-markers")
    assert info.type() == MARKER_STREAM_TYPE == "Markers"
    assert info.channel_count() == 1 and info.channel_format() == pylsl.cf_string
    assert info.nominal_srate() == 0.0
    inlet = pylsl.StreamInlet(info)
    inlet.open_stream(timeout=RESOLVE_S)
    _wait_until(lambda: streams.has_consumers(markers=True), what="the marker outlet seeing its listener")

    sent = streams.push_marker("block_start", {"t": 1.5, "block": "mimic", "index": 0, "odd": math.nan})
    sample, _ = inlet.pull_sample(timeout=RESOLVE_S)
    assert sample == [sent]
    assert json.loads(sample[0]) == {"type": "block_start", "t": 1.5, "block": "mimic", "index": 0, "odd": None}
    inlet.close_stream()
    del inlet


def test_marker_text_is_one_line_of_json_with_the_type_first():
    text = marker_text("marker", {"t": 2.0, "label": "line one\nline two", "type": "ignored"})
    assert "\n" not in text
    assert text.startswith('{"type":"marker"')
    assert json.loads(text)["label"] == "line one\nline two"


def test_the_marker_listener_receives_markers_from_a_lab(request):
    pylsl = _pylsl()
    with MarkerListener() as listener:  # started before the lab's stream exists: it keeps looking
        time.sleep(0.3)
        assert listener.poll() == []
        info = pylsl.StreamInfo(CONTROL_STREAM_NAME, "Markers", 1, 0.0, pylsl.cf_string, f"lab-{os.getpid()}")
        lab = pylsl.StreamOutlet(info)
        try:
            assert listener.wait_connected(10.0), "the listener did not find the lab's marker stream"
            assert lab.wait_for_consumers(RESOLVE_S)
            lab.push_sample(["stimulus onset"])
            lab.push_sample(['{"type":"trial","n":3}'])
            received: list[str] = []
            _wait_until(lambda: received.extend(listener.poll()) or len(received) >= 2, what="two markers arriving")
            assert received == ["stimulus onset", '{"type":"trial","n":3}']
            assert listener.source_id == f"lab-{os.getpid()}"
        finally:
            del lab


def test_the_marker_listener_closes_quickly_when_no_lab_stream_exists():
    listener = MarkerListener(stream_name=f"NoSuchStream-{os.getpid()}")
    time.sleep(0.2)
    started = time.monotonic()
    listener.close()
    assert time.monotonic() - started < 3.0
    assert listener.poll() == [] and not listener.connected


def test_creating_streams_does_not_wait_for_a_listener():
    started = time.monotonic()
    streams = LslStreams(COLUMNS[4:5], source_id=f"quick-{os.getpid()}", nominal_rate=0)
    try:
        assert time.monotonic() - started < 2.0
        assert streams.nominal_rate == 0.0, "no frame rate means an irregular stream"
        streams.push_frame([0.5])  # nobody listens: dropped, no error, no wait
        streams.push_marker("session_start", {"t": 0.0})
    finally:
        streams.close()


def test_closed_streams_disappear_and_ignore_further_pushes():
    pylsl = _pylsl()
    source_id = f"closing-{os.getpid()}"
    streams = LslStreams(COLUMNS[4:5], source_id=source_id, nominal_rate=30.0)
    _resolve("source_id", source_id, source_id)
    streams.close()
    streams.close()  # twice is fine
    streams.push_frame([1.0])
    streams.push_marker("session_end", {"t": 1.0})
    assert not streams.has_consumers()
    assert pylsl.resolve_byprop("source_id", source_id, 1, 1.0) == []


def test_without_liblsl_the_error_is_one_line_naming_the_flag(monkeypatch):
    monkeypatch.setitem(sys.modules, "pylsl", None)  # `import pylsl` now fails, as without liblsl
    for make in (lambda: LslStreams(COLUMNS[4:5], source_id="x", nominal_rate=30.0), MarkerListener):
        with pytest.raises(AvatarError) as caught:
            make()
        message = str(caught.value)
        assert message.startswith("--lsl: ") and "\n" not in message


def test_bad_channel_lists_are_refused_with_the_flag_named():
    with pytest.raises(AvatarError, match="^--lsl: "):
        LslStreams([], source_id="x")
    with pytest.raises(AvatarError, match="repeat"):
        LslStreams([COLUMNS[4], COLUMNS[4]], source_id="x")


def test_a_run_with_lsl_is_heard_by_an_outside_listener(tmp_path):
    """The whole program with --lsl: another process finds its streams and receives frames."""
    import socket
    import subprocess

    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, str(root / "run.py"), "--source", str(root / "assets" / "media" / "astronaut.png"),
         "--duration", "30", "--realtime", "--headless", "--lsl", "--size", "160x120"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        pylsl = _pylsl()
        source_id = f"mirror-avatar-{socket.gethostname()}-mirror"  # the same for every run of a mode (issue 18)
        deadline = time.monotonic() + 60
        info = None
        while info is None and time.monotonic() < deadline and process.poll() is None:
            info = _resolve("name", DATA_STREAM_NAME, source_id)
        assert info is not None, "the data stream was not found"
        inlet = pylsl.StreamInlet(info)
        labels = []
        channel = inlet.info().desc().child("channels").child("channel")
        while not channel.empty():
            labels.append(channel.child_value("label"))
            channel = channel.next_sibling()
        sample, stamp = inlet.pull_sample(timeout=20)
        assert sample is not None and stamp > 0
        values = dict(zip(labels, sample, strict=False))
        assert values["faces"] == 1 and values["smile"] > 0.5
        assert _resolve("name", MARKER_STREAM_NAME, source_id + "-markers") is not None
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert process.returncode == 0


# --- a hostile lab: markers too long, too many, not UTF-8 (issue 17) -----------------------------------


@contextlib.contextmanager
def _lab_and_listener(request, limits: MarkerLimits | None = None, max_buffered: int = 360):
    """A lab's marker outlet (a stream name of this test's own) and a listener connected to it."""
    pylsl = _pylsl()
    name = f"Control-{os.getpid()}-{request.node.name}"
    info = pylsl.StreamInfo(name, "Markers", 1, 0.0, pylsl.cf_string, f"lab-{request.node.name}")
    lab = pylsl.StreamOutlet(info, max_buffered=max_buffered)
    listener = MarkerListener(stream_name=name, limits=limits)
    try:
        assert listener.wait_connected(10.0), "the listener did not find the lab's marker stream"
        assert lab.wait_for_consumers(RESOLVE_S)
        yield lab, listener
    finally:
        listener.close()
        del lab


def _received(listener: MarkerListener, count: int, timeout_s: float = RESOLVE_S) -> None:
    _wait_until(lambda: listener.counts.received >= count, timeout_s, f"{count} markers received")


def _labels(events) -> list[str]:
    return [e.label for e in events if isinstance(e, (LabMarker, TruncatedLabMarker))]


def _dropped(events, reason: str) -> int:
    return sum(e.count for e in events if isinstance(e, MarkersDropped) and e.reason == reason)


def test_a_long_marker_is_cut_to_the_limit_and_flagged_truncated(request):
    with _lab_and_listener(request) as (lab, listener):
        lab.push_sample(["x" * 5000])
        lab.push_sample(["é" * 1500])  # 3,000 bytes, 1,500 characters: cut by characters
        lab.push_sample(["short"])
        _received(listener, 3)
        events = listener.poll_events()
    long_one, accented, short = events
    assert isinstance(long_one, TruncatedLabMarker)
    assert long_one.record() == {"source": "lsl", "label": "x" * 1000, "truncated": True, "size_bytes": 5000}
    assert long_one.type == "marker"
    assert accented.label == "é" * 1000 and accented.size_bytes == 3000
    assert short == LabMarker("lsl", "short"), "a marker within the limit is logged as before, unflagged"
    assert listener.counts.truncated == 2 and listener.counts.logged == 3


def test_markers_over_the_rate_are_dropped_counted_and_reported(request):
    with _lab_and_listener(request) as (lab, listener):
        for i in range(200):  # a few milliseconds: the first 50 fill this second
            lab.push_sample([str(i)])
        _received(listener, 200)
        events = []
        _wait_until(lambda: events.extend(listener.poll_events()) or _dropped(events, "rate") == listener.counts.dropped,
                    what="every drop reported")
    counts = listener.counts
    assert counts.received == 200 == counts.logged + counts.dropped and counts.pending == 0
    assert _labels(events)[:50] == [str(i) for i in range(50)], "the first markers of a second are the ones kept"
    assert 50 <= counts.logged < 200 and counts.dropped > 0
    assert listener.limits.per_second == 50


def test_drops_are_reported_at_most_once_per_interval(request):
    limits = MarkerLimits(per_second=5, report_every_s=1.0)
    with _lab_and_listener(request, limits) as (lab, listener):
        for i in range(20):
            lab.push_sample([f"a{i}"])
        _received(listener, 20)
        first = listener.poll_events(now_s=100.0)
        assert _labels(first) == [f"a{i}" for i in range(5)]
        assert first[5:] == [MarkersDropped(15, "rate")]
        time.sleep(1.1)  # a new second for the rate limit
        for i in range(20):
            lab.push_sample([f"b{i}"])
        _received(listener, 40)
        soon = listener.poll_events(now_s=100.5)
        assert _labels(soon) == [f"b{i}" for i in range(5)]
        assert not [e for e in soon if isinstance(e, MarkersDropped)], "half a second after a report: no new one"
        assert listener.poll_events(now_s=101.0) == [MarkersDropped(15, "rate")], "the drops are reported later"
    assert listener.counts.dropped == 30


def test_a_full_queue_drops_the_oldest_and_counts_them(request):
    limits = MarkerLimits(per_second=1000, pending=5)
    with _lab_and_listener(request, limits) as (lab, listener):
        for i in range(20):  # nobody polls
            lab.push_sample([str(i)])
        _received(listener, 20)
        assert listener.backlog().markers == 5
        events = listener.poll_events()
    assert _labels(events) == ["15", "16", "17", "18", "19"]
    assert events[5:] == [MarkersDropped(15, "queue full")]
    assert listener.session_info() == {"lsl_markers": {"received": 20, "logged": 5, "dropped": 15, "truncated": 0, "pending": 0}}


def test_invalid_utf8_becomes_replacement_characters_and_the_next_marker_still_arrives(request):
    with _lab_and_listener(request) as (lab, listener):
        lab.push_sample([b"before"])
        lab.push_sample([b"bad \xff\xfe end"])  # bytes are sent as they are
        lab.push_sample([b"after"])
        received: list[str] = []
        _wait_until(lambda: received.extend(listener.poll()) or len(received) >= 3, what="three markers arriving")
    assert received == ["before", "bad \ufffd\ufffd end", "after"]
    assert listener.counts.dropped == 0


def test_a_flood_of_large_markers_stays_bounded_and_a_later_marker_still_arrives(request):
    """2,000 markers of 100 KB, as fast as an outlet pushes them: what waits and what poll returns stay small.

    liblsl's own queue keeps the newest INLET_BUFFER * 100 markers (1,000) when the listener falls behind;
    what it throws away never reaches the listener and cannot be counted (an LSL sample has no sequence
    number), so the test asks only that at least that many arrive, and that each one is accounted for.
    """
    limits = MarkerLimits()
    bound_chars = limits.pending * limits.max_chars
    payload = "y" * 100_000
    with _lab_and_listener(request) as (lab, listener):
        largest_poll, largest_backlog = 0, 0
        polled = []
        for i in range(2000):
            lab.push_sample([f"{i}:{payload}"])
            if i % 50 == 0:
                largest_backlog = max(largest_backlog, listener.backlog().chars)
                events = listener.poll_events()
                largest_poll = max(largest_poll, sum(len(label) for label in _labels(events)))
                assert len(_labels(events)) <= limits.pending
                polled.extend(events)
        _wait_until_quiet(listener)
        assert listener.backlog().markers <= limits.pending and listener.backlog().chars <= bound_chars
        polled.extend(listener.poll_events())
        time.sleep(1.1)  # the flood's second is over: the rate limit lets markers in again
        lab.push_sample(["normal marker"])
        _wait_until(lambda: polled.extend(listener.poll_events()) or "normal marker" in _labels(polled),
                    what="the marker after the flood arriving")
    counts = listener.counts
    assert counts.received == counts.logged + counts.dropped + counts.pending
    assert 1000 < counts.received <= 2001
    assert counts.dropped >= counts.received - 1 - 50 * 3, "most of the flood is over the rate"
    assert largest_backlog <= bound_chars and largest_poll <= bound_chars
    assert all(len(label) <= limits.max_chars for label in _labels(polled))
    assert sum(e.count for e in polled if isinstance(e, MarkersDropped)) <= counts.dropped


def _wait_until_quiet(listener: MarkerListener, quiet_s: float = 0.5, timeout_s: float = 30.0) -> None:
    """Until no marker has arrived for quiet_s."""
    deadline = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_received = listener.counts.received
        if now_received != last:
            last, since = now_received, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.05)
    raise AssertionError(f"markers still arriving after {timeout_s} s")


def test_decoding_is_lenient_and_never_longer_than_the_limit():
    from hypothesis import given
    from hypothesis import strategies as st

    @given(st.binary(max_size=200), st.integers(min_value=1, max_value=60))
    def check(raw: bytes, max_chars: int):
        text, truncated = decode_marker([raw], max_chars)
        full = raw.decode("utf-8", errors="replace")
        assert text == full[:max_chars]
        assert truncated == (len(full) > max_chars)

    check()
    assert decode_marker(["a", b"b\xff"], 100) == ('["a", "b\ufffd"]', False)


def test_a_run_logs_a_flood_of_lab_markers_cut_rate_limited_and_reports_the_drops(tmp_path):
    """The whole program with --lsl --log-dir: 300 long markers in a burst become at most 50 a second in
    events.jsonl, each cut and flagged, and the rest are reported as markers_dropped."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, str(root / "run.py"), "--source", str(root / "assets" / "media" / "astronaut.png"),
         "--duration", "60", "--realtime", "--headless", "--lsl", "--size", "160x120", "--log-dir", str(tmp_path)],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    pylsl = _pylsl()
    lab = pylsl.StreamOutlet(pylsl.StreamInfo(CONTROL_STREAM_NAME, "Markers", 1, 0.0, pylsl.cf_string, f"flood-{os.getpid()}"))
    try:
        assert lab.wait_for_consumers(60), "the program did not connect to the lab's marker stream"
        for i in range(300):
            lab.push_sample([f"{i:03d}" + "z" * 5000])
        time.sleep(2.5)  # the program polls every frame and reports drops at most once a second
    finally:
        process.terminate()
        process.communicate(timeout=30)
        del lab
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    markers = [e for e in events if e["type"] == "marker" and e.get("source") == "lsl"]
    dropped = [e for e in events if e["type"] == "markers_dropped"]
    assert 50 <= len(markers) <= 150, "the burst falls in a second or two: at most 50 markers logged in each"
    assert [m["label"][:3] for m in markers[:50]] == [f"{i:03d}" for i in range(50)]
    assert all(len(m["label"]) == 1000 and m["truncated"] is True and m["size_bytes"] == 5003 for m in markers)
    assert dropped and {e["reason"] for e in dropped} == {"rate"}
    assert len(markers) + sum(e["count"] for e in dropped) == 300, "every marker is logged or reported dropped"
    assert len(dropped) <= 4, "drops are reported at most once a second"
