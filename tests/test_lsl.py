"""LSL streams with real liblsl on loopback: an outside listener finds them, reads them, and talks back.

liblsl reads its configuration once, at its first call, so the loopback configuration is set here, at
import (collection), before any test in this process touches LSL. It keeps discovery on this machine
and in a session id of its own, so these tests need no network and see no other LSL program.
"""

from __future__ import annotations

import atexit
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
from avatar.lsl import (
    CONTROL_STREAM_NAME,
    DATA_STREAM_NAME,
    DATA_STREAM_TYPE,
    MARKER_STREAM_NAME,
    MARKER_STREAM_TYPE,
    LslStreams,
    MarkerListener,
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
        source_id = f"mirror-avatar-{socket.gethostname()}-{process.pid}"
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
