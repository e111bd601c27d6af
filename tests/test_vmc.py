"""VMC protocol output (avatar/vmc.py, `--vmc`), checked by receivers that are not the project's code.

The receivers are a plain UDP socket whose datagrams python-osc's own parser (OscPacket) decodes, and
python-osc's own server (ThreadingOSCUDPServer with a Dispatcher): what a VSeeFace or EVMC4U gets.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import threading
import time
from collections import Counter

import numpy as np
import pytest
from conftest import FIXTURES, only_session, read_frames, real_media, run_cli
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_packet import OscPacket
from pythonosc.osc_server import ThreadingOSCUDPServer

from avatar.empathy import Echo
from avatar.errors import ConfigError
from avatar.expression import Expression
from avatar.face_data import NO_FACE_READING
from avatar.isolation import needs_network
from avatar.outcome import Frame, FrameOutcome
from avatar.rig import Controls
from avatar.vmc import MAX_DATAGRAM_BYTES, VmcFrame, VmcSend, VmcSettings, VmcSink, datagrams, messages
from avatar.vmc_mapping import ALL_NAMES, PERFECT_SYNC, VRM0_PRESETS, head_rotation

APPLY = "/VMC/Ext/Blend/Apply"


class Receiver:
    """A UDP socket on 127.0.0.1 that keeps every datagram's size and python-osc's reading of it."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)  # a fast file run must lose nothing
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.sizes: list[int] = []
        self.messages: list[tuple[str, list]] = []
        self.last_at = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data = self.socket.recv(65535)
            except TimeoutError:
                continue
            self.last_at = time.monotonic()
            self.sizes.append(len(data))
            self.messages += [(m.message.address, list(m.message.params)) for m in OscPacket(data).messages]

    def quiet_for(self, seconds: float, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() - self.last_at < seconds and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self):
        self._stop.set()
        self._thread.join()
        self.socket.close()

    def frames(self) -> list[list[tuple[str, list]]]:
        """The messages cut at each Apply: one list per frame the program sent."""
        out, current = [], []
        for message in self.messages:
            current.append(message)
            if message[0] == APPLY:
                out.append(current)
                current = []
        assert current == [], "messages after the last Apply"
        return out


@contextlib.contextmanager
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outcome(t_s: float = 0.5, smile: float = 0.0) -> FrameOutcome:
    frame = Frame(index=0, t_s=t_s, capture_wall=0.0, capture_perf=time.perf_counter(), bgr=np.zeros((2, 2, 3), np.uint8))
    echo = Echo(smile=smile, wince=0.0, familiarity=0.5, load=0.2, gain=0.5, delay_s=0.3)
    return FrameOutcome(frame, NO_FACE_READING, Expression.absent(), echo, Controls(mouth_corner_left=smile, mouth_corner_right=smile))


def blend_values(frame: list[tuple[str, list]]) -> dict[str, float]:
    return {args[0]: args[1] for address, args in frame if address == "/VMC/Ext/Blend/Val"}


# --- packing -----------------------------------------------------------------------------------------


def test_a_frame_is_ok_time_root_head_every_blendshape_then_one_apply_in_datagrams_under_1400_bytes():
    frame = VmcFrame(1.25, head_rotation(10, -5, 3), dict.fromkeys(ALL_NAMES, 0.25))
    sent = list(datagrams(messages(frame)))
    assert all(len(d) <= MAX_DATAGRAM_BYTES for d in sent) and len(sent) == 3
    read = [(m.message.address, list(m.message.params)) for d in sent for m in OscPacket(d).messages]
    assert [a for a, _ in read[:4]] == ["/VMC/Ext/OK", "/VMC/Ext/T", "/VMC/Ext/Root/Pos", "/VMC/Ext/Bone/Pos"]
    assert read[0][1] == [1] and read[1][1] == [1.25]
    assert read[2][1] == ["root", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert read[3][1][0] == "Head" and math.isclose(math.hypot(*read[3][1][4:]), 1.0, rel_tol=1e-6)
    assert [args[0] for a, args in read[4:-1]] == list(ALL_NAMES) and read[-1] == (APPLY, [])
    unbundled = list(datagrams(messages(frame), unbundled=True))
    assert len(unbundled) == len(read) and all(len(d) <= MAX_DATAGRAM_BYTES for d in unbundled)
    assert [OscPacket(d).messages[0].message.address for d in unbundled] == [a for a, _ in read]


@pytest.mark.parametrize("limit", [200, 500, 1400])
def test_bundles_are_split_to_fit_any_limit_keeping_the_order(limit):
    frame = VmcFrame(0.0, head_rotation(0, 0, 0), dict.fromkeys(ALL_NAMES, 1.0))
    sent = list(datagrams(messages(frame), limit_bytes=limit))
    assert all(len(d) <= limit for d in sent)
    read = [m.message.address for d in sent for m in OscPacket(d).messages]
    assert len(read) == 4 + len(ALL_NAMES) + 1 and read[-1] == APPLY


# --- the sink, in process -------------------------------------------------------------------------------


def test_the_sink_sends_each_frame_to_python_oscs_own_server():
    got: list[tuple[str, tuple]] = []
    dispatcher = Dispatcher()
    dispatcher.set_default_handler(lambda address, *args: got.append((address, args)))
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sink = VmcSink(VmcSettings("127.0.0.1", server.server_address[1]), notice=pytest.fail)
        for i in range(3):
            sink.frame(outcome(t_s=i / 30, smile=0.5), ())
        sink.close()
        deadline = time.monotonic() + 5
        while sum(a == APPLY for a, _ in got) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        server.shutdown()
        server.server_close()
    assert sum(a == APPLY for a, _ in got) == 3
    assert ("/VMC/Ext/Blend/Val", ("Joy", 0.5)) in got
    assert sink.frames == 3 and sink.datagrams == 9 and sink.largest_bytes <= MAX_DATAGRAM_BYTES


def test_no_receiver_is_one_notice_and_costs_the_frame_loop_a_fraction_of_a_millisecond():
    notices: list[str] = []
    sink = VmcSink(VmcSettings("127.0.0.1", free_udp_port()), notice=notices.append)
    frames = 500
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    for i in range(frames):
        sink.frame(outcome(t_s=i / 30, smile=(i % 30) / 30), ())
    cpu_ms = (time.process_time() - cpu_start) * 1000 / frames
    wall_ms = (time.perf_counter() - wall_start) * 1000 / frames
    sink.close()
    assert len(notices) == 1 and "nothing was listening on 127.0.0.1" in notices[0]
    assert sink.refused > 0 and sink.frames == frames
    # Measured ~0.25 ms a frame (mapping, packing, three non-blocking sends); a frame takes ~13 ms.
    assert cpu_ms < 1.0 and wall_ms < 5.0, (cpu_ms, wall_ms)


def test_a_host_that_does_not_resolve_is_refused_naming_the_flag():
    with pytest.raises(ConfigError, match=r"--vmc no-such-host\.invalid:39539: cannot resolve"):
        VmcSink(VmcSettings("no-such-host.invalid", 39539), notice=print)


def test_vmc_and_osc_in_keep_the_network_because_the_namespaces_loopback_is_not_the_hosts():
    assert needs_network(["--vmc"]) == "--vmc"
    assert needs_network(["--vmc=127.0.0.1:39539"]) == "--vmc"
    assert needs_network(["--osc-in", "9000"]) == "--osc-in"
    assert needs_network(["--osc", "9000"]) == "--osc"  # argparse's unique prefix of --osc-in
    assert needs_network(["--virtual-camera"]) is None


# --- the real program --------------------------------------------------------------------------------


def _correlation(a, b) -> float:
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


@pytest.mark.slow
def test_a_real_run_sends_the_avatars_answer_one_apply_per_logged_frame(tmp_path):
    clip = real_media("real/crying_then_laughing.mp4")
    with receiver() as r:
        result = run_cli("--source", str(clip), "--headless", "--vmc", f"127.0.0.1:{r.port}", "--log-dir", str(tmp_path))
        r.quiet_for(1.0)
    assert result.returncode == 0, result.stderr
    assert "VMC" not in result.stderr  # a receiver was there: nothing to say
    rows = read_frames(only_session(tmp_path))
    frames = r.frames()

    assert max(r.sizes) <= MAX_DATAGRAM_BYTES
    assert len(frames) == len(rows) == Counter(a for a, _ in r.messages)[APPLY] > 400
    for frame in frames:
        values = blend_values(frame)
        assert set(values) == set(VRM0_PRESETS) | set(PERFECT_SYNC)
        assert all(0.0 <= v <= 1.0 for v in values.values())
        (head,) = [args for address, args in frame if address == "/VMC/Ext/Bone/Pos"]
        assert head[0] == "Head" and math.isclose(math.hypot(*head[4:8]), 1.0, rel_tol=1e-5)
    times = [next(args[0] for a, args in frame if a == "/VMC/Ext/T") for frame in frames]
    assert np.allclose(times, [float(row["t"]) for row in rows], atol=1e-3)  # in frame order, each once

    joy = [blend_values(frame)["Joy"] for frame in frames]
    echo = [float(row["echo_smile"]) for row in rows]
    raw = [float(row["smile"]) if row["smile"] else 0.0 for row in rows]
    assert _correlation(joy, echo) >= 0.9, _correlation(joy, echo)
    assert _correlation(joy, raw) < _correlation(joy, echo)
    # The first ten seconds are crying: the face model's "smile" (the square mouth of crying) rises
    # to 0.8, and the avatar answers with concern, never with Joy (SCIENCE.md).
    crying = [i for i, row in enumerate(rows) if float(row["t"]) < 9.5]
    assert max(raw[i] for i in crying) > 0.4
    assert max(joy[i] for i in crying) < 0.1
    assert max(blend_values(frames[i])["Sorrow"] for i in crying) > 0.2


@pytest.mark.slow
def test_send_face_unbundled_reaches_python_oscs_own_server_as_the_persons_tracking(tmp_path):
    got: list[tuple[str, tuple]] = []
    dispatcher = Dispatcher()
    dispatcher.set_default_handler(lambda address, *args: got.append((address, args)))
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = run_cli("--source", str(FIXTURES / "smile_on_off.mp4"), "--headless", "--max-frames", "90",
                         "--vmc", f"127.0.0.1:{server.server_address[1]}", "--vmc-send", "face", "--vmc-unbundled",
                         "--log-dir", str(tmp_path))
        deadline = time.monotonic() + 10
        while sum(a == APPLY for a, _ in got) < 90 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    rows = read_frames(only_session(tmp_path))
    assert sum(a == APPLY for a, _ in got) == len(rows) == 90
    joy = [args[1] for a, args in got if a == "/VMC/Ext/Blend/Val" and args[0] == "Joy"]
    smile = [float(row["smile"]) if row["smile"] else 0.0 for row in rows]
    assert np.allclose(joy, smile, atol=1e-4)  # the person's own smile channel, not the echo
    assert max(args[1] for a, args in got if a == "/VMC/Ext/Blend/Val" and args[0] in ("MouthSmileLeft", "MouthSmileRight")) > 0.3


@pytest.mark.slow
def test_with_no_receiver_the_run_completes_with_one_notice_and_no_frame_errors(tmp_path):
    result = run_cli("--source", str(FIXTURES / "smile_on_off.mp4"), "--headless", "--vmc", f"127.0.0.1:{free_udp_port()}",
                     "--log-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len([line for line in lines if "VMC" in line]) == 1, result.stderr
    assert lines == [line for line in lines if line.startswith("notice: VMC: nothing was listening")]
    session = only_session(tmp_path)
    events = [json.loads(line)["type"] for line in (session / "events.jsonl").read_text().splitlines()]
    assert "frame_error" not in events
    assert len(read_frames(session)) == 600
    info = json.loads((session / "session.json").read_text())
    assert info["status"] == "finished" and info["settings"]["vmc"] == {
        "host": "127.0.0.1", "port": info["settings"]["vmc"]["port"], "send": "answer", "unbundled": False}


@pytest.mark.parametrize("argv, message", [
    (["--vmc-send", "face"], "--vmc-send needs --vmc"),
    (["--vmc", "127.0.0.1:99999"], "out of range"),
    (["--vmc", "localhost:port"], "whole number"),
    (["--vmc", "::1:9000"], "in brackets"),
    (["--vmc-send", "tracker", "--vmc"], "--vmc-send 'tracker' is unknown"),
])
def test_bad_vmc_flags_are_one_line_errors(argv, message, capfd):
    from avatar.cli import main

    assert main(["--source", "demo", "--headless", *argv]) == 2
    err = capfd.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_vmc_flags_make_the_run_settings():
    from avatar.bridges import settings_from_args
    from avatar.cli import build_run_parser

    args = build_run_parser().parse_args(["--vmc", "--vmc-send", "face"])
    assert settings_from_args(args)["vmc"] == VmcSettings("127.0.0.1", 39539, VmcSend.FACE, False)
    args = build_run_parser().parse_args(["--vmc", "[::1]:40000", "--vmc-unbundled"])
    assert settings_from_args(args)["vmc"] == VmcSettings("::1", 40000, VmcSend.ANSWER, True)
    args = build_run_parser().parse_args(["--vmc", "9000"])
    assert settings_from_args(args)["vmc"].host == "127.0.0.1"
