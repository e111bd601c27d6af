"""Frame sources: a camera, a video file, a still image or the built-in demo -> Frame.

The first stage. A file runs on its own clock (t_s from the decoder's timestamps), so results never
depend on machine speed; a camera is read in its own thread and only the newest frame is kept.
"""

from __future__ import annotations

import os
import threading
import time
from enum import Enum
from pathlib import Path

import numpy as np

from avatar.errors import SourceError, first_line
from avatar.events import CameraBack, CameraLost, Event
from avatar.outcome import Frame  # noqa: F401  (re-exported: the source stage's result type)
from avatar.settings_schema import show_path

# The pixel budget of an image or video frame. A 110 kB PNG can say 30000 x 30000 (900 megapixels): OpenCV's
# own limit (2^30 pixels) lets it through, decoding takes 2.7 GB, and MediaPipe's image then crashes the
# process. A still is refused from its header, before it is decoded (`image_size`); a video from the size its
# decoder reports. 50 megapixels is a 8660 x 5773 photo, larger than any camera's; the model sees 256 x 256.
MAX_IMAGE_PIXELS = 50_000_000
MAX_IMAGE_SIDE = 16_384  # pixels, either side

os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
# FFmpeg prints its own complaints ("moov atom not found") for a bad file; we say it in one line.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
# A second guard for image formats `image_size` does not know: OpenCV refuses them at the same budget.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_WIDTH", str(MAX_IMAGE_SIDE))
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_HEIGHT", str(MAX_IMAGE_SIDE))
import cv2  # noqa: E402  (the log level and limits must be set before OpenCV loads)

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEMO_CLIP = ASSETS / "demo.mp4"
STILL_FPS = 30.0
DEFAULT_FILE_FPS = 30.0  # for a file whose header gives no usable frame rate
# A decoder timestamp this close to the frame grid (n / fps) is taken as the grid's value: containers round
# their clocks (Matroska to 1 ms) and ms -> s differs from n / fps in the last bits, and a constant-rate file
# must give exactly the t it gave when t was index / fps (the logs are compared byte for byte).
GRID_SNAP_S = 0.001


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
    cut_short: str | None = None  # why a file gave fewer frames than its header promised (cut or corrupt), once it has

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
    """A video file read frame by frame; t_s is the decoder's timestamp of each frame (the file's own clock).

    A variable-frame-rate file (a phone's recording) keeps its real timing: t_s is not index / frame rate.
    t_s never goes backwards (MediaPipe needs increasing timestamps), and a file whose decoder gives no
    timestamps falls back to index / frame rate. `realtime` paces frames at the file's speed as if it
    were a camera; `loop` starts it again at the end, with time going on.
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
            raise SourceError(f"not a readable video: {show_path(self.path)}")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else DEFAULT_FILE_FPS
        _check_frame_size(
            int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0),
            self.path, "video", self._capture.release,
        )
        self._first = self._grab()
        if self._first is None:
            self._capture.release()
            raise SourceError(f"not a readable video (no frames decode): {show_path(self.path)}")
        self._first_stamp_s = self._stamp_s()
        self._index = 0
        self._loop_offset_s = 0.0
        self._frames_this_pass = 0
        self._pass_origin_s: float | None = None  # the decoder's time of this pass's first frame
        self._pass_end_s = 0.0  # this pass's length so far: where the next pass starts
        self._stamps_usable = True  # False once the decoder gives no timestamps: then index / fps
        self._variable_rate = False  # a frame's timestamp was off the frame grid
        self._last_t_s = 0.0
        self._started_perf: float | None = None

    def _grab(self) -> np.ndarray | None:
        try:
            ok, image = self._capture.read()
        except cv2.error:
            return None
        if not ok or image is None or not image.size:
            return None
        # Every frame keeps the budget too: OpenCV's FFmpeg backend scales a stream that changes size part way
        # to its first size, but another backend may not.
        _check_frame_size(image.shape[1], image.shape[0], self.path, "video frame", self._capture.release)
        return image

    def _stamp_s(self) -> float:
        """The decoder's timestamp of the frame just read, in s (NaN when it has none)."""
        try:
            ms = float(self._capture.get(cv2.CAP_PROP_POS_MSEC))
        except (cv2.error, TypeError, ValueError):
            return float("nan")
        return ms / 1000.0 if np.isfinite(ms) else float("nan")

    def _pass_time_s(self, stamp_s: float) -> float:
        """Time since the start of this pass: the decoder's clock, on the frame grid when within rounding of it."""
        grid_s = self._frames_this_pass / self.fps
        if self._pass_origin_s is None:
            self._pass_origin_s = stamp_s if np.isfinite(stamp_s) else 0.0
        elif not np.isfinite(stamp_s) or (self._frames_this_pass == 1 and stamp_s <= self._pass_origin_s):
            self._stamps_usable = False  # a decoder with no clock reports 0 (or nothing) for every frame
        if not self._stamps_usable:
            self._pass_end_s = (self._frames_this_pass + 1) / self.fps
            return grid_s
        t_s = stamp_s - self._pass_origin_s
        n = round(t_s * self.fps)
        if abs(t_s - n / self.fps) < GRID_SNAP_S:
            t_s = n / self.fps
            self._pass_end_s = (n + 1) / self.fps
        else:
            self._variable_rate = True
            self._pass_end_s = t_s + 1.0 / self.fps
        return t_s

    def _ended_early(self) -> bool:
        """True when the file's header promised more frames than decoded (a cut or corrupt file)."""
        expected = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if self.loop or not expected or self._frames_this_pass >= expected - 1:
            return False
        if self._variable_rate:
            # The count of a variable-rate file is often its duration x a nominal rate: judge it by time instead.
            header_fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
            return header_fps <= 0 or self._pass_end_s < expected / header_fps - 2.0 / self.fps
        return True

    def read(self) -> Frame | None:
        if self._first is not None:
            image, self._first = self._first, None
            stamp_s = self._first_stamp_s
        else:
            image = self._grab()
            if image is None and self.loop and self._frames_this_pass > 0:
                # Time goes on from where the pass ended (its last frame plus one frame), so it keeps increasing.
                self._loop_offset_s += self._pass_end_s
                self._frames_this_pass = 0
                self._pass_origin_s = None
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                image = self._grab()
            if image is None:
                if self._ended_early() and self.cut_short is None:
                    self.cut_short = (f"video ended early at frame {self._frames_this_pass} of "
                                      f"{int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))}: {show_path(self.path)} may be cut or corrupt")
                    self.notices.append(self.cut_short)
                return None
            stamp_s = self._stamp_s()
        # Never backwards: a repeated or reordered timestamp holds the time (the face reader bumps equal ones).
        t_s = max(self._loop_offset_s + self._pass_time_s(stamp_s), self._last_t_s)
        self._last_t_s = t_s
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
    """Read a still as BGR; a clear SourceError for anything that is not one, or is too large to read.

    The size in the file's header is checked against the pixel budget before anything is decoded.
    """
    path = Path(path)
    shown = show_path(path)
    try:
        if not path.is_file():
            raise SourceError(f"image not found: {shown}")
        size = image_size(path)
        if size is not None:
            _check_frame_size(size[0], size[1], path, "image")
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:  # a name too long, a file that cannot be read
        raise SourceError(f"image {shown}: cannot be read: {exc.strerror or first_line(exc)}") from None
    except ValueError:  # "embedded null byte"
        raise SourceError(f"image {shown}: not a usable file name (it holds a NUL character)") from None
    if data.size == 0:
        raise SourceError(f"empty file (0 bytes): {shown}")
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error:  # OpenCV's own limits (a format image_size does not read), or a decoder's complaint
        image = None
    if image is None or image.size == 0:
        raise SourceError(f"not a readable image: {shown}")
    _check_frame_size(image.shape[1], image.shape[0], path, "image")
    return image


class ImageTooLargeError(SourceError):
    """An image or video frame beyond the pixel budget (MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE)."""


def _check_frame_size(width: int, height: int, path: Path, what: str, before_raising=None) -> None:
    """Refuse a picture beyond the pixel budget (MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE), naming the file."""
    if width * height <= MAX_IMAGE_PIXELS and max(width, height) <= MAX_IMAGE_SIDE:
        return
    if before_raising is not None:
        before_raising()
    raise ImageTooLargeError(
        f"{what} too large: {show_path(path)} is {width} x {height} pixels ({width * height / 1e6:.3g} megapixels); "
        f"at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels and {MAX_IMAGE_SIDE} pixels a side are read"
    )


# --- image headers: the size of a still without decoding it ---------------------------------------

_HEADER_BYTES = 64 * 1024
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from an image file's header, or None for a format (or a header) this does not read.

    Reads PNG, JPEG, GIF, BMP, WebP, TIFF (the largest page), PNM and Sun raster headers: a few bytes each,
    no decoding. OSError if the file cannot be read.
    """
    with open(path, "rb") as handle:
        head = handle.read(_HEADER_BYTES)
        try:
            if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
                return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
            if head.startswith(b"\xff\xd8"):
                return _jpeg_size(handle)
            if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
                return int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
            if head[:2] == b"BM" and len(head) >= 26:
                if int.from_bytes(head[14:18], "little") == 12:  # the old OS/2 header: 16-bit sizes
                    return int.from_bytes(head[18:20], "little"), int.from_bytes(head[20:22], "little")
                return (abs(int.from_bytes(head[18:22], "little", signed=True)),
                        abs(int.from_bytes(head[22:26], "little", signed=True)))  # a negative height is top-down
            if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
                return _webp_size(head)
            if head[:4] in (b"II*\x00", b"MM\x00*"):
                return _tiff_size(handle, "little" if head[:2] == b"II" else "big")
            if head[:4] == b"\x59\xa6\x6a\x95" and len(head) >= 12:  # Sun raster
                return int.from_bytes(head[4:8], "big"), int.from_bytes(head[8:12], "big")
            if len(head) >= 3 and head[0:1] == b"P" and head[1:2] in b"123456" and head[2:3].isspace():
                return _pnm_size(head)
        except (IndexError, ValueError):
            return None
    return None


def _jpeg_size(handle) -> tuple[int, int] | None:
    """Walk the JPEG's segments to its frame header (SOF), skipping EXIF and other application data."""
    handle.seek(2)
    for _ in range(4096):
        byte = handle.read(1)
        while byte == b"\xff":  # fill bytes before a marker
            byte = handle.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers with no length
            continue
        length = int.from_bytes(handle.read(2), "big")
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            body = handle.read(5)
            return (int.from_bytes(body[3:5], "big"), int.from_bytes(body[1:3], "big")) if len(body) == 5 else None
        if marker == 0xDA:  # start of scan before any frame header: not a JPEG we can size
            return None
        handle.seek(length - 2, os.SEEK_CUR)
        if handle.read(1) != b"\xff":
            return None
        handle.seek(-1, os.SEEK_CUR)
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:  # the extended format's canvas, 24 bits each (minus one)
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":  # lossy: 14 bits each
        return int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(head[28:30], "little") & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:  # lossless: 14 + 14 bits (minus one)
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _tiff_size(handle, order: str) -> tuple[int, int] | None:
    """The largest page of a TIFF, from each image file directory's ImageWidth (256) and ImageLength (257)."""
    handle.seek(4)
    offset = int.from_bytes(handle.read(4), order)
    largest: tuple[int, int] | None = None
    seen: set[int] = set()
    while offset and offset not in seen and len(seen) < 1024:
        seen.add(offset)
        handle.seek(offset)
        count = int.from_bytes(handle.read(2), order)
        entries = handle.read(12 * count)
        size = {256: 0, 257: 0}
        for i in range(0, len(entries) - 11, 12):
            tag, kind = int.from_bytes(entries[i : i + 2], order), int.from_bytes(entries[i + 2 : i + 4], order)
            if tag in size:
                value = entries[i + 8 : i + 12]
                size[tag] = int.from_bytes(value[:2] if kind == 3 else value, order)  # SHORT or LONG
        if largest is None or size[256] * size[257] > largest[0] * largest[1]:
            largest = (size[256], size[257])
        offset = int.from_bytes(handle.read(4), order)
    return largest


def _pnm_size(head: bytes) -> tuple[int, int] | None:
    """P1-P6: the magic, then width and height as text, with # comments between."""
    numbers: list[int] = []
    for line in head[2:].split(b"\n"):
        for word in line.split(b"#", 1)[0].split():
            numbers.append(int(word))
            if len(numbers) == 2:
                return numbers[0], numbers[1]
    return None


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
            raise SourceError(f"--source {show_path(spec)}: the camera index must be a whole number, as in camera:0")
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
            raise SourceError(f"the demo clip is missing: {show_path(DEMO_CLIP)}")
        return VideoFileSource(DEMO_CLIP, realtime=realtime, loop=loop)
    path = Path(spec)
    shown = show_path(path)
    if "\x00" in spec:
        raise SourceError(f"--source {shown}: not a usable file name (it holds a NUL character)")
    try:
        if not path.exists():
            raise SourceError(f"source file not found: {shown}")
        if path.is_dir():
            raise SourceError(f"source is a folder, not a video or image: {shown}")
        if path.stat().st_size == 0:
            raise SourceError(f"source file is empty (0 bytes): {shown}")
    except OSError as exc:  # a name too long for the system, a folder that cannot be entered, ...
        raise SourceError(f"--source {shown}: cannot be opened: {exc.strerror or first_line(exc)}") from None
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageSource(path, duration_s=duration_s, realtime=realtime, loop=loop)
    try:
        return VideoFileSource(path, realtime=realtime, loop=loop)
    except ImageTooLargeError:
        raise
    except SourceError:
        if mp4_index_missing(path):
            raise SourceError(
                f"not a readable video: {shown} is an MP4 without its index (moov), as when a recording is cut "
                "off before it was finished; nothing in it can be decoded"
            ) from None
        if suffix in VIDEO_SUFFIXES:
            raise SourceError(f"not a readable video: {shown}") from None
    try:
        return ImageSource(path, duration_s=duration_s, realtime=realtime, loop=loop)
    except ImageTooLargeError:
        raise
    except SourceError:
        raise SourceError(f"not a video or image: {shown}") from None
