"""The landmark warp used to make the fixture clips: exact, local, and pointing the right way."""

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.warp import FaceWarper, expression_displacements, warp_face  # noqa: E402


def _synthetic_landmarks(size: int = 256) -> np.ndarray:
    """478 distinct points in a face-sized ellipse; the eye corners placed like real eyes,
    so FaceFrame (and the poses) have a sensible face axis."""
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, 2 * np.pi, 478)
    radius = np.sqrt(rng.uniform(0, 1, 478))
    points = np.stack([size / 2 + 60 * radius * np.cos(angle), size / 2 + 75 * radius * np.sin(angle)], axis=1)
    for index, x in ((33, 98), (133, 118), (362, 138), (263, 158)):
        points[index] = (x, 110)
    return points


def _textured(size: int = 256) -> np.ndarray:
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (size // 8, size // 8, 3), dtype=np.uint8)
    return cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)


def test_identity_displacement_returns_the_same_image():
    image = _textured()
    out = warp_face(image, _synthetic_landmarks(), {})
    assert out.shape == image.shape
    assert np.abs(out.astype(int) - image.astype(int)).max() <= 1


def test_a_moved_landmark_drags_a_bright_dot_with_it():
    landmarks = _synthetic_landmarks()
    x, y = landmarks[13].round().astype(int)
    image = np.zeros((256, 256), dtype=np.uint8)
    image[y - 1 : y + 2, x - 1 : x + 2] = 255
    out = warp_face(image, landmarks, {13: (6.0, -4.0)}, smooth_px=0)
    ys, xs = np.nonzero(out > 64)
    weights = out[ys, xs].astype(float)
    cx, cy = np.average(xs, weights=weights), np.average(ys, weights=weights)
    assert abs(cx - (x + 6)) < 1.0 and abs(cy - (y - 4)) < 1.0


def test_a_pose_moves_the_face_but_not_the_background():
    landmarks = _synthetic_landmarks()
    warper = FaceWarper((256, 256), landmarks)
    image = _textured()
    out = warper.warp(image, expression_displacements(landmarks, {"wince": 1.0}))
    # Corners are outside the anchor ring: untouched.
    assert np.array_equal(out[:20, :20], image[:20, :20])
    assert np.array_equal(out[-20:, -20:], image[-20:, -20:])
    assert not np.array_equal(out, image)
