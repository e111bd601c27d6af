"""OSC control input (avatar/osc_in.py, `--osc-in`): python-osc's own client is the show's sender."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
from conftest import FIXTURES, ROOT, only_session, read_frames
from modes.harness import ModeRecorder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from avatar.empathy import Condition, Mapping
from avatar.errors import ConfigError
from avatar.mode import Mode
from avatar.modes.exhibit import DEFAULT_ATTRACT_TEXT, ExhibitMode
from avatar.osc_in import (
    MAX_DATAGRAMS_PER_S,
    BadControl,
    Control,
    OscControlInput,
    OscInSettings,
    Problem,
    parse_control,
)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def settled(listener, quiet_s: float = 0.5) -> None:
    """Wait until the listener has counted nothing new for `quiet_s`."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < quiet_s:
        now = listener.session_info()["osc_in"]["datagrams"]
        if now != last:
            last, since = now, time.monotonic()
        time.sleep(0.02)


# --- what a message means ----------------------------------------------------------------------------


@pytest.mark.parametrize("address, args, control", [
    ("/avatar/familiarity", [0.7], Control("familiarity", 0.7)),
    ("/avatar/familiarity", [1], Control("familiarity", 1.0)),
    ("/avatar/familiarity", ["friend"], Control("familiarity", 0.9)),
    ("/avatar/familiarity", ["grows"], Control("familiarity", None)),
    ("/avatar/load", [0.3], Control("load", 0.3)),
    ("/avatar/condition", ["delayed"], Control("condition", Condition.DELAYED)),
    ("/avatar/mapping", ["anatomical"], Control("mapping", Mapping.ANATOMICAL)),
    ("/avatar/guard", [1], Control("guard", True)),
    ("/avatar/guard", [0.0], Control("guard", False)),
    ("/avatar/guard", [False], Control("guard", False)),
    ("/avatar/guard", ["on"], Control("guard", True)),
    ("/avatar/delay", [2.5], Control("delay_s", 2.5)),
    ("/avatar/new_visitor", [], Control("new_person", True)),
    ("/avatar/new_visitor", [1.0], Control("new_person", True)),
    ("/avatar/new_visitor", [0.0], None),  # a button's release
    ("/avatar/attract_text", ["Smile at me!\x07"], Control("attract_text", "Smile at me!")),
])
def test_each_address_sets_what_the_classroom_key_sets(address, args, control):
    assert parse_control(address, args) == control


@pytest.mark.parametrize("address, args, problem", [
    ("/avatar/load", [1.5], Problem.BAD_VALUE),
    ("/avatar/load", [float("nan")], Problem.BAD_VALUE),
    ("/avatar/load", ["high"], Problem.BAD_VALUE),
    ("/avatar/load", [True], Problem.BAD_VALUE),
    ("/avatar/load", [], Problem.BAD_VALUE),
    ("/avatar/load", [0.1, 0.2], Problem.BAD_VALUE),
    ("/avatar/familiarity", ["bestie"], Problem.BAD_VALUE),
    ("/avatar/familiarity", [-0.1], Problem.BAD_VALUE),
    ("/avatar/condition", ["hypnotic"], Problem.BAD_VALUE),
    ("/avatar/condition", [1], Problem.BAD_VALUE),
    ("/avatar/mapping", [b"\x00"], Problem.BAD_VALUE),
    ("/avatar/guard", [0.5], Problem.BAD_VALUE),
    ("/avatar/delay", [61.0], Problem.BAD_VALUE),
    ("/avatar/new_visitor", [1, 2], Problem.BAD_VALUE),
    ("/avatar/attract_text", [42], Problem.BAD_VALUE),
    ("/avatar/attract_text", ["x" * 201], Problem.BAD_VALUE),
    ("/avatar/attract_text", ["\x1b\x07"], Problem.BAD_VALUE),
    ("/avatar/shutdown", [1], Problem.UNKNOWN),
    ("/VMC/Ext/OK", [1], Problem.UNKNOWN),
    ("/avatar/", [], Problem.UNKNOWN),
])
def test_bad_messages_are_refused_with_a_reason(address, args, problem):
    with pytest.raises(BadControl) as refused:
        parse_control(address, args)
    assert refused.value.problem is problem


# --- the listener, in process -------------------------------------------------------------------------


@pytest.fixture
def listener():
    notices: list[str] = []
    control_input = OscControlInput(OscInSettings("127.0.0.1", free_udp_port(), queue_limit=16), notice=notices.append)
    control_input.notices = notices
    try:
        yield control_input
    finally:
        control_input.close()


def test_a_frames_controls_are_applied_through_the_context_as_commands_and_control_events(listener):
    client = SimpleUDPClient("127.0.0.1", listener.port)
    for load in (0.1, 0.2, 0.3):  # a fader: only where it stopped counts
        client.send_message("/avatar/load", load)
    client.send_message("/avatar/familiarity", "friend")
    client.send_message("/avatar/condition", "delayed")
    client.send_message("/avatar/new_visitor", [])
    wait_until(lambda: listener.session_info()["osc_in"]["datagrams"] == 6)
    context = ModeRecorder()
    listener.apply_pending(context, Mode(), t_s=2.0)
    assert context.events == [
        ("control", 2.0, {"name": "load", "value": 0.3}),
        ("control", 2.0, {"name": "familiarity", "value": 0.9}),
        ("control", 2.0, {"name": "condition", "value": "delayed"}),
        ("control", 2.0, {"name": "new_person", "value": True}),
    ]
    model = context.apply()
    assert model.settings.load == 0.3 and model.settings.familiarity == 0.9 and model.settings.condition is Condition.DELAYED
    assert [e.type for e in model.pop_events()][-1] == "new_person"
    assert listener.session_info()["osc_in"]["applied"] == 4


def test_attract_text_goes_to_exhibit_mode_and_is_refused_once_with_a_notice_elsewhere(listener):
    client = SimpleUDPClient("127.0.0.1", listener.port)
    client.send_message("/avatar/attract_text", "Come and smile with me")
    wait_until(lambda: listener.session_info()["osc_in"]["datagrams"] == 1)
    exhibit, context = ExhibitMode(), ModeRecorder()
    assert exhibit.settings.attract_text == DEFAULT_ATTRACT_TEXT
    listener.apply_pending(context, exhibit, t_s=1.0)
    assert exhibit.settings.attract_text == "Come and smile with me"
    assert context.events == [("control", 1.0, {"name": "attract_text", "value": "Come and smile with me"})]

    for _ in range(2):
        client.send_message("/avatar/attract_text", "Hello")
    wait_until(lambda: listener.session_info()["osc_in"]["datagrams"] == 3)
    plain = ModeRecorder()
    listener.apply_pending(plain, Mode(), t_s=1.5)
    assert plain.events == [] and len(plain.notices) == 1 and "does nothing in mirror mode" in plain.notices[0]
    assert listener.session_info()["osc_in"]["unhandled"] == 1  # the two were one change


def test_a_flood_is_bounded_by_the_queue_and_counted(listener):
    """Memory stays bounded: the queue never holds more than its limit, whatever comes."""
    client = SimpleUDPClient("127.0.0.1", listener.port)
    for i in range(200):
        client.send_message(f"/avatar/{'load' if i % 2 else 'delay'}", (i % 10) / 10)
    wait_until(lambda: listener.session_info()["osc_in"]["datagrams"] == 200)
    info = listener.session_info()["osc_in"]
    assert listener.max_queued == 16 == info["max_queued"] == info["queue_limit"]
    assert info["queue_dropped"] == 200 - 16
    assert [c.name for c in listener.take()] == ["delay_s", "load"]  # what was queued, merged per control


def test_garbage_and_bad_values_are_counted_never_queued_and_summed_up_in_one_notice(listener):
    client = SimpleUDPClient("127.0.0.1", listener.port)
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bundle_bomb = b"#bundle\x00" + b"\x00" * 7 + b"\x01"
    for _ in range(80):  # nested bundles, each holding the next: a recursive parser's worst case, in 1.6 kB
        bundle_bomb = b"#bundle\x00" + b"\x00" * 7 + b"\x01" + len(bundle_bomb).to_bytes(4, "big") + bundle_bomb
    for i in range(1000):
        if i % 4 == 0:
            raw.sendto(bytes([i % 256]) * (i % 50), ("127.0.0.1", listener.port))  # not OSC
        elif i % 4 == 1:
            client.send_message("/avatar/load", "heavy")
        elif i % 4 == 2:
            client.send_message("/avatar/volume", 11)
        elif i % 8 == 3:
            raw.sendto(bundle_bomb, ("127.0.0.1", listener.port))
        else:
            raw.sendto(b"#bundle\x00" + b"\x00" * 8 + b"A" * 3000, ("127.0.0.1", listener.port))  # too big to be a control
        if i % 100 == 99:
            time.sleep(0.02)
    raw.close()
    wait_until(lambda: listener.session_info()["osc_in"]["datagrams"] == 1000)
    info = listener.session_info()["osc_in"]
    assert info["malformed"] + info["bad_value"] + info["unknown_address"] == 1000
    assert info["bad_value"] == 250 and info["unknown_address"] == 250
    assert listener.max_queued == 0 and info["applied"] == 0
    listener.close()
    assert len(listener.notices) == 1 and "1,000 of the messages" in listener.notices[0]


def test_more_datagrams_a_second_than_the_limit_are_dropped_unparsed(listener):
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    message = OscMessageBuilder("/avatar/nothing").build().dgram
    sent = MAX_DATAGRAMS_PER_S + 500
    for i in range(sent):
        raw.sendto(message, ("127.0.0.1", listener.port))
        if i % 200 == 199:
            time.sleep(0.002)
    raw.close()
    settled(listener)
    info = listener.session_info()["osc_in"]
    # A burst beyond the socket's buffer may be lost in the kernel before it is counted.
    assert MAX_DATAGRAMS_PER_S < info["datagrams"] <= sent
    assert info["rate_dropped"] > 0 and info["rate_dropped"] + info["unknown_address"] == info["datagrams"]


def test_a_port_in_use_is_refused_naming_the_flag():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"--osc-in 127\.0\.0\.1:{port}: cannot listen there"):
            OscControlInput(OscInSettings("127.0.0.1", port))


def test_osc_in_listens_on_the_loopback_unless_a_host_is_given():
    from avatar.bridges import settings_from_args
    from avatar.cli import build_run_parser

    assert settings_from_args(build_run_parser().parse_args(["--osc-in", "9000"]))["osc_in"] == OscInSettings("127.0.0.1", 9000)
    assert settings_from_args(build_run_parser().parse_args(["--osc-in", "0.0.0.0:9001"]))["osc_in"].host == "0.0.0.0"


# --- the real program ------------------------------------------------------------------------------


def _start(tmp_path, port: int, frames: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "--source", str(FIXTURES / "smile_on_off.mp4"), "--headless", "--realtime",
         "--max-frames", str(frames), "--osc-in", f"127.0.0.1:{port}", "--log-dir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rows_so_far(tmp_path) -> int:
    folders = [p for p in tmp_path.iterdir() if p.is_dir()] if tmp_path.exists() else []
    return len(read_frames(folders[0])) if folders and (folders[0] / "frames.csv").exists() else 0


@pytest.mark.slow
def test_an_osc_sender_sets_familiarity_and_load_during_a_real_run(tmp_path):
    port = free_udp_port()
    run = _start(tmp_path, port, frames=210)  # 7 s at the file's real speed
    try:
        wait_until(lambda: _rows_so_far(tmp_path) >= 30, timeout_s=60)
        client = SimpleUDPClient("127.0.0.1", port)
        client.send_message("/avatar/familiarity", 0.9)
        client.send_message("/avatar/load", 0.7)
        client.send_message("/avatar/mapping", "anatomical")
        wait_until(lambda: _rows_so_far(tmp_path) >= 120, timeout_s=60)
        client.send_message("/avatar/familiarity", 0.3)
        client.send_message("/avatar/load", 0.1)
        client.send_message("/avatar/new_visitor", [])
        _, stderr = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 0, stderr
    session = only_session(tmp_path)
    events = [json.loads(line) for line in (session / "events.jsonl").read_text().splitlines()]
    controls = [(e["name"], e["value"], e["t"]) for e in events if e["type"] == "control"]
    assert [(name, value) for name, value, _ in controls] == [
        ("familiarity", 0.9), ("load", 0.7), ("mapping", "anatomical"), ("familiarity", 0.3), ("load", 0.1), ("new_person", True)]
    first_t, second_t = controls[0][2], controls[3][2]
    assert 0.9 < first_t < second_t < 7.0
    settings_changed = [(e["name"], e["value"]) for e in events if e["type"] == "setting"]
    assert ("familiarity", 0.9) in settings_changed and ("load", 0.1) in settings_changed

    rows = read_frames(session)
    assert len(rows) == 210
    before = [r for r in rows if float(r["t"]) < first_t - 0.2]
    between = [r for r in rows if first_t + 0.05 <= float(r["t"]) < second_t - 0.05]
    after = [r for r in rows if float(r["t"]) >= second_t + 0.05]
    assert all(float(r["familiarity"]) < 0.5 for r in before)  # it grows from a stranger's 0.2
    assert all(float(r["familiarity"]) == 0.9 for r in between) and all(float(r["familiarity"]) == 0.3 for r in after)
    assert all(float(r["load"]) >= 0.7 for r in between)  # the set load, plus what the scene adds
    assert all(float(r["load"]) < 0.7 for r in after) and min(float(r["load"]) for r in after) >= 0.1
    info = json.loads((session / "session.json").read_text())
    assert info["osc_in"]["applied"] == 6 and info["osc_in"]["datagrams"] == 6


@pytest.mark.slow
def test_ten_thousand_malformed_messages_leave_a_real_run_whole_and_its_queue_bounded(tmp_path):
    port = free_udp_port()
    run = _start(tmp_path, port, frames=300)  # 10 s at the file's real speed
    try:
        wait_until(lambda: _rows_so_far(tmp_path) >= 15, timeout_s=60)
        client = SimpleUDPClient("127.0.0.1", port)
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        kinds = [
            lambda i: client.send_message("/avatar/load", "very high"),  # a wrong type
            lambda i: client.send_message("/avatar/familiarity", 1.0 + i),  # out of range
            lambda i: client.send_message(f"/avatar/unknown/{i}", i),  # an unknown address
            lambda i: raw.sendto(i.to_bytes(4, "big") * (i % 40 + 1), ("127.0.0.1", port)),  # not OSC at all
        ]
        for i in range(10_000):
            kinds[i % 4](i)
            if i % 100 == 99:
                time.sleep(0.06)  # ~1,600 a second: under the parse limit, so each is judged, not just dropped
        raw.close()
        client.send_message("/avatar/load", 0.6)  # and a good one still gets through afterwards
        _, stderr = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 0, stderr
    session = only_session(tmp_path)
    assert len(read_frames(session)) == 300  # every frame processed and logged
    events = [json.loads(line) for line in (session / "events.jsonl").read_text().splitlines()]
    assert "frame_error" not in [e["type"] for e in events]
    assert [(e["name"], e["value"]) for e in events if e["type"] == "control"] == [("load", 0.6)]
    info = json.loads((session / "session.json").read_text())["osc_in"]
    # Every datagram that reached the socket was judged; a burst beyond the socket's buffer could be lost
    # in the kernel before that (none were in our runs).
    assert 9_500 <= info["datagrams"] <= 10_001
    assert info["bad_value"] + info["unknown_address"] + info["malformed"] + info["rate_dropped"] == info["datagrams"] - 1
    assert info["bad_value"] >= 4_000 and info["unknown_address"] >= 2_000  # judged, not just dropped
    assert info["max_queued"] <= info["queue_limit"] and info["max_queued"] == 1  # only the good one was ever queued
    ignored = [line for line in stderr.splitlines() if line.startswith("notice: OSC in:")]
    assert len(ignored) == 1 and f"{info['datagrams'] - 1:,} of the messages" in ignored[0]
