"""Build the bundled portrait, assets/media/astronaut_neutral.png, from the NASA photo.

    python tools/make_portrait.py

She smiles broadly with her teeth showing in assets/media/astronaut.png; the portrait avatar starts
from a relaxed face. Her smile is taken away by a landmark warp (avatar/portrait_warp.py): the inner
lips brought together along the whole width (the lips cover the teeth: nothing is painted), the
corners lowered and brought in, the cheeks and lower lids dropped. The result is read again by the
real model and corrected until it reads closed and level (at most a few rounds; each round's warp is
composed with the last, so the photo is resampled once). The printed line gives the readings.

It also writes assets/media/astronaut_neutral.mouth.json: the original's inner-lip landmarks (the same
pixels: the warp keeps the image's size), so the avatar can show her real teeth when its mouth opens.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from avatar.face import FaceReader, FaceReaderOptions, RunningMode  # noqa: E402
from avatar.face_data import Blendshape  # noqa: E402
from avatar.portrait import MOUTH_GAP  # noqa: E402
from avatar.portrait_face import BUNDLED_MOUTH, BUNDLED_PORTRAIT  # noqa: E402
from avatar.portrait_warp import (  # noqa: E402
    CHEEK_L,
    CHEEK_R,
    EYE_CORNERS_L,
    EYE_CORNERS_R,
    EYE_LOWER_L,
    EYE_LOWER_R,
    EYE_UPPER_L,
    EYE_UPPER_R,
    LID_FOLD_LOWER_L,
    LID_FOLD_LOWER_R,
    LOWER_INNER_L,
    LOWER_INNER_R,
    LOWER_OUTER_L,
    LOWER_OUTER_R,
    NOSE,
    UPPER_INNER_L,
    UPPER_INNER_R,
    UPPER_OUTER_L,
    UPPER_OUTER_R,
    CloseGap,
    FaceFrame,
    FaceWarper,
    _both,
    pose_offsets,
)

SOURCE = ROOT / "assets" / "media" / "astronaut.png"
INNER_UPPER = UPPER_INNER_R + UPPER_INNER_L
INNER_LOWER = LOWER_INNER_R + LOWER_INNER_L
# The first round: her smile undone. Face units (inter-ocular distance); corners first in each chain.
RELAX: list = [
    # The corners down and in to a level line; the lips' middle barely moves.
    *_both(UPPER_OUTER_R, UPPER_OUTER_L, (0.13, 0.05, 0.0), (0.22, 0.10, 0.06)),
    *_both(UPPER_INNER_R, UPPER_INNER_L, (0.13, 0.05, 0.0), (0.22, 0.07, 0.03)),
    *_both(LOWER_INNER_R, LOWER_INNER_L, (0.13, 0.05, 0.0), (0.22, 0.07, 0.03)),
    *_both(LOWER_OUTER_R, LOWER_OUTER_L, (0.13, 0.05, 0.0), (0.22, 0.05, -0.02)),
    # The lips meet along the whole width: the upper one comes down over the teeth, the lower one up.
    CloseGap(INNER_UPPER, INNER_LOWER, fraction=0.995, upper_share=0.6),
    *_both(CHEEK_R, CHEEK_L, 0.03, 0.08),
    *_both(EYE_LOWER_R, EYE_LOWER_L, 0.0, 0.03),
    *_both(LID_FOLD_LOWER_R, LID_FOLD_LOWER_L, 0.0, 0.04),
    *_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, -0.01),
    *_both(EYE_CORNERS_R, EYE_CORNERS_L, 0.0, 0.0),
    (NOSE, 0.0, 0.0),
]
GOAL_GAP = 0.03  # inner lips this close (face units, about a pixel here) count as closed: the model reads ~0.03 on a closed photo line
GOAL_RISE = 0.02  # corners at most this far above the lips' middle
ROUNDS = 4


def read(reader: FaceReader, bgr: np.ndarray):
    """(landmarks (478, 2) in pixels, blendshapes) of the one face, as the avatar reads it."""
    face = reader.read(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).primary
    if face is None:
        raise SystemExit("no face found")
    h, w = bgr.shape[:2]
    return np.asarray(face.landmarks)[:, :2] * (w, h), np.asarray(face.blendshapes)


def measure(landmarks: np.ndarray, blendshapes: np.ndarray) -> dict[str, float]:
    """What a face reader sees of the mouth: the widest inner-lip gap and the corners' rise, face units."""
    frame = FaceFrame.from_landmarks(landmarks)
    face = frame.to_face(landmarks)
    gap = max(face[low, 1] - face[up, 1] for up, low in zip(INNER_UPPER, INNER_LOWER, strict=True) if up != low)
    rise = face[[13, 14], 1].mean() - face[[61, 291], 1].mean()
    smile = (blendshapes[Blendshape.mouthSmileLeft] + blendshapes[Blendshape.mouthSmileRight]) / 2
    return {"gap": float(gap), "corner_rise": float(rise), "smile": float(smile), "jaw_open": float(blendshapes[Blendshape.jawOpen])}


def round_maps(shape, landmarks: np.ndarray, moves: list) -> tuple[np.ndarray, np.ndarray]:
    """One round's remap maps: smoothed everywhere but across the lips, where a blur would reopen the closed line."""
    warper = FaceWarper(shape, landmarks)
    offsets = pose_offsets(warper.frame, landmarks, moves)
    sharp = warper.maps(offsets, 0.0)
    smooth = warper.maps(offsets, 1.0)
    mouth = np.zeros(shape[:2], np.float32)
    lips = landmarks[list(UPPER_OUTER_R + UPPER_OUTER_L[::-1] + LOWER_OUTER_L + LOWER_OUTER_R[::-1])]
    cv2.fillPoly(mouth, [np.round(lips * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    keep = cv2.GaussianBlur(mouth, (0, 0), 2.0)
    return tuple((s + (m - s) * keep).astype(np.float32) for s, m in zip(smooth, sharp, strict=True))


def correction(landmarks: np.ndarray, m: dict[str, float]) -> list:
    """A later round: close what gap is left and lower the corners by what they still rise."""
    drop = max(0.0, m["corner_rise"] - 0.5 * GOAL_RISE)
    return [
        *_both(UPPER_OUTER_R, UPPER_OUTER_L, (0.3 * drop, 0.0), (drop, 0.0)),
        *_both(UPPER_INNER_R, UPPER_INNER_L, (0.3 * drop, 0.0), (drop, 0.0)),
        *_both(LOWER_INNER_R, LOWER_INNER_L, (0.3 * drop, 0.0), (drop, 0.0)),
        *_both(LOWER_OUTER_R, LOWER_OUTER_L, (0.3 * drop, 0.0), (drop, 0.0)),
        CloseGap(INNER_UPPER, INNER_LOWER, fraction=0.995, upper_share=0.5),
        (NOSE, 0.0, 0.0),
        *_both(EYE_CORNERS_R, EYE_CORNERS_L, 0.0, 0.0),
    ]


def main() -> int:
    photo = cv2.imread(str(SOURCE))
    with FaceReader(FaceReaderOptions(running_mode=RunningMode.IMAGE, keep_landmarks=True)) as reader:
        original, shapes = read(reader, photo)
        print("original", {k: round(v, 3) for k, v in measure(original, shapes).items()})
        map_x, map_y = round_maps(photo.shape, original, RELAX)
        best = None
        for k in range(ROUNDS):
            neutral = cv2.remap(photo, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            landmarks, shapes = read(reader, neutral)
            m = measure(landmarks, shapes)
            print(f"round {k + 1}", {k: round(v, 3) for k, v in m.items()})
            score = max(0.0, m["gap"]) + max(0.0, m["corner_rise"])
            if best is None or score < best[0]:
                best = (score, neutral)
            if m["gap"] <= GOAL_GAP and m["corner_rise"] <= GOAL_RISE:
                break
            cx, cy = round_maps(photo.shape, landmarks, correction(landmarks, m))
            # Composed, not applied again: the photo is sampled once, through both rounds' maps.
            map_x, map_y = (cv2.remap(a, cx, cy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) for a in (map_x, map_y))
    cv2.imwrite(str(BUNDLED_PORTRAIT), best[1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    mouth = {"image": SOURCE.name, "note": "the original's inner lips (MediaPipe landmarks, pixels) round the mouth, as avatar.portrait.MOUTH_GAP",
             "landmarks": list(MOUTH_GAP), "inner_lips": np.round(original[list(MOUTH_GAP)], 2).tolist()}
    BUNDLED_MOUTH.write_text(json.dumps(mouth, indent=1) + "\n")
    print(BUNDLED_PORTRAIT, BUNDLED_MOUTH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
