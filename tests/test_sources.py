"""Sources: files on their own clock, stills held, clear errors for bad input (image bombs, hostile names)."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
from conftest import ASTRONAUT

from avatar.errors import SourceError
from avatar.sources import (
    MAX_IMAGE_PIXELS,
    ImageSource,
    ImageTooLargeError,
    VideoFileSource,
    image_size,
    open_source,
    parse_camera_spec,
    read_image,
)


def write_png_bomb(path, side=30000):
    """A valid 1-bit PNG of side x side pixels in about 100 kB: a header and a tiny zlib stream of zero rows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte, then the row's bits
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def write_mjpeg_mkv(path, times_ms, size=(64, 48), frame_sizes=None):
    """A Matroska file of MJPEG frames at the given timestamps (ms): a variable frame rate, written by hand.

    cv2.VideoWriter can only write a constant rate, so the container (EBML elements) is spelled out here.
    `frame_sizes` gives each JPEG its own (width, height), as a stream that changes size part way.
    """

    def element(id_bytes: bytes, payload: bytes) -> bytes:
        return id_bytes + b"\x01" + len(payload).to_bytes(7, "big") + payload  # an 8-byte size

    def uint(id_bytes: bytes, n: int) -> bytes:
        return element(id_bytes, n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big"))

    width, height = size
    ebml = element(b"\x1a\x45\xdf\xa3", uint(b"\x42\x86", 1) + uint(b"\x42\xf7", 1) + uint(b"\x42\xf2", 4) + uint(b"\x42\xf3", 8)
                   + element(b"\x42\x82", b"matroska") + uint(b"\x42\x87", 4) + uint(b"\x42\x85", 2))
    info = element(b"\x15\x49\xa9\x66", uint(b"\x2a\xd7\xb1", 1_000_000) + element(b"\x4d\x80", b"test") + element(b"\x57\x41", b"test")
                   + element(b"\x44\x89", struct.pack(">d", float(times_ms[-1] + 33))))
    video = element(b"\xe0", uint(b"\xb0", width) + uint(b"\xba", height))
    track = element(b"\xae", uint(b"\xd7", 1) + uint(b"\x73\xc5", 1) + uint(b"\x83", 1) + element(b"\x86", b"V_MJPEG") + video)
    blocks = b""
    for i, t in enumerate(times_ms):
        fw, fh = frame_sizes[i] if frame_sizes else size
        ok, jpeg = cv2.imencode(".jpg", np.full((fh, fw, 3), (i * 20) % 256, np.uint8))
        blocks += element(b"\xa3", b"\x81" + struct.pack(">hB", t, 0x80) + jpeg.tobytes())  # track 1, time, keyframe
    cluster = element(b"\x1f\x43\xb6\x75", uint(b"\xe7", 0) + blocks)
    path.write_bytes(ebml + element(b"\x18\x53\x80\x67", info + element(b"\x16\x54\xae\x6b", track) + cluster))
    return path


def _write_clip(path, frames=12, fps=25.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), i * 10, np.uint8))
    writer.release()


def test_a_constant_rate_video_gives_exactly_index_over_frame_rate(tmp_path):
    # Exactly, not approximately: the decoder's clock is snapped to the frame grid, so logs stay byte-identical.
    clip = tmp_path / "c.mp4"
    _write_clip(clip)
    with open_source(str(clip)) as source:
        frames = list(source)
    assert len(frames) == 12
    assert [f.t_s for f in frames] == [i / 25.0 for i in range(12)]


VFR_MS = [0, 40, 80, 120, 400, 433, 467, 500, 1500, 1510]  # 25 fps, a pause, 30 fps, a second's gap


def test_a_variable_frame_rate_video_keeps_the_files_own_timestamps(tmp_path):
    clip = write_mjpeg_mkv(tmp_path / "vfr.mkv", VFR_MS)
    with open_source(str(clip)) as source:
        frames = list(source)
        notices = source.notices
    assert [f.t_s for f in frames] == pytest.approx([t / 1000 for t in VFR_MS], abs=1e-3)  # not index / fps
    assert notices == []  # a variable-rate file is not "ended early" because its nominal rate predicts more frames


def test_a_looped_variable_rate_video_goes_on_from_its_end(tmp_path):
    clip = write_mjpeg_mkv(tmp_path / "vfr.mkv", VFR_MS)
    source = VideoFileSource(clip, loop=True)
    times = [source.read().t_s for _ in range(2 * len(VFR_MS))]
    source.close()
    first, second = times[: len(VFR_MS)], times[len(VFR_MS) :]
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    start = second[0]
    assert start == pytest.approx(1.510 + 1 / source.fps, abs=1e-3)  # the last frame, held for one frame
    assert [t - start for t in second] == pytest.approx(first, abs=1e-3)


def test_time_never_goes_backwards_when_timestamps_repeat_or_step_back(tmp_path):
    clip = write_mjpeg_mkv(tmp_path / "odd.mkv", [0, 40, 40, 30, 80, 120])
    with open_source(str(clip)) as source:
        times = [f.t_s for f in source]
    assert len(times) == 6
    assert all(b >= a for a, b in zip(times, times[1:], strict=False))
    assert times[-1] == pytest.approx(0.12, abs=1e-3)


def test_a_looped_video_keeps_time_increasing(tmp_path):
    clip = tmp_path / "c.mp4"
    _write_clip(clip, frames=5)
    source = VideoFileSource(clip, loop=True)
    times = [source.read().t_s for _ in range(12)]
    assert all(b > a for a, b in zip(times, times[1:], strict=False))


def test_a_still_is_held_for_its_duration():
    frames = list(ImageSource(ASTRONAUT, duration_s=0.5))
    assert len(frames) == 15 and frames[-1].t_s == pytest.approx(14 / 30)


@pytest.mark.parametrize("content,message", [(b"", "empty"), (b"hello", "not a video or image")])
def test_bad_files_are_named(tmp_path, content, message):
    path = tmp_path / "thing.dat"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        open_source(str(path))


def test_camera_specs():
    assert parse_camera_spec("camera") == 0 and parse_camera_spec("camera:2") == 2
    assert parse_camera_spec("clip.mp4") is None
    with pytest.raises(SourceError, match="camera:x"):
        parse_camera_spec("camera:x")


# --- hostile input: image bombs and names the system cannot open -------------------------------------


def test_image_headers_give_the_size_without_decoding(tmp_path):
    from PIL import Image

    picture = Image.fromarray(np.random.default_rng(0).integers(0, 255, (23, 37, 3), dtype=np.uint8))
    for name, options in [("a.png", {}), ("a.jpg", {"exif": b"Exif\x00\x00" + b"\x00" * 2000}), ("a.gif", {}),
                          ("a.bmp", {}), ("lossy.webp", {}), ("lossless.webp", {"lossless": True}), ("a.ppm", {})]:
        picture.save(tmp_path / name, **options)
        assert image_size(tmp_path / name) == (37, 23), name
    small = picture.resize((5, 4))
    picture.save(tmp_path / "pages.tif", save_all=True, append_images=[small])
    small.save(tmp_path / "pages2.tif", save_all=True, append_images=[picture])
    assert image_size(tmp_path / "pages.tif") == image_size(tmp_path / "pages2.tif") == (37, 23)  # the largest page
    (tmp_path / "notes.txt").write_text("hello")
    assert image_size(tmp_path / "notes.txt") is None


def test_an_image_bomb_is_refused_from_its_header_before_decoding(tmp_path, monkeypatch):
    bomb = write_png_bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 120_000

    def no_decoding(*args):
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    for opener in (lambda: open_source(str(bomb)), lambda: read_image(bomb)):
        with pytest.raises(ImageTooLargeError) as error:
            opener()
        message = str(error.value)
        assert str(bomb) in message and "30000 x 30000" in message and "at most 50 megapixels" in message
    renamed = bomb.rename(tmp_path / "bomb.dat")  # no image suffix: tried as a video first, then refused the same
    with pytest.raises(ImageTooLargeError, match="30000 x 30000"):
        open_source(str(renamed))


def test_an_image_at_the_budget_is_read(tmp_path):
    side = int(MAX_IMAGE_PIXELS**0.5)
    picture = write_png_bomb(tmp_path / "big.png", side=side)
    assert read_image(picture).shape == (side, side, 3)


def test_a_video_beyond_the_budget_is_refused(tmp_path):
    clip = write_mjpeg_mkv(tmp_path / "wide.mkv", [0, 40], size=(17000, 8))
    with pytest.raises(ImageTooLargeError, match=r"wide.mkv is 17000 x \d+ pixels .*at most 50 megapixels and 16384 pixels a side"):
        open_source(str(clip))


@pytest.mark.parametrize("name,problem", [("x" * 300 + ".mp4", "File name too long"), ("a\x00b.mp4", "NUL")])
def test_a_source_name_the_system_cannot_open_is_one_short_line(tmp_path, name, problem):
    with pytest.raises(SourceError) as error:
        open_source(str(tmp_path / name))
    message = str(error.value)
    assert message.startswith("--source ") and problem in message
    assert "\n" not in message and len(message) < 300 and "\x00" not in message
