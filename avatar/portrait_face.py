"""The face a portrait avatar is made from: a photo crop and its landmarks (PortraitFace), read and checked.

Sits between the face stage (avatar/face.py reads the landmarks with the real model, once, at start)
and the portrait renderer (avatar/portrait.py). `read_portrait_face` refuses a photo it cannot animate
(no face, several, too small, cut by the edge) with one line naming the file and the reason, before any
window opens. `blend_faces` mixes two faces (for a visitor's face blended into the bundled one).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from avatar import settings_schema as schema
from avatar.errors import AvatarError, ConfigError, first_line
from avatar.portrait_warp import (
    FACE_OVAL,
    LANDMARK_COUNT,
    LOWER_INNER_L,
    LOWER_INNER_R,
    UPPER_INNER_L,
    UPPER_INNER_R,
    FaceFrame,
    FaceWarper,
)

BUNDLED_PORTRAIT = Path(__file__).resolve().parent.parent / "assets" / "media" / "astronaut_neutral.png"
# The original smiling photo's inner-lip landmarks (tools/make_portrait.py): her real teeth for the open mouth.
BUNDLED_MOUTH = BUNDLED_PORTRAIT.with_suffix(".mouth.json")

# Below this many pixels between the eye centres the lids and lips are a few pixels each: a blink
# or a smile would move blur. The bundled astronaut has 41 px.
MIN_EYE_DISTANCE_PX = 38.0
# A face narrower than this fraction of the photo's shorter side is a figure in a scene, not a portrait.
MIN_FACE_FRACTION = 0.12
# Larger faces are scaled down to this: every pixel beyond it only costs time (the screen magnifies anyway).
MAX_EYE_DISTANCE_PX = 96.0
EDGE_MARGIN_PX = 2.0  # landmarks closer than this to the photo's edge: the face is cut


@dataclass(frozen=True, eq=False)
class MouthTexture:
    """A photo of the face's own open mouth (teeth and the dark inside) and its inner-lip contour there.

    `lips` runs round the mouth in avatar.portrait.MOUTH_GAP's order (corner, upper lip, other corner,
    lower lip), in pixels of `image`, at the scale of the PortraitFace it belongs to.
    """

    image: np.ndarray  # (h, w, 3) uint8 RGB
    lips: np.ndarray  # (n, 2) float32


@dataclass(frozen=True, eq=False)
class PortraitFace:
    """A portrait: an RGB crop around one face and that face's 478 landmarks in crop pixels.

    `landmarks` is (478, 3): x and y in pixels, z (depth, nearer is smaller) in the same pixel scale.
    """

    image: np.ndarray  # (H, W, 3) uint8 RGB
    landmarks: np.ndarray  # (478, 3) float32
    source: str = ""  # where it came from, for messages: a path, "bundled", "camera"
    mouth: MouthTexture | None = None  # the same person's open mouth, photographed; None: the inside is painted

    def __post_init__(self):
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError("a portrait image is (H, W, 3) uint8 RGB")
        if self.landmarks.shape != (LANDMARK_COUNT, 3):
            raise ValueError(f"a portrait needs ({LANDMARK_COUNT}, 3) landmarks, got {self.landmarks.shape}")

    @property
    def frame(self) -> FaceFrame:
        return FaceFrame.from_landmarks(self.landmarks)


def frame_face(rgb: np.ndarray, landmarks: np.ndarray, source: str = "") -> PortraitFace:
    """A head-and-shoulders crop around the face, scaled so the eyes are at most MAX_EYE_DISTANCE_PX apart.

    `landmarks` are (478, 3) in the pixels of `rgb`. Wide enough that the warp's fixed ring around the
    face lies inside the crop, with the shoulders below for the face to sit on.
    """
    left, top, right, bottom, k = _framing(rgb.shape, landmarks)
    crop = _crop(rgb, left, top, right, bottom, k)
    points = np.column_stack([_to_crop(np.asarray(landmarks, dtype=np.float64)[:, :2], left, top, k),
                              np.asarray(landmarks, dtype=np.float64)[:, 2] * k])
    return PortraitFace(crop, points.astype(np.float32), source)


def _framing(shape: tuple[int, ...], landmarks: np.ndarray) -> tuple[int, int, int, int, float]:
    """frame_face's crop (left, top, right, bottom) in the photo and its scale k (1: none)."""
    height, width = shape[:2]
    oval = np.asarray(landmarks)[list(FACE_OVAL), :2]
    (x0, y0), (x1, y1) = oval.min(axis=0), oval.max(axis=0)
    ow, oh = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    left, right = int(max(0, np.floor(cx - 2.3 * ow))), int(min(width, np.ceil(cx + 2.3 * ow)))
    top, bottom = int(max(0, np.floor(y0 - 0.8 * oh))), int(min(height, np.ceil(y1 + 1.1 * oh)))
    iod = FaceFrame.from_landmarks(np.asarray(landmarks, dtype=np.float64)).iod
    return left, top, right, bottom, min(1.0, MAX_EYE_DISTANCE_PX / iod)


def _crop(rgb: np.ndarray, left: int, top: int, right: int, bottom: int, k: float) -> np.ndarray:
    crop = rgb[top:bottom, left:right]
    if k < 1.0:
        size = (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop)


def _to_crop(xy: np.ndarray, left: int, top: int, k: float) -> np.ndarray:
    # Pixel centres: x_new + 0.5 = (x_old + 0.5) * k.
    return (xy - (left, top) + 0.5) * k - 0.5


def bundled_mouth(photo_landmarks: np.ndarray, shape: tuple[int, ...]) -> MouthTexture | None:
    """The bundled portrait's own open mouth: the original smiling photo (her real teeth) around the inner-lip
    contour tools/make_portrait.py recorded, framed as frame_face frames the neutral photo. None if missing."""
    try:
        record = json.loads(BUNDLED_MOUTH.read_text())
        original = cv2.cvtColor(cv2.imread(str(BUNDLED_MOUTH.parent / record["image"])), cv2.COLOR_BGR2RGB)
        lips = np.asarray(record["inner_lips"], dtype=np.float64)
    except (OSError, ValueError, KeyError, cv2.error):
        return None
    if original.shape[:2] != tuple(shape[:2]) or lips.ndim != 2 or lips.shape[1] != 2:
        return None
    left, top, right, bottom, k = _framing(shape, photo_landmarks)
    image = _crop(original, left, top, right, bottom, k)
    return _mouth_texture(image, _to_crop(lips, left, top, k))


def _mouth_texture(image: np.ndarray, lips: np.ndarray) -> MouthTexture:
    # A margin round the lips: room for the feathered edge and a mouth opened wider than in the photo.
    margin = 0.25 * (lips[:, 0].max() - lips[:, 0].min())
    x0, y0 = np.maximum(0, np.floor(lips.min(axis=0) - margin)).astype(int)
    x1, y1 = np.ceil(lips.max(axis=0) + margin).astype(int) + 1
    return MouthTexture(np.ascontiguousarray(image[y0:y1, x0:x1]), (lips - (x0, y0)).astype(np.float32))


# The inner lips round the mouth, as avatar.portrait.MOUTH_GAP (corner, upper lip, other corner, lower lip).
_INNER_LIPS = UPPER_INNER_R + UPPER_INNER_L[-2::-1] + LOWER_INNER_L[1:] + LOWER_INNER_R[-2:0:-1]
OPEN_MOUTH_GAP = 0.08  # the inner lips this far apart at the middle, in eye distances: the photo shows its teeth


def own_mouth(face: PortraitFace) -> MouthTexture | None:
    """A photo that shows its own open mouth (teeth) keeps it: the avatar opens the mouth onto the person's
    own teeth instead of painting a dark inside over them. None for a closed mouth."""
    lm = face.landmarks[:, :2]
    if float(np.linalg.norm(lm[14] - lm[13])) < OPEN_MOUTH_GAP * face.frame.iod:
        return None
    return _mouth_texture(face.image, lm[list(_INNER_LIPS)].astype(np.float64))


def read_portrait_face(path: str | Path, model_file=None, source: str | None = None) -> PortraitFace:
    """The one face in a photo, framed; a ConfigError naming the file and the reason when it cannot be a portrait."""
    from avatar.face import FaceReader, FaceReaderOptions, RunningMode, resolve_model
    from avatar.reading import StillSearch, find_faces, read_still

    path = Path(path)
    shown = schema.show_path(path)
    try:
        rgb = read_still(path)
    except AvatarError as exc:
        raise ConfigError(f"--avatar portrait:{shown}: {exc}") from None
    height, width = rgb.shape[:2]
    model_file = model_file or resolve_model(None)
    search = StillSearch()
    options = FaceReaderOptions(running_mode=RunningMode.IMAGE, num_faces=search.max_faces, keep_landmarks=True)
    try:
        with FaceReader(options, model=model_file) as reader:
            reading = find_faces(reader, rgb, search)  # tiles too: a group photo's small faces count
            if reading.faces == 0 or reading.primary is None:
                raise ConfigError(f"--avatar portrait:{shown}: no face found; it needs a frontal photo of one face")
            if reading.faces > 1:
                raise ConfigError(f"--avatar portrait:{shown}: {reading.faces} faces found; it needs a photo of exactly one face")
            landmarks = _landmarks_of(reader, rgb, reading.primary)
    except AvatarError:
        raise
    except Exception as exc:  # noqa: BLE001 - the model's own failure on an odd image is still one line
        raise ConfigError(f"--avatar portrait:{shown}: cannot read a face: {type(exc).__name__}: {first_line(exc)[:160]}") from None
    if landmarks is None:
        raise ConfigError(f"--avatar portrait:{shown}: no face found; it needs a frontal photo of one face")
    problem = portrait_problem(landmarks, width, height)
    if problem:
        raise ConfigError(f"--avatar portrait:{shown}: {problem}")
    face = frame_face(rgb, landmarks, source or str(path))
    if path.resolve() == BUNDLED_PORTRAIT:
        return dataclasses.replace(face, mouth=bundled_mouth(landmarks, rgb.shape))
    return dataclasses.replace(face, mouth=own_mouth(face))


def portrait_problem(landmarks: np.ndarray, width: int, height: int) -> str | None:
    """Why a face found in a photo of width x height cannot be animated, or None."""
    xy = landmarks[:LANDMARK_COUNT, :2]
    if (xy.min(axis=0) < EDGE_MARGIN_PX).any() or xy[:, 0].max() > width - 1 - EDGE_MARGIN_PX or xy[:, 1].max() > height - 1 - EDGE_MARGIN_PX:
        return "the face is cut by the photo's edge; it needs the whole face in the picture"
    iod = FaceFrame.from_landmarks(xy).iod
    if iod < MIN_EYE_DISTANCE_PX:
        return f"the face is too small (eyes {iod:.0f} px apart; at least {MIN_EYE_DISTANCE_PX:.0f})"
    oval = xy[list(FACE_OVAL)]
    face_width = float(oval[:, 0].max() - oval[:, 0].min())
    if face_width < MIN_FACE_FRACTION * min(width, height):
        return (f"the face is too small in the picture ({face_width / min(width, height):.0%} of its shorter side; "
                f"at least {MIN_FACE_FRACTION:.0%}): crop the photo to the head and shoulders")
    return None


def _landmarks_of(reader, rgb: np.ndarray, face) -> np.ndarray | None:
    """The face's 478 landmarks in image pixels, read on a square crop framed around it (as the model expects)."""
    height, width = rgb.shape[:2]
    side = 3.0 * max(face.width * width, face.height * height)
    cx, cy = face.center_x * width, face.center_y * height
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x1, y1 = x0 + int(round(side)), y0 + int(round(side))
    inside = rgb[max(0, y0) : min(height, y1), max(0, x0) : min(width, x1)]
    square = cv2.copyMakeBorder(inside, max(0, -y0), max(0, y1 - height), max(0, -x0), max(0, x1 - width), cv2.BORDER_CONSTANT)
    reader.reset_tracking()
    reading = reader.read(np.ascontiguousarray(square))
    if reading.primary is None or reading.primary.landmarks is None:
        return None
    s = square.shape[1]
    points = np.asarray(reading.primary.landmarks, dtype=np.float64)[:LANDMARK_COUNT]
    return np.column_stack([points[:, 0] * s + x0, points[:, 1] * square.shape[0] + y0, points[:, 2] * s])


def blend_faces(a: PortraitFace, b: PortraitFace, s: float) -> PortraitFace:
    """`b` blended into `a` by s (0: a, 1: b): the geometry averaged after aligning b's eye line to a's,
    the texture a cross-dissolve of both warped to that geometry, on a's canvas.

    For `--self-similarity S`: a visitor's face (b) into the bundled portrait (a). cv2 and numpy only.
    """
    s = float(np.clip(s, 0.0, 1.0))
    fa, fb = a.frame, b.frame
    # b's landmarks in a's pixels: the similarity that takes b's eye line onto a's.
    b_in_a = fa.origin + (fb.to_face(b.landmarks[:, :2]) @ np.stack([fa.x_axis, fa.y_axis])) * fa.iod
    target = (1.0 - s) * a.landmarks[:, :2] + s * b_in_a
    # b's image on a's canvas by the same similarity (destination -> source, for warpAffine).
    scale = fb.iod / fa.iod
    rot = np.stack([fb.x_axis, fb.y_axis], axis=1) @ np.stack([fa.x_axis, fa.y_axis])
    m = scale * rot
    offset = fb.origin - m @ fa.origin
    b_img = cv2.warpAffine(b.image, np.hstack([m, offset[:, None]]), (a.image.shape[1], a.image.shape[0]),
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
    warper = FaceWarper(a.image.shape, a.landmarks[:, :2])
    to_target_a = {i: target[i] - a.landmarks[i, :2] for i in range(468)}
    to_target_b = {i: target[i] - b_in_a[i] for i in range(468)}
    warped_a = warper.warp(a.image, to_target_a)
    warper_b = FaceWarper(a.image.shape, b_in_a)
    warped_b = warper_b.warp(b_img, to_target_b)
    # Only the face dissolves: a's hair, clothes and background stay a's.
    mask = np.zeros(a.image.shape[:2], dtype=np.float32)
    cv2.fillPoly(mask, [np.round(target[list(FACE_OVAL)] * 16).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=4)
    warped_b = _match_colours(warped_b, warped_a, mask > 0.5)
    alpha = s * cv2.GaussianBlur(mask, (0, 0), 0.08 * fa.iod)[..., None]
    image = np.clip(warped_a * (1.0 - alpha) + warped_b * alpha + 0.5, 0, 255).astype(np.uint8)
    z = (1.0 - s) * a.landmarks[:, 2] + s * b.landmarks[:, 2] * fa.iod / fb.iod
    return PortraitFace(image, np.column_stack([target, z]).astype(np.float32), f"{a.source}+{b.source}@{s:.2f}")


def _match_colours(image: np.ndarray, reference: np.ndarray, region: np.ndarray) -> np.ndarray:
    """`image` with its colours inside `region` moved to the reference's mean and spread, channel by channel
    in Lab (Reinhard et al. 2001): a morph between two skins then dissolves shape and features, not a
    patchwork of two lightings and tones."""
    if region.sum() < 16:
        return image
    lab = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    ref = cv2.cvtColor(np.ascontiguousarray(reference, dtype=np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    mean, std = lab[region].mean(axis=0), lab[region].std(axis=0) + 1e-3
    ref_mean, ref_std = ref[region].mean(axis=0), ref[region].std(axis=0)
    lab = (lab - mean) * np.clip(ref_std / std, 0.5, 2.0) + ref_mean
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
