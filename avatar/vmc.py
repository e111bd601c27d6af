"""VMC protocol output: each frame's avatar (or, on request, the person's tracking) as OSC over UDP.

An edge of the pipeline: a sink (sinks.Sink) that app.py adds with `--vmc`. The names and the head
rotation come from vmc_mapping.py; this module only packs them into datagrams and sends them, never
waiting: a receiver that is not there costs one notice, not a slower run.
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.parsing.osc_types import IMMEDIATELY, write_date

from avatar.errors import ConfigError
from avatar.events import Event, SessionStatus
from avatar.outcome import FrameOutcome
from avatar.vmc_mapping import (
    ALL_NAMES,
    IDENTITY,
    Quaternion,
    blendshapes_from_controls,
    blendshapes_from_face,
    face_head_rotation,
    head_rotation,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 39539  # the VMC protocol's usual "marionette" port (VSeeFace, EVMC4U, ...)
MAX_DATAGRAM_BYTES = 1400  # below a 1,500-byte Ethernet MTU with room for IP/UDP headers: never fragmented
_BUNDLE_HEADER_BYTES = 16  # "#bundle\0" and the time tag
_ELEMENT_SIZE_BYTES = 4  # each element of a bundle is preceded by its length


class VmcSend(Enum):
    ANSWER = "answer"  # the avatar's answer: the echo, concern, idle blinks and head follow
    FACE = "face"  # the person's own tracking (a plain tracker)


@dataclass(frozen=True)
class VmcSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    send: VmcSend = VmcSend.ANSWER
    unbundled: bool = False  # one message per datagram, for receivers that do not read bundles


@dataclass(frozen=True)
class VmcFrame:
    """What one frame sends: the time, the Head bone's local rotation and every blendshape's value."""

    t_s: float
    head: Quaternion
    blendshapes: dict[str, float]


def vmc_frame(outcome: FrameOutcome, send: VmcSend) -> VmcFrame:
    if send is VmcSend.FACE:
        face, mirror = outcome.reading.primary, outcome.echo.mirror
        return VmcFrame(outcome.frame.t_s, face_head_rotation(face, mirror),
                        blendshapes_from_face(face, outcome.expression, mirror))
    c = outcome.controls
    return VmcFrame(outcome.frame.t_s, head_rotation(c.head_yaw_deg, c.head_pitch_deg, c.head_roll_deg),
                    blendshapes_from_controls(c, outcome.echo))


def messages(frame: VmcFrame) -> list[bytes]:
    """One frame's OSC messages in the protocol's order: loaded, time, root, head, values, then Apply."""
    built = [
        _OK,
        _message("/VMC/Ext/T", float(frame.t_s)),
        # The model stays where the receiver put it; only the head turns. Receivers that also apply
        # bone positions (EVMC4U's "Bone Position Synchronize") should have that off: see docs/vmc.md.
        _ROOT,
        _message("/VMC/Ext/Bone/Pos", "Head", 0.0, 0.0, 0.0, *frame.head.as_tuple()),
    ]
    built += [_blend_value(name, value) for name, value in frame.blendshapes.items()]
    built.append(_APPLY)
    return built


def datagrams(frame_messages: Sequence[bytes], unbundled: bool = False,
              limit_bytes: int = MAX_DATAGRAM_BYTES) -> Iterator[bytes]:
    """The messages packed in order into as few bundles of at most `limit_bytes` as fit (or one each)."""
    if unbundled:
        yield from frame_messages
        return
    batch: list[bytes] = []
    size = _BUNDLE_HEADER_BYTES
    for message in frame_messages:
        if len(message) + _BUNDLE_HEADER_BYTES + _ELEMENT_SIZE_BYTES > limit_bytes:
            raise ValueError(f"an OSC message of {len(message)} bytes cannot fit a {limit_bytes}-byte datagram")
        if batch and size + _ELEMENT_SIZE_BYTES + len(message) > limit_bytes:
            yield _bundle(batch)
            batch, size = [], _BUNDLE_HEADER_BYTES
        batch.append(message)
        size += _ELEMENT_SIZE_BYTES + len(message)
    if batch:
        yield _bundle(batch)


def _message(address: str, *args: Any) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)  # typed from the value: int, float (32-bit) or string
    return builder.build().dgram


_OK = _message("/VMC/Ext/OK", 1)
_ROOT = _message("/VMC/Ext/Root/Pos", "root", 0.0, 0.0, 0.0, *IDENTITY.as_tuple())
_APPLY = _message("/VMC/Ext/Blend/Apply")
_FLOAT_BYTES = 4
# Each name's /VMC/Ext/Blend/Val message up to its value, built by python-osc once (constants).
_BLEND_PREFIXES = {name: _message("/VMC/Ext/Blend/Val", name, 0.0)[:-_FLOAT_BYTES] for name in ALL_NAMES}


def _blend_value(name: str, value: float) -> bytes:
    """/VMC/Ext/Blend/Val name value: the message's fixed start, then the 32-bit big-endian float
    (the 70 messages of a frame built whole by python-osc took ~0.8 ms; this way ~0.1 ms)."""
    prefix = _BLEND_PREFIXES.get(name)
    if prefix is None:
        return _message("/VMC/Ext/Blend/Val", name, float(value))
    return prefix + struct.pack(">f", value)


_BUNDLE_HEAD = b"#bundle\x00" + write_date(IMMEDIATELY)


def _bundle(batch: Sequence[bytes]) -> bytes:
    """An OSC bundle to be run at once: its head, then each message after its length (OSC 1.0)."""
    return _BUNDLE_HEAD + b"".join(struct.pack(">i", len(message)) + message for message in batch)


def open_socket(host: str, port: int) -> socket.socket:
    """A non-blocking UDP socket connected to host:port (so an ICMP "port unreachable" comes back as
    ECONNREFUSED on a later send instead of being lost). Raises ConfigError for a host that does not resolve."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"--vmc {host}:{port}: cannot resolve {host!r} ({exc})") from None
    sock = socket.socket(family, kind, proto)
    sock.setblocking(False)
    try:
        sock.connect(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"--vmc {host}:{port}: cannot send there ({exc.strerror or exc})") from None
    return sock


class VmcSink:
    """Sends every logged frame to a VMC receiver: its values, then one Apply (sinks.Sink)."""

    def __init__(self, settings: VmcSettings, notice: Callable[[str], None]):
        self.settings = settings
        self._notice = notice
        self._socket = open_socket(settings.host, settings.port)
        self.frames = 0
        self.datagrams = 0
        self.largest_bytes = 0
        self.refused = 0  # sends that found nobody listening (ICMP port unreachable)
        self.dropped = 0  # datagrams not sent: the socket's buffer was full, or the network said no
        self._told: set[str] = set()

    @property
    def target(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def frame(self, outcome: FrameOutcome, values: Sequence[object]) -> None:
        self.frames += 1
        for datagram in datagrams(messages(vmc_frame(outcome, self.settings.send)), self.settings.unbundled):
            self._send(datagram)

    def _send(self, datagram: bytes) -> None:
        self.largest_bytes = max(self.largest_bytes, len(datagram))
        try:
            self._socket.send(datagram)
            self.datagrams += 1
        except ConnectionRefusedError:
            # The previous datagram met a closed port; this one was not sent. Receivers come and go
            # (VSeeFace may be started after us), so keep sending, and say it once.
            self.refused += 1
            self._tell("refused", f"VMC: nothing was listening on {self.target} (UDP); the avatar was sent there all the same")
        except BlockingIOError:
            self.dropped += 1
            self._tell("full", f"VMC: the send buffer to {self.target} was full; some datagrams were skipped")
        except OSError as exc:
            self.dropped += 1
            self._tell(f"errno {exc.errno}", f"VMC: cannot send to {self.target} ({errno.errorcode.get(exc.errno or 0, '')}: {exc.strerror}); "
                                            "the run goes on without it")

    def _tell(self, key: str, text: str) -> None:
        if key not in self._told:
            self._told.add(key)
            self._notice(text)

    def event(self, t_s: float | None, event: Event) -> None:
        pass

    def closing(self) -> None:
        pass

    def finish(self, status: SessionStatus, session_info: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        self._socket.close()
