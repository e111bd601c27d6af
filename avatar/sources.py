"""Frame sources: a camera, a video file, a still image or the built-in demo -> Frame.

The first stage. A file runs on its own clock (t_s from its frame rate), so results never depend
on machine speed; a camera is read in its own thread and only the newest frame is kept.
"""

from __future__ import annotations

import os
import threading
import time
from enum import Enum
from pathlib import Path

import numpy as np

from avatar.errors import SourceError
from avatar.events import CameraBack, CameraLost, Event
from avatar.outcome import Frame  # noqa: F401  (re-exported: the source stage's result type)

os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
# FFmpeg prints its own complaints ("moov atom not found") for a bad file; we say it in one line.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
import cv2  # noqa: E402  (the log level must be set before OpenCV loads)

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEMO_CLIP = ASSETS / "demo.mp4"
STILL_FPS = 30.0
DEFAULT_FILE_FPS = 30.0  # for a file whose header gives no usable frame rate


class SourceKind(Enum):
    VIDEO = "video"
    IMAGE = "image"
    CAMERA = "camera"


class Source:
    """A stream of frames; iterate it, and close it (it is a context manager)."""

    description: str = ""
    kind: SourceKind = SourceKind.VIDEO
    lost: bool = False  # a camera that stopped giving frames
    fps: float = DEFAULT_FILE_FPS
    is_live: bool = False
    notices: list[str]

    def read(self) -> Frame | None:  # None at the end
        raise NotImplementedError

    def close(self) -> None:
        pass

    def drain_state_changes(self) -> list[tuple[float, Event]]:
        """(t_s, event) for each time the source was lost or came back since the last call."""
        return []

    def __iter__(self):
        while True:
            frame = self.read()
            if frame is None:
                return
            yield frame

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class VideoFileSource(Source):
    """A video file read frame by frame; t_s = frame index / frame rate (the file's own clock).

    `realtime` paces frames at the file's speed as if it were a camera; `loop` starts it again
    at the end, with time going on (so MediaPipe timestamps keep increasing).
    """

    kind = SourceKind.VIDEO

    def __init__(self, path: Path, realtime: bool = False, loop: bool = False):
        self.path = Path(path)
        self.description = str(path)
        self.realtime = realtime
        self.loop = loop
        self.notices = []
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            raise SourceError(f"not a readable video: {self.path}")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else DEFAULT_FILE_FPS
        self._first = self._grab()
        if self._first is None:
            self._capture.release()
            raise SourceError(f"not a readable video (no frames decode): {self.path}")
        self._index = 0
        self._loop_offset_s = 0.0
        self._frames_this_pass = 0
        self._started_perf: float | None = None

    def _grab(self) -> np.ndarray | None:
        try:
            ok, image = self._capture.read()
        except cv2.error:
            return None
        return image if ok and image is not None and image.size else None

    def read(self) -> Frame | None:
        if self._first is not None:
            image, self._first = self._first, None
        else:
            image = self._grab()
            if image is None and self.loop and self._frames_this_pass > 0:
                self._loop_offset_s += self._frames_this_pass / self.fps
                self._frames_this_pass = 0
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                image = self._grab()
            if image is None:
                expected = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
                if not self.loop and expected and self._frames_this_pass < expected - 1:
                    self.notices.append(
                        f"video ended early at frame {self._frames_this_pass} of {expected}: {self.path} may be cut or corrupt"
                    )
                return None
        t_s = self._loop_offset_s + self._frames_this_pass / self.fps
        if self.realtime:
            if self._started_perf is None:
                self._started_perf = time.perf_counter() - t_s
            wait = self._started_perf + t_s - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        frame = Frame(self._index, t_s, time.time(), time.perf_counter(), image)
        self._index += 1
        self._frames_this_pass += 1
        return frame

    def close(self) -> None:
        self._capture.release()


class ImageSource(Source):
    """A still image held for `duration_s` at a nominal 30 fps."""

    kind = SourceKind.IMAGE

    def __init__(self, path: Path, duration_s: float = 3.0, realtime: bool = False, loop: bool = False):
        self.path = Path(path)
        self.description = str(path)
        self.notices = []
        self.fps = STILL_FPS
        self.realtime = realtime
        self.loop = loop
        self.image = read_image(self.path)
        self.frame_count = max(1, int(round(duration_s * STILL_FPS)))
        self._index = 0
        self._started_perf: float | None = None

    def read(self) -> Frame | None:
        if self._index >= self.frame_count and not self.loop:
            return None
        t_s = self._index / self.fps
        if self.realtime:
            if self._started_perf is None:
                self._started_perf = time.perf_counter()
            wait = self._started_perf + t_s - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        frame = Frame(self._index, t_s, time.time(), time.perf_counter(), self.image)
        self._index += 1
        return frame


def read_image(path: Path) -> np.ndarray:
    """Read a still as BGR; a clear SourceError for anything that is not one."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"image not found: {path}")
    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size == 0:
        raise SourceError(f"empty file (0 bytes): {path}")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise SourceError(f"not a readable image: {path}")
    return image


class CameraSource(Source):
    """A webcam read in its own thread; only the newest frame is kept, so nothing queues up.

    If the camera stops giving frames (unplugged), `lost` turns True, the capture is released and
    reopened with backoff (0.5 s doubling to 8 s) until it returns; time keeps running meanwhile.
    `opener(index)` returns an opened capture or None; tests pass a fake one.
    """

    kind = SourceKind.CAMERA
    is_live = True
    FAILURES_BEFORE_LOST = 10
    BACKOFF_S = (0.5, 8.0)

    def __init__(self, index: int = 0, opener=None):
        self.index = index
        self.description = f"camera:{index}"
        self.notices = []
        self._opener = opener or _open_camera
        self._capture = self._opener(index)
        if self._capture is None:
            raise SourceError(f"camera {index} does not open (--source camera:{index})")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else DEFAULT_FILE_FPS
        self._lock = threading.Condition()
        self._newest: Frame | None = None
        self._returned = -1
        self._count = 0
        self._stopped = False
        self._t0 = time.perf_counter()
        self.lost = False
        self.state_changes: list[tuple[float, Event]] = []  # drained by the loop
        self.reopen_attempts = 0
        self._thread = threading.Thread(target=self._run, name="camera-capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        failures = 0
        while not self._stopped:
            if self._capture is None:
                self._reopen()
                continue
            try:
                ok, image = self._capture.read()
            except cv2.error:
                ok, image = False, None
            if not ok or image is None:
                failures += 1
                if failures >= self.FAILURES_BEFORE_LOST:
                    with self._lock:
                        self.lost = True
                        self.state_changes.append((time.perf_counter() - self._t0, CameraLost(self.description)))
                        self._lock.notify_all()
                    self._capture.release()
                    self._capture = None
                else:
                    time.sleep(0.02)
                continue
            failures = 0
            now = time.perf_counter()
            with self._lock:
                if self.lost:
                    self.state_changes.append((now - self._t0, CameraBack(self.description)))
                self.lost = False
                self._newest = Frame(self._count, now - self._t0, time.time(), now, image)
                self._count += 1
                self._lock.notify_all()

    def _reopen(self) -> None:
        delay = self.BACKOFF_S[0]
        while not self._stopped:
            self.reopen_attempts += 1
            capture = self._opener(self.index)
            if capture is not None:
                self._capture = capture
                return
            deadline = time.perf_counter() + delay
            while not self._stopped and time.perf_counter() < deadline:
                time.sleep(0.05)
            delay = min(self.BACKOFF_S[1], delay * 2)

    def drain_state_changes(self) -> list[tuple[float, Event]]:
        with self._lock:
            changes, self.state_changes = self.state_changes, []
            return changes

    def read(self) -> Frame | None:
        """The newest frame not yet returned; waits for one (None only once closed)."""
        with self._lock:
            while not self._stopped and (self._newest is None or self._returned == self._newest.index):
                self._lock.wait(0.25)  # wakes now and then so signals reach the main thread
            if self._stopped:
                return None
            self._returned = self._newest.index
            return self._newest

    def close(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        self._thread.join(timeout=2.0)
        if self._capture is not None:
            self._capture.release()


def _open_camera(index: int):
    # On Linux a missing /dev/videoN would only produce OpenCV warnings; say no quietly.
    if os.name == "posix" and Path("/dev").is_dir() and not Path(f"/dev/video{index}").exists():
        return None
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        capture.release()
        return None
    ok, _ = capture.read()
    if not ok:
        capture.release()
        return None
    return capture


def camera_available(index: int = 0) -> bool:
    capture = _open_camera(index)
    if capture is None:
        return False
    capture.release()
    return True


def parse_camera_spec(spec: str) -> int | None:
    """`camera` -> 0, `camera:N` -> N, anything else -> None."""
    if spec == "camera":
        return 0
    if spec.startswith("camera:"):
        number = spec.split(":", 1)[1]
        if not number.isdigit():
            raise SourceError(f"--source {spec}: the camera index must be a whole number, as in camera:0")
        return int(number)
    return None


def mp4_index_missing(path: Path) -> bool:
    """True for an MP4/QuickTime file whose top-level boxes have media data but no `moov` index.

    Such a file was cut before the recorder wrote its index at the end; without it (and the codec
    set-up inside it) no frame can be decoded, so we say so instead of a vague error.
    """
    try:
        with open(path, "rb") as handle:
            seen = set()
            while len(seen) < 64:
                header = handle.read(8)
                if len(header) < 8:
                    break
                size, kind = int.from_bytes(header[:4], "big"), header[4:8]
                seen.add(kind)
                if size == 1:
                    size = int.from_bytes(handle.read(8), "big") - 8
                elif size == 0:
                    break  # the box runs to the end of the file
                if size < 8:
                    break
                handle.seek(size - 8, os.SEEK_CUR)
    except OSError:
        return False
    return b"ftyp" in seen and b"moov" not in seen


def open_source(spec: str, duration_s: float = 3.0, realtime: bool = False, loop: bool = False) -> Source:
    """Open `camera`, `camera:N`, `demo`, or a video or image path."""
    camera_index = parse_camera_spec(spec)
    if camera_index is not None:
        return CameraSource(camera_index)
    if spec == "demo":
        if not DEMO_CLIP.is_file():
            raise SourceError(f"the demo clip is missing: {DEMO_CLIP}")
        return VideoFileSource(DEMO_CLIP, realtime=realtime, loop=loop)
    path = Path(spec)
    if not path.exists():
        raise SourceError(f"source file not found: {path}")
    if path.is_dir():
        raise SourceError(f"source is a folder, not a video or image: {path}")
    if path.stat().st_size == 0:
        raise SourceError(f"source file is empty (0 bytes): {path}")
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageSource(path, duration_s=duration_s, realtime=realtime, loop=loop)
    try:
        return VideoFileSource(path, realtime=realtime, loop=loop)
    except SourceError:
        if mp4_index_missing(path):
            raise SourceError(
                f"not a readable video: {path} is an MP4 without its index (moov), as when a recording is cut "
                "off before it was finished; nothing in it can be decoded"
            ) from None
        if suffix in VIDEO_SUFFIXES:
            raise SourceError(f"not a readable video: {path}") from None
    try:
        return ImageSource(path, duration_s=duration_s, realtime=realtime, loop=loop)
    except SourceError:
        raise SourceError(f"not a video or image: {path}") from None
