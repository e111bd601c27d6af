"""OSC control input (`--osc-in [HOST:]PORT`): a show's technician sets the model from TouchDesigner, QLab, ...

An input at the edge, beside the camera: a thread receives UDP datagrams, keeps only well-formed
controls and queues them (bounded); the runner (runners.Run.watch_inputs) applies them once per
frame through the run's context, exactly as the classroom keys do: a model command, then a `control`
event. Anything else (bad types, out of range, unknown addresses, floods) is counted and dropped.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from avatar.empathy import FAMILIARITY_PRESETS, Condition, Configure, Mapping, ResetPerson
from avatar.errors import ConfigError
from avatar.events import ControlChanged
from avatar.mode import Mode, ModeContext

DEFAULT_HOST = "127.0.0.1"  # only this machine; 0.0.0.0 (every interface) must be asked for (SECURITY.md)
PREFIX = "/avatar/"
QUEUE_LIMIT = 256  # controls waiting for the next frame; beyond this they are dropped and counted
MAX_DATAGRAMS_PER_S = 2000  # a fader sends ~60 a second; past this a flood is dropped before it is parsed
MAX_TEXT_CHARS = 200  # an attract line longer than this is refused (it must fit the screen)
MAX_DATAGRAM_BYTES = 2048  # a control is a few dozen bytes; a bigger datagram is refused unparsed
MAX_BUNDLES = 8  # bundles in one datagram: python-osc parses nesting recursively (3,000 deep took 20 ms)
MAX_DELAY_S = 60.0  # EmpathySettings.delay_s's range
_RECEIVE_BYTES = 65535
_POLL_S = 0.2  # how often the receiving thread looks whether it should stop


class Problem(Enum):
    """Why a message was not applied (the counts in session.json)."""

    MALFORMED = "malformed"  # not OSC at all
    UNKNOWN = "unknown_address"
    BAD_VALUE = "bad_value"  # wrong type, wrong count or out of range
    RATE = "rate_dropped"  # more datagrams a second than MAX_DATAGRAMS_PER_S
    QUEUE = "queue_dropped"  # the queue was full
    UNHANDLED = "unhandled"  # a control that this mode does not have (attract_text outside exhibit mode)


@dataclass(frozen=True)
class OscInSettings:
    host: str = DEFAULT_HOST
    port: int = 9000
    queue_limit: int = QUEUE_LIMIT


@dataclass(frozen=True)
class Control:
    """One valid control: the model setting (or mode control) it changes and its new value."""

    name: str
    value: Any


# The model settings an OSC address sets (the classroom's keys set the same ones).
MODEL_CONTROLS = ("familiarity", "load", "condition", "mapping", "guard", "delay_s")
ADDRESSES = {
    "familiarity": "familiarity",  # 0-1, a preset (stranger, acquaintance, friend) or "grows"
    "load": "load",  # 0-1
    "condition": "condition",  # mimic, delayed, sham, static
    "mapping": "mapping",  # mirror, anatomical
    "guard": "guard",  # 1/0, true/false, on/off
    "delay": "delay_s",  # seconds of the delayed condition, 0-60
    "new_visitor": "new_person",  # a trigger (no argument, or a non-zero one: a button's press, not its release)
    "attract_text": "attract_text",  # exhibit mode's invitation line
}

_ADDRESS_OF = {name: address for address, name in ADDRESSES.items()}


class BadControl(ValueError):
    def __init__(self, problem: Problem):
        super().__init__(problem.value)
        self.problem = problem


def parse_control(address: str, args: list[Any]) -> Control | None:
    """A message as a control; None for a trigger's release; BadControl for anything not accepted."""
    if not address.startswith(PREFIX) or address[len(PREFIX):] not in ADDRESSES:
        raise BadControl(Problem.UNKNOWN)
    name = ADDRESSES[address[len(PREFIX):]]
    if name == "new_person":
        if len(args) > 1:
            raise BadControl(Problem.BAD_VALUE)
        if args and not _truthy(args[0]):
            return None
        return Control(name, True)
    if len(args) != 1:
        raise BadControl(Problem.BAD_VALUE)
    value = args[0]
    try:
        return Control(name, _VALUE_PARSERS[name](value))
    except (TypeError, ValueError):
        raise BadControl(Problem.BAD_VALUE) from None


def _number(value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("not a number")
    # OSC floats are 32-bit: 0.3 arrives as 0.30000001192...; 7 significant digits give back what was sent.
    value = float(f"{float(value):.7g}")
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError("out of range")
    return value


def _familiarity(value: Any) -> float | None:
    if not isinstance(value, str):
        return _number(value, 0.0, 1.0)
    if value == "grows":
        return None
    if value not in FAMILIARITY_PRESETS:
        raise ValueError("unknown preset")
    return FAMILIARITY_PRESETS[value]


def _member(enum_type: type[Enum]):
    def parse(value: Any) -> Enum:
        if not isinstance(value, str):
            raise TypeError("not a string")
        return enum_type(value)

    return parse


def _guard(value: Any) -> bool:
    if isinstance(value, str):
        if value in ("on", "off"):
            return value == "on"
        raise ValueError("not on or off")
    if isinstance(value, bool):
        return value
    if _number(value, 0.0, 1.0) not in (0.0, 1.0):
        raise ValueError("not 0 or 1")
    return value == 1


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    text = "".join(ch for ch in value if ch.isprintable()).strip()
    if not text or len(text) > MAX_TEXT_CHARS:
        raise ValueError("empty or too long")
    return text


def _truthy(value: Any) -> bool:
    return bool(value) if isinstance(value, (bool, int, float)) else True


_VALUE_PARSERS = {
    "familiarity": _familiarity,
    "load": lambda v: _number(v, 0.0, 1.0),
    "condition": _member(Condition),
    "mapping": _member(Mapping),
    "guard": _guard,
    "delay_s": lambda v: _number(v, 0.0, MAX_DELAY_S),
    "attract_text": _text,
}


class OscControlInput:
    """Listens on host:port (UDP) in its own thread; `apply_pending` applies what came, once per frame."""

    def __init__(self, settings: OscInSettings, notice: Callable[[str], None] = lambda text: None):
        self.settings = settings
        self._notice = notice
        self._socket = _bind(settings.host, settings.port)
        self.port = self._socket.getsockname()[1]
        self._lock = threading.Lock()
        self._queue: deque[Control] = deque()
        self.received = 0  # datagrams
        self.applied = 0  # controls applied (after merging a frame's repeats)
        self.problems = dict.fromkeys(Problem, 0)
        self.max_queued = 0  # the queue's high-water mark: it never exceeds settings.queue_limit
        self._window = (0.0, 0)  # (second it started, datagrams in it), for MAX_DATAGRAMS_PER_S
        self._told_unhandled = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="osc-in", daemon=True)
        self._thread.start()

    # --- the receiving thread ---------------------------------------------------------------------

    def _receive(self) -> None:
        from pythonosc.osc_packet import OscPacket

        while not self._stop.is_set():
            try:
                data = self._socket.recv(_RECEIVE_BYTES)
            except TimeoutError:
                continue
            except OSError:  # closed under us: the run is over
                return
            self.received += 1
            if self._flooded():
                self._count(Problem.RATE)
                continue
            if len(data) > MAX_DATAGRAM_BYTES or data.count(b"#bundle") > MAX_BUNDLES:
                self._count(Problem.MALFORMED)
                continue
            try:
                packet = OscPacket(data)
            except Exception:  # noqa: BLE001 (a hostile datagram may break the parser in any way: count it)
                self._count(Problem.MALFORMED)
                continue
            for timed in packet.messages:
                try:
                    control = parse_control(timed.message.address, list(timed.message.params))
                except BadControl as bad:
                    self._count(bad.problem)
                    continue
                if control is not None:
                    self._enqueue(control)

    def _flooded(self) -> bool:
        now = time.monotonic()
        start, count = self._window
        if now - start >= 1.0:
            start, count = now, 0
        self._window = (start, count + 1)
        return count + 1 > MAX_DATAGRAMS_PER_S

    def _enqueue(self, control: Control) -> None:
        with self._lock:
            if len(self._queue) >= self.settings.queue_limit:
                self.problems[Problem.QUEUE] += 1
                return
            self._queue.append(control)
            self.max_queued = max(self.max_queued, len(self._queue))

    def _count(self, problem: Problem) -> None:
        with self._lock:
            self.problems[problem] += 1

    # --- the frame loop's side ---------------------------------------------------------------------

    def take(self) -> list[Control]:
        """Everything queued, the last value of each control only (a fader's many steps in one frame
        are one change), in the order of their last arrival."""
        with self._lock:
            pending, self._queue = list(self._queue), deque()
        latest: dict[str, Control] = {}
        for control in pending:
            latest.pop(control.name, None)
            latest[control.name] = control
        return list(latest.values())

    def apply_pending(self, context: ModeContext, mode: Mode, t_s: float) -> None:
        """[main] Apply the controls that came since the last frame, as the classroom keys do."""
        for control in self.take():
            name, value = control.name, control.value
            if name == "new_person":
                context.send(ResetPerson())
            elif name in MODEL_CONTROLS:
                try:
                    context.send(Configure.of(**{name: value}))
                except (ValueError, ConfigError):  # a value the model's own schema refuses
                    self._count(Problem.BAD_VALUE)
                    continue
            elif not mode.on_control(context, name, value):
                self._count(Problem.UNHANDLED)
                if not self._told_unhandled:
                    self._told_unhandled = True
                    context.notice(f"OSC in: {PREFIX}{_ADDRESS_OF[name]} does nothing in {mode.name} mode; ignored")
                continue
            self.applied += 1
            context.emit(t_s, ControlChanged(name, value.value if isinstance(value, Enum) else value))

    def session_info(self) -> dict[str, Any]:
        """What came in and what was refused, for session.json (`osc_in`)."""
        with self._lock:
            problems = {problem.value: count for problem, count in self.problems.items()}
            return {"osc_in": {"listen": f"{self.settings.host}:{self.port}", "datagrams": self.received,
                               "applied": self.applied, **problems, "max_queued": self.max_queued,
                               "queue_limit": self.settings.queue_limit}}

    def close(self) -> None:
        # The thread stops before the socket is closed, so it never reads a descriptor reused by another file.
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._socket.close()
        ignored = {problem.value: count for problem, count in self.problems.items() if count}
        if ignored:
            listed = ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in ignored.items())
            self._notice(f"OSC in: {sum(ignored.values()):,} of the messages on port {self.port} were ignored ({listed}); "
                         "session.json has the counts")


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"--osc-in {host}:{port}: cannot resolve {host!r} ({exc})") from None
    sock = socket.socket(family, kind, proto)
    # Room for a burst (the kernel caps it at net.core.rmem_max); what does not fit is lost there, uncounted.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"--osc-in {host}:{port}: cannot listen there ({exc.strerror or exc})") from None
    sock.settimeout(_POLL_S)
    return sock
