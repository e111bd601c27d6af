"""The flags of the bridges to other tools: VMC out (`--vmc`), OSC control in (`--osc-in`), a virtual camera.

Used by the command line only (avatar.cli adds them to the run parser and reads them back); the
bridges themselves (vmc.py, osc_in.py, virtual_camera.py) know nothing of argparse.
"""

from __future__ import annotations

import argparse

from avatar.arguments import choice
from avatar.errors import CliError

VMC_DEFAULT = "127.0.0.1:39539"


def host_port(flag: str, default_host: str):
    """`[HOST:]PORT` for `flag`: a port 1-65535, after an optional host name or address ([::1] for IPv6)."""

    def parse(text: str) -> tuple[str, int]:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            host = default_host
        elif host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        elif ":" in host:
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: write an IPv6 address in brackets, e.g. [::1]:{port_text}")
        try:
            port = int(port_text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: the port should be a whole number, e.g. {flag} 127.0.0.1:9000") from None
        if not 1 <= port <= 65535:
            raise argparse.ArgumentTypeError(f"{flag} {text}: the port is out of range (1-65535)")
        if not host or any(ch.isspace() or not ch.isprintable() for ch in host) or len(host) > 253:
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: not a host name or address")
        return host, port

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bridges' flags, for the run parser."""
    from avatar.osc_in import DEFAULT_HOST as OSC_HOST
    from avatar.vmc import DEFAULT_HOST as VMC_HOST
    from avatar.vmc import VmcSend

    group = parser.add_argument_group("other tools (docs/vmc.md, docs/osc.md)")
    group.add_argument("--vmc", nargs="?", const=VMC_DEFAULT, type=host_port("--vmc", VMC_HOST), metavar="[HOST:]PORT",
                       help=f"send the avatar to a VMC protocol receiver (VSeeFace, VMagicMirror, Warudo, Unity) over UDP (default {VMC_DEFAULT})")
    group.add_argument("--vmc-send", type=choice("--vmc-send", VmcSend), metavar="answer|face",
                       help="answer (default: the avatar's echo) or face (the person's own tracking)")
    group.add_argument("--vmc-unbundled", action="store_true", help="send each VMC message in its own datagram (no OSC bundles)")
    group.add_argument("--osc-in", type=host_port("--osc-in", OSC_HOST), metavar="[HOST:]PORT",
                       help="take /avatar/... controls over OSC (UDP), e.g. 9000; listens on 127.0.0.1 unless a host is given")
    group.add_argument("--virtual-camera", nargs="?", const="", metavar="DEVICE",
                       help="send the avatar's frames to a virtual camera (needs the virtualcam extra), e.g. /dev/video10")


def settings_from_args(args: argparse.Namespace) -> dict:
    """RunSettings' `vmc`, `osc_in` and `virtual_camera` from the parsed flags (None when not asked for)."""
    from avatar.osc_in import OscInSettings
    from avatar.virtual_camera import VirtualCameraSettings
    from avatar.vmc import VmcSend, VmcSettings

    vmc = None
    if args.vmc is not None:
        host, port = args.vmc
        vmc = VmcSettings(host, port, args.vmc_send or VmcSend.ANSWER, args.vmc_unbundled)
    elif args.vmc_send is not None or args.vmc_unbundled:
        raise CliError(f"{'--vmc-send' if args.vmc_send is not None else '--vmc-unbundled'} needs --vmc")
    osc_in = OscInSettings(*args.osc_in) if args.osc_in is not None else None
    camera = None if args.virtual_camera is None else VirtualCameraSettings(device=args.virtual_camera or None)
    return {"vmc": vmc, "osc_in": osc_in, "virtual_camera": camera}
