"""Build the bundled portrait, assets/media/astronaut_neutral.png, from the NASA photo.

    python tools/make_portrait.py

She smiles broadly in assets/media/astronaut.png; the portrait avatar starts from a relaxed face,
so her smile is taken away with the NEUTRAL pose of avatar/portrait_warp.py (lips closed over the
teeth, corners down and in, cheeks and lower lids dropped), measured on the landmarks the real
model reads. The avatar reads the landmarks of the result again when it starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from avatar.face import FaceReader, FaceReaderOptions, RunningMode  # noqa: E402
from avatar.portrait_face import BUNDLED_PORTRAIT  # noqa: E402
from avatar.portrait_warp import FaceWarper, expression_displacements  # noqa: E402

SOURCE = ROOT / "assets" / "media" / "astronaut.png"


def main() -> int:
    photo = cv2.imread(str(SOURCE))
    h, w = photo.shape[:2]
    with FaceReader(FaceReaderOptions(running_mode=RunningMode.IMAGE, keep_landmarks=True)) as reader:
        face = reader.read(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)).primary
    if face is None:
        raise SystemExit(f"no face found in {SOURCE}")
    landmarks = face.landmarks[:, :2] * (w, h)
    warper = FaceWarper(photo.shape, landmarks)
    neutral = warper.warp(photo, expression_displacements(landmarks, {"neutral": 1.0}, warper.frame))
    cv2.imwrite(str(BUNDLED_PORTRAIT), neutral, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(BUNDLED_PORTRAIT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
