"""Reading stills: `python -m avatar read PATH...`, one JSON object per image.

A tool on top of the face and expression stages, in IMAGE mode (a still has no history, so the
channels are read against the population's neutral face). MediaPipe's short-range face detector
misses faces that are small in a large frame, so a still is also searched in overlapping tiles and
every new find is confirmed on a crop around it (`find_faces`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar import settings_schema as schema
from avatar.errors import AvatarError, SourceError, first_line
from avatar.expression import CHANNEL_NAMES, channels_from_reading
from avatar.face import Face, FaceReader, FaceReaderOptions, FaceReading, ModelFile, RunningMode, resolve_model
from avatar.sources import read_image

ERROR_SHOWN_MAX = 200  # characters of a library's own message in an error line


@dataclass(frozen=True)
class StillSearch:
    """How a still is searched for faces beyond the full frame."""

    tile_fractions: tuple[float, ...] = (0.6, 0.35)  # tile side as a fraction of the image's shorter side
    min_tile_px: int = 160  # smaller tiles hold faces too small to read anyway
    overlap: float = 0.5  # tiles overlap by half, so a face up to half a tile is whole in one of them
    edge_margin: float = 0.02  # a find touching a tile's inner edge is a cut face: dropped
    same_face: float = 0.5  # two finds are one face when their centres are closer than this x the larger size
    confirm_scales: tuple[float, ...] = (2.0, 3.0)  # a tile find must be found again on crops this many face sizes wide ...
    confirm_px: int = 256  # ... each resized to this side
    max_faces: int = 8  # the landmarker's num_faces per pass
    reread_scale: float = 3.0  # a full-frame find is read again on a crop this many face sizes wide (see _reread)


def _boxes(reading: FaceReading) -> list[Face]:
    return ([reading.primary] if reading.present else []) + list(reading.others)


def _to_image(face: Face, x0: float, y0: float, w: float, h: float, width: int, height: int) -> Face:
    """A face found in a crop (x0, y0, w, h in pixels) in the full image's normalized coordinates.

    The crop may have been resized; the blendshapes and pose do not depend on it.
    """
    return dataclasses.replace(
        face,
        center_x=(x0 + face.center_x * w) / width,
        center_y=(y0 + face.center_y * h) / height,
        width=face.width * w / width,
        height=face.height * h / height,
        landmarks=None,
    )


def _size_px(face: Face, width: int, height: int) -> float:
    return max(face.width * width, face.height * height)


def _tiles(width: int, height: int, search: StillSearch) -> Iterator[tuple[int, int, int]]:
    short = min(width, height)
    for fraction in search.tile_fractions:
        side = int(round(short * fraction))
        if side < search.min_tile_px:
            continue
        step = max(1, int(side * (1.0 - search.overlap)))
        xs = list(range(0, max(1, width - side + 1), step))
        ys = list(range(0, max(1, height - side + 1), step))
        if xs[-1] + side < width:
            xs.append(width - side)
        if ys[-1] + side < height:
            ys.append(height - side)
        for y in ys:
            for x in xs:
                yield x, y, side


def _cut_by_tile(face: Face, x: int, y: int, side: int, width: int, height: int, margin: float) -> bool:
    """True when the face's box touches an edge of the tile that is not also the image's edge."""
    x0, x1 = face.center_x - face.width / 2, face.center_x + face.width / 2
    y0, y1 = face.center_y - face.height / 2, face.center_y + face.height / 2
    return (
        (x0 < margin and x > 0)
        or (y0 < margin and y > 0)
        or (x1 > 1 - margin and x + side < width)
        or (y1 > 1 - margin and y + side < height)
    )


def find_faces(reader: FaceReader, rgb: np.ndarray, search: StillSearch = StillSearch()) -> FaceReading:
    """Every face in a still: the full frame, then overlapping tiles, finds merged by centre distance.

    A face the full frame finds is taken as it is. One only a tile finds must be found again on
    crops centred on it (2 and 3 face sizes wide), which drops the detector's rare false finds in
    textured tiles. Every face's reading comes from a crop framed around it (`_reread`, or the last
    confirming crop). The primary face is the largest.
    """
    import cv2

    height, width = rgb.shape[:2]
    reader.reset_tracking()
    # Finds in the full frame are read again on a crop framed around them; tile finds below are
    # confirmed on such crops already, and keep the reading of the last one.
    found: list[Face] = [_reread(reader, rgb, face, search, cv2) for face in _boxes(reader.read(np.ascontiguousarray(rgb)))]
    candidates: list[Face] = []
    for x, y, side in _tiles(width, height, search):
        reader.reset_tracking()
        tile = np.ascontiguousarray(rgb[y : y + side, x : x + side])
        for face in _boxes(reader.read(tile)):
            if not _cut_by_tile(face, x, y, side, width, height, search.edge_margin):
                candidates.append(_to_image(face, x, y, side, side, width, height))

    def same(a: Face, b: Face) -> bool:
        distance = np.hypot((a.center_x - b.center_x) * width, (a.center_y - b.center_y) * height)
        return distance < search.same_face * max(_size_px(a, width, height), _size_px(b, width, height))

    # Largest first, so a cluster is represented by its best-resolved find.
    for candidate in sorted(candidates, key=lambda f: -_size_px(f, width, height)):
        if any(same(candidate, face) for face in found):
            continue
        confirmed = None
        for scale in search.confirm_scales:
            confirmed = _confirm(reader, rgb, candidate, scale, search.confirm_px, cv2)
            if confirmed is None:
                break
        if confirmed is not None and not any(same(confirmed, face) for face in found):
            found.append(confirmed)
    reader.reset_tracking()
    if not found:
        return FaceReading.empty()
    found.sort(key=lambda f: -_size_px(f, width, height))
    return FaceReading(faces=len(found), primary=found[0], others=tuple(found[1:]))


def _confirm(reader: FaceReader, rgb: np.ndarray, candidate: Face, scale: float, side_px: int, cv2) -> Face | None:
    """The candidate found again near the centre of a square crop `scale` face sizes wide, in image coordinates.

    Past the image's edge the crop is padded, never squeezed: a squeezed face would change its
    proportions, and with them the lip-corner geometry that tells a smile from a cry.
    """
    height, width = rgb.shape[:2]
    half = scale * _size_px(candidate, width, height) / 2
    cx, cy = candidate.center_x * width, candidate.center_y * height
    x0, y0, x1, y1 = int(round(cx - half)), int(round(cy - half)), int(round(cx + half)), int(round(cy + half))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    inside = rgb[max(0, y0) : min(height, y1), max(0, x0) : min(width, x1)]
    if inside.size == 0:
        return None
    square = cv2.copyMakeBorder(inside, max(0, -y0), max(0, y1 - height), max(0, -x0), max(0, x1 - width), cv2.BORDER_CONSTANT)
    # Small crops are enlarged to the model's input; large ones keep every pixel they have.
    crop = square if x1 - x0 >= side_px else cv2.resize(square, (side_px, side_px), interpolation=cv2.INTER_LINEAR)
    reader.reset_tracking()
    for face in _boxes(reader.read(np.ascontiguousarray(crop))):
        # The same face: near the crop's centre.
        if abs(face.center_x - 0.5) < 0.2 and abs(face.center_y - 0.5) < 0.2:
            return _to_image(face, x0, y0, x1 - x0, y1 - y0, width, height)
    return None


def _reread(reader: FaceReader, rgb: np.ndarray, face: Face, search: StillSearch, cv2) -> Face:
    """The face read again on a crop that frames it as the landmarker expects.

    In a large frame a face of a hundred pixels is found, but its landmarks (and so its
    blendshapes) can be far off: a broad smile read as a frown. Framed at a few face sizes and
    resized to the model's input, it reads as it is. The first find stays if the crop finds nothing.
    """
    return _confirm(reader, rgb, face, search.reread_scale, search.confirm_px, cv2) or face


def frame_count(path: Path) -> int:
    """How many frames or pages an image file holds (an animated GIF, APNG, WebP or TIFF has several).

    An animated PNG or WebP counts as 2 (their headers say "animated", not how many frames).
    """
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size == 0:
        return 0
    head = data[:16].tobytes()
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _gif_frames(data.tobytes())
    if head.startswith(b"\x89PNG"):
        return 2 if _png_is_animated(data.tobytes()) else 1
    if head[:4] == b"RIFF" and head[8:16] == b"WEBPVP8X" and data.size > 20:
        return 2 if data[20] & 0x02 else 1  # the extended header's animation flag
    if head[:4] in (b"II*\x00", b"MM\x00*"):  # a TIFF may hold several pages
        try:
            ok, pages = cv2.imdecodemulti(data, cv2.IMREAD_REDUCED_GRAYSCALE_8)
            return max(len(pages) if ok else 1, 1)
        except cv2.error:
            return 1
    return 1


def _png_is_animated(data: bytes) -> bool:
    """An APNG has an animation-control chunk (acTL) before its first image data (IDAT)."""
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if kind == b"acTL":
            return True
        if kind in (b"IDAT", b"IEND"):
            return False
        pos += 12 + length
    return False


def _gif_frames(data: bytes) -> int:
    """Count image descriptors in a GIF by walking its blocks (no decoder needed)."""
    if len(data) < 13:
        return 0
    pos = 13
    flags = data[10]
    if flags & 0x80:
        pos += 3 * (2 ** ((flags & 0x07) + 1))
    frames = 0
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif block == 0x2C:  # image descriptor
            frames += 1
            if frames > 1:
                return frames
            local = data[pos + 9] if pos + 9 < len(data) else 0
            pos += 10
            if local & 0x80:
                pos += 3 * (2 ** ((local & 0x07) + 1))
            pos += 1  # LZW minimum code size
        else:
            break
        while pos < len(data) and data[pos] != 0:  # sub-blocks
            pos += data[pos] + 1
        pos += 1
    return frames


def read_still(path: Path) -> np.ndarray:
    """A still as RGB, or a SourceError naming what is wrong (missing, empty, not an image, an animation)."""
    import cv2

    path = Path(path)
    try:
        is_dir = path.is_dir()
    except OSError as exc:  # a name too long for the system
        raise SourceError(f"image {schema.show_path(path)}: cannot be read: {exc.strerror or first_line(exc)}") from None
    if is_dir:
        raise SourceError(f"a folder, not an image: {schema.show_path(path)}")
    bgr = read_image(path)
    frames = frame_count(path)
    if frames > 1:
        raise SourceError(f"an animation ({frames if frames > 2 else 'several'} frames), not a still image: {schema.show_path(path)}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def reading_record(path: Path, reading: FaceReading) -> dict:
    """The JSON object for one still: path, faces and every channel (None when there is no face)."""
    expression = channels_from_reading(reading)
    record: dict = {"path": str(path), "faces": reading.faces}
    for name, value in expression.channels().items():
        record[name] = round(float(value), 4) if expression.present else None
    return record


def still_reader(model_file: ModelFile, search: StillSearch = StillSearch()) -> FaceReader:
    return FaceReader(FaceReaderOptions(running_mode=RunningMode.IMAGE, num_faces=search.max_faces), model=model_file)


def read_images(
    paths: Iterable[Path], model: str | None = None, model_file: ModelFile | None = None, search: StillSearch = StillSearch()
) -> Iterator[dict]:
    """Yield {"path", "faces", "smile", "wince", ... every channel} per image, or {"path", "error"} for a bad one.

    Whatever goes wrong with one file (ours, OpenCV's or MediaPipe's error) is that file's error line, and
    the next file is read; only an interrupt (Ctrl-C) stops the loop.
    """
    model_file = model_file or resolve_model(model)
    with still_reader(model_file, search) as reader:
        for path in paths:
            try:
                record = reading_record(Path(path), find_faces(reader, read_still(Path(path)), search))
            except AvatarError as exc:
                record = {"path": str(path), "error": str(exc)}
            except Exception as exc:  # noqa: BLE001 - one bad file must not end the others' reading
                problem = first_line(exc)
                problem = problem if len(problem) <= ERROR_SHOWN_MAX else problem[: ERROR_SHOWN_MAX - 1] + "…"
                record = {"path": str(path), "error": f"cannot read {schema.show_path(path)}: {type(exc).__name__}: {problem}"}
            yield record


__all__ = ["CHANNEL_NAMES", "StillSearch", "find_faces", "frame_count", "read_images", "read_still", "reading_record"]
