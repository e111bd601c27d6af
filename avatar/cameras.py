"""`python -m avatar cameras`: which cameras OpenCV can open here (index, resolution, backend).

At the command line's edge, beside avatar.sources (which opens the camera a run uses). Each index is
probed in a thread of its own with a deadline: a driver that hangs on open costs the timeout, not the
command. OpenCV's own warnings about indexes that are not there are silenced while probing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from avatar.arguments import positive
from avatar.errors import CliError

DEFAULT_INDEXES = 10
DEFAULT_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Camera:
    """A camera that opened and gave a frame."""

    index: int
    width: int
    height: int
    backend: str

    def line(self) -> str:
        return f"camera:{self.index}  {self.width}x{self.height}  {self.backend}"


def device_missing(index: int) -> bool:
    """On Linux a camera is a /dev/videoN node: with none there, OpenCV need not be asked (and warn)."""
    return os.name == "posix" and Path("/dev").is_dir() and not Path(f"/dev/video{index}").exists()


def open_camera(index: int) -> Camera | None:
    """The camera at `index` if OpenCV opens it and reads a frame; None otherwise."""
    if device_missing(index):
        return None
    import cv2

    capture = cv2.VideoCapture(index)
    try:
        if not capture.isOpened():
            return None
        ok, image = capture.read()
        if not ok or image is None:
            return None
        return Camera(index, int(image.shape[1]), int(image.shape[0]), capture.getBackendName())
    finally:
        capture.release()


def find_cameras(indexes: int = DEFAULT_INDEXES, timeout_s: float = DEFAULT_TIMEOUT_S,
                 opener: Callable[[int], Camera | None] = open_camera) -> tuple[list[Camera], list[int]]:
    """Probe indexes 0..indexes-1 at once; returns the cameras found and the indexes that did not answer in time."""
    answers: dict[int, Camera | None] = {}

    def probe(index: int) -> None:
        try:
            answers[index] = opener(index)
        except Exception:  # a driver's failure on one index is "no camera there", not the end of the listing
            answers[index] = None

    threads = [threading.Thread(target=probe, args=(i,), name=f"camera-probe-{i}", daemon=True) for i in range(indexes)]
    with _quiet_opencv():
        for thread in threads:
            thread.start()
        deadline = threading.Event()
        timer = threading.Timer(timeout_s, deadline.set)
        timer.start()
        try:
            for thread in threads:
                while thread.is_alive() and not deadline.is_set():
                    thread.join(0.05)
        finally:
            timer.cancel()
    found = [camera for _, camera in sorted(answers.items()) if camera is not None]
    hung = [i for i, thread in enumerate(threads) if thread.is_alive()]
    return found, hung


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """OpenCV's log level at silent while probing (it warns on stderr for every index that is not there)."""
    import cv2

    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


def report_lines(found: list[Camera], hung: list[int]) -> list[str]:
    """What the command prints: a camera a line, or one line saying none was found and what to do instead."""
    if not found:
        lines = ["no camera found; use a video or a photo instead: python -m avatar --source FILE (or --source demo)"]
    else:
        lines = [camera.line() for camera in found]
    if hung:
        lines.append(f"no answer in time from camera index {', '.join(map(str, hung))} (a driver may be stuck)")
    return lines


def add_subcommand(subparsers) -> argparse.ArgumentParser:
    """`python -m avatar cameras`: adds its parser to the command line's subcommands."""
    parser = subparsers.add_parser("cameras", description="List the cameras this machine can open (index, size, backend).")
    parser.add_argument("--max-index", type=int, default=DEFAULT_INDEXES - 1, metavar="N",
                        help=f"probe camera indexes 0..N (default {DEFAULT_INDEXES - 1})")
    parser.add_argument("--timeout", type=positive("--timeout"), default=DEFAULT_TIMEOUT_S, metavar="S",
                        help=f"give up on an index that has not answered after S seconds (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=cameras_from_args)
    return parser


def cameras_from_args(args: argparse.Namespace) -> int:
    if not 0 <= args.max_index <= 63:
        raise CliError(f"--max-index {args.max_index} is out of range: give 0-63")
    for line in report_lines(*find_cameras(args.max_index + 1, args.timeout)):
        print(line, flush=True)
    return 0
