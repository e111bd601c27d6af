"""Keeps a run off the network when it asks for no network: an empty network namespace, made by the kernel.

Runs first, before the command line (avatar/__main__.py, run.py). MediaPipe's native library (1.x)
resolves and contacts a Google telemetry host (play.googleapis.com, a "clearcut" uploader) whenever a
task is created, and offers no switch to turn it off (none in its options, environment or Python
code; see SECURITY.md). A run with no network feature therefore moves itself, before any model is
loaded, into a network namespace of its own: no interface but a loopback that is down, so nothing
the process or its native libraries try can leave the machine. Files, the camera and the window's
Unix socket are unaffected.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass

# Flags that need the network (argparse also accepts any unique prefix of them, e.g. --ls).
# --vmc and --osc-in talk UDP, even on 127.0.0.1: the namespace's loopback is not the host's.
# --labrecorder talks TCP to LabRecorder's remote control (and needs --lsl anyway).
# --scheduler hands batch work to a Dask cluster on other machines; --dashboard serves Dask's (docs/batch.md).
NETWORK_FLAGS = ("--lsl", "--chat-endpoint", "--vmc", "--osc-in", "--labrecorder", "--scheduler", "--dashboard")
ALLOW_ENV = "AVATAR_ALLOW_NETWORK"  # set to 1 to run without the namespace (e.g. a debugger that needs it)

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


@dataclass(frozen=True)
class Isolation:
    """Whether this process was kept off the network, and how or why not (for session.json)."""

    isolated: bool
    how: str

    def to_json(self) -> dict:
        return {"isolated": self.isolated, "how": self.how}


_state = Isolation(False, "not attempted")  # a fact about the whole process, set once at start-up


def needs_network(argv: list[str]) -> str | None:
    """The first argument that asks for the network (a network flag, or a URL such as rtsp://), or None."""
    for arg in argv:
        if arg == "--":
            break
        token = arg.split("=", 1)[0]
        if token.startswith("--") and len(token) > 2 and any(flag.startswith(token) for flag in NETWORK_FLAGS):
            return token
        if "://" in arg:
            return arg
    return None


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def _enter_empty_network_namespace() -> Isolation:
    if not sys.platform.startswith("linux"):
        return Isolation(False, f"not available on {sys.platform}")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNET) == 0:  # allowed with CAP_SYS_ADMIN (root)
        return Isolation(True, "network namespace")
    # Without privileges: a user namespace of our own first, which only a single-threaded process may
    # enter; this runs before any library starts threads. The same uid and gid are mapped, so files
    # are created and read exactly as before.
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
        return Isolation(False, f"the kernel refused a network namespace ({os.strerror(ctypes.get_errno())})")
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError as exc:
        return Isolation(True, f"user and network namespace (ids not mapped: {exc.strerror})")
    return Isolation(True, "user and network namespace")


def isolate_unless_networked(argv: list[str]) -> Isolation:
    """Enter an empty network namespace unless the command line asks for the network. Call it once,
    first thing, before other imports start threads."""
    global _state
    wanted = needs_network(argv)
    if wanted is not None:
        _state = Isolation(False, f"{wanted} needs the network")
    elif os.environ.get(ALLOW_ENV) == "1":
        _state = Isolation(False, f"{ALLOW_ENV}=1")
    else:
        _state = _enter_empty_network_namespace()
    return _state


def bring_up_loopback() -> None:
    """Switch on the namespace's own loopback, so the processes of a local Dask cluster can talk to each
    other (avatar/batch.py). It is this namespace's, not the host's: nothing reaches another machine or
    even the host's own services. Does nothing outside the namespace, where the host's loopback is up."""
    if not _state.isolated:
        return
    import fcntl
    import socket
    import struct

    get_flags, set_flags, up = 0x8913, 0x8914, 0x1  # SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP (linux/sockios.h, net/if.h)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, get_flags, request)[:18])[1]
        if not flags & up:
            fcntl.ioctl(sock, set_flags, struct.pack("16sH", b"lo", flags | up))


def current() -> Isolation:
    return _state
