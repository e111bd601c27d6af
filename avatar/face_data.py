"""What a face reading is: the 52 blendshapes, one face's pose and box, all faces in a frame.

Plain data between the face stage (face.py, the MediaPipe boundary) and every later stage; it
imports no model, so the pure stages (expression, empathy, rig) can use it on their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


class Blendshape(IntEnum):
    """MediaPipe's 52 ARKit-style blendshapes, in the model's output order."""

    neutral = 0
    browDownLeft = 1
    browDownRight = 2
    browInnerUp = 3
    browOuterUpLeft = 4
    browOuterUpRight = 5
    cheekPuff = 6
    cheekSquintLeft = 7
    cheekSquintRight = 8
    eyeBlinkLeft = 9
    eyeBlinkRight = 10
    eyeLookDownLeft = 11
    eyeLookDownRight = 12
    eyeLookInLeft = 13
    eyeLookInRight = 14
    eyeLookOutLeft = 15
    eyeLookOutRight = 16
    eyeLookUpLeft = 17
    eyeLookUpRight = 18
    eyeSquintLeft = 19
    eyeSquintRight = 20
    eyeWideLeft = 21
    eyeWideRight = 22
    jawForward = 23
    jawLeft = 24
    jawOpen = 25
    jawRight = 26
    mouthClose = 27
    mouthDimpleLeft = 28
    mouthDimpleRight = 29
    mouthFrownLeft = 30
    mouthFrownRight = 31
    mouthFunnel = 32
    mouthLeft = 33
    mouthLowerDownLeft = 34
    mouthLowerDownRight = 35
    mouthPressLeft = 36
    mouthPressRight = 37
    mouthPucker = 38
    mouthRight = 39
    mouthRollLower = 40
    mouthRollUpper = 41
    mouthShrugLower = 42
    mouthShrugUpper = 43
    mouthSmileLeft = 44
    mouthSmileRight = 45
    mouthStretchLeft = 46
    mouthStretchRight = 47
    mouthUpperUpLeft = 48
    mouthUpperUpRight = 49
    noseSneerLeft = 50
    noseSneerRight = 51


BLENDSHAPE_COUNT = len(Blendshape)

# The face's outline in MediaPipe's 478-point mesh (FaceLandmarksConnections.FACE_LANDMARKS_FACE_OVAL):
# its box is the face's box, at a thirteenth of the cost of scanning every point.
FACE_OVAL = (
    10, 21, 54, 58, 67, 93, 103, 109, 127, 132, 136, 148, 149, 150, 152, 162, 172, 176,
    234, 251, 284, 288, 297, 323, 332, 338, 356, 361, 365, 377, 378, 379, 389, 397, 400, 454,
)

# MediaPipe names "Left"/"Right" from the subject's point of view (the person's own left).

# The few mesh points that FaceShape measures (canonical face mesh indices; "right" is the person's own).
_EYE_OUTER_RIGHT, _EYE_OUTER_LEFT = 33, 263
_MOUTH_CORNER_RIGHT, _MOUTH_CORNER_LEFT = 61, 291
_LIP_INNER_UPPER, _LIP_INNER_LOWER = 13, 14
_SHAPE_POINTS = (_EYE_OUTER_RIGHT, _EYE_OUTER_LEFT, _MOUTH_CORNER_RIGHT, _MOUTH_CORNER_LEFT, _LIP_INNER_UPPER, _LIP_INNER_LOWER)


@dataclass(frozen=True)
class FaceShape:
    """What the blendshapes blur: whether the lip corners go up, from a few mesh points.

    MediaPipe's `mouthSmile` rises for any sideways pull of the lips, the square mouth of crying
    included; whether the corners actually go *up* is geometry. Lengths are in eye-widths (between
    the outer eye corners) on the face turned upright (roll removed), heights positive upward, so
    they do not depend on the face's size, position or tilt in the frame.
    """

    corner_lift: float  # lip corners above the middle of the lips (+: the U of a smile, -: a frown's arch)

    @staticmethod
    def from_points(points: dict[int, tuple[float, float]]) -> FaceShape | None:
        """From mesh points in pixels (x right, y down); None when the eyes coincide (no scale)."""
        (ax, ay), (bx, by) = points[_EYE_OUTER_RIGHT], points[_EYE_OUTER_LEFT]
        eye = math.hypot(bx - ax, by - ay)
        if not eye > 1e-6:
            return None
        ux, uy = (bx - ax) / eye, (by - ay) / eye  # along the eyes; "up" on the face is (uy, -ux)

        def up(i: int) -> float:
            x, y = points[i]
            return (x * uy - y * ux) / eye

        corners = (up(_MOUTH_CORNER_RIGHT) + up(_MOUTH_CORNER_LEFT)) / 2
        lips = (up(_LIP_INNER_UPPER) + up(_LIP_INNER_LOWER)) / 2
        return FaceShape(corner_lift=corners - lips)


@dataclass(frozen=True)
class Face:
    """One face in one frame. Box and centre are in normalized image coordinates (0-1)."""

    blendshapes: np.ndarray = field(repr=False)  # (52,) float32, indexed by Blendshape
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    center_x: float
    center_y: float
    width: float
    height: float
    landmarks: np.ndarray | None = field(default=None, repr=False)  # (478, 3) normalized, or None
    shape: FaceShape | None = None  # None when the model gave too few points

    @property
    def size(self) -> float:
        """Face size as the larger side of its box, a fraction of the frame."""
        return max(self.width, self.height)

    def score(self, shape: Blendshape) -> float:
        return float(self.blendshapes[shape])


@dataclass(frozen=True)
class FaceReading:
    """All faces seen in one frame; `primary` is the one the avatar answers (NO_FACE when none is)."""

    faces: int
    primary: Face
    others: tuple[Face, ...] = ()
    switched: bool = False  # the primary face changed to another person on this frame

    @staticmethod
    def empty() -> FaceReading:
        return NO_FACE_READING

    @property
    def present(self) -> bool:
        return self.faces > 0



# A frame without a face still has a primary face: a neutral one, straight ahead and empty, so
# that callers need no branch (MediaPipe's own results are empty lists, never None).
NO_FACE = Face(blendshapes=np.zeros(BLENDSHAPE_COUNT, dtype=np.float32), yaw_deg=0.0, pitch_deg=0.0, roll_deg=0.0,
               center_x=0.5, center_y=0.5, width=0.0, height=0.0)
NO_FACE.blendshapes.setflags(write=False)
NO_FACE_READING = FaceReading(faces=0, primary=NO_FACE)
