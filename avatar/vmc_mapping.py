"""The avatar's face as VMC blendshapes and a head rotation: Controls + Echo -> VRM 0 presets and perfect sync.

Pure, beside the rig (rig.py): no pygame, cv2, mediapipe or sockets. vmc.py sends what this makes;
all knowledge of the VRM and ARKit names, and of Unity's axes, lives here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from avatar.empathy import Echo
from avatar.expression import Expression
from avatar.face_data import Blendshape, Face
from avatar.rig import CONCERN_SQUINT, SMILE_SQUINT, WINCE_SQUINT, Controls

# VRM 0's preset BlendShapeClips, spelled as UniVRM names them (receivers match them case-sensitively).
VRM0_PRESETS = ("Joy", "Angry", "Sorrow", "Fun", "A", "I", "U", "E", "O", "Blink", "Blink_L", "Blink_R")


def perfect_sync_name(shape: Blendshape) -> str:
    """ARKit's name in UpperCamelCase, as "perfect sync" VRM models name their 52 clips (eyeBlinkLeft -> EyeBlinkLeft)."""
    return shape.name[0].upper() + shape.name[1:]


# MediaPipe gives 51 of ARKit's 52 (plus its own `neutral`); ARKit's 52nd is the tongue.
_TRACKED = tuple(shape for shape in Blendshape if shape is not Blendshape.neutral)
PERFECT_SYNC = tuple(perfect_sync_name(shape) for shape in _TRACKED) + ("TongueOut",)
ALL_NAMES = VRM0_PRESETS + PERFECT_SYNC

# Concern softens the avatar's smile (rig.controls_from_echo): a warm, worried face, not a grin.
JOY_CONCERN_DAMPING = 0.5


@dataclass(frozen=True)
class Quaternion:
    """A rotation in Unity's axes (x right, y up, z forward; left-handed), as VMC sends it: x, y, z, w."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    w: float = 1.0

    def __mul__(self, other: Quaternion) -> Quaternion:
        a, b = self, other
        return Quaternion(
            a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
            a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
            a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
            a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
        )

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.z, self.w)


IDENTITY = Quaternion()


def _about(axis: str, degrees: float) -> Quaternion:
    half = math.radians(degrees) / 2.0
    s = math.sin(half)
    return Quaternion(**{axis: s}, w=math.cos(half))


def head_rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> Quaternion:
    """The Head bone's local rotation for a head turned as the rig says (rig.Controls' conventions).

    The model faces +z. Unity turns +y toward the model's own right, +x nose down and +z its right
    ear up, so the rig's yaw (+ to its own left), pitch (+ up) and roll (+ to its right shoulder)
    all change sign; Unity's Euler order is z, then x, then y (Quaternion.Euler).
    """
    yaw, pitch, roll = (_finite(v) for v in (yaw_deg, pitch_deg, roll_deg))
    return _about("y", -yaw) * _about("x", -pitch) * _about("z", -roll)


def blendshapes_from_controls(controls: Controls, echo: Echo) -> dict[str, float]:
    """The avatar's answer as VMC blendshape values (every one of ALL_NAMES, each 0-1).

    `Joy` is the echoed smile (softened by concern, as the drawn mouth is) or whatever smile a mode
    puts on the mouth (a greeting), whichever is larger; `Sorrow` is the concern. The lids of the
    controls are split into the squint that goes with the expression and a blink on top of it.
    """
    smile, concern, wince = _unit(echo.smile), _unit(echo.concern), _unit(echo.wince)
    corners = ((_signed(controls.mouth_corner_left) + _signed(controls.mouth_corner_right)) / 2.0)
    squint = _unit(SMILE_SQUINT * smile + CONCERN_SQUINT * concern + WINCE_SQUINT * wince)
    blink_left, blink_right = _blink(controls.lid_left, squint), _blink(controls.lid_right, squint)
    both = min(blink_left, blink_right)
    gaze_x, gaze_y = _signed(controls.gaze_x), _signed(controls.gaze_y)  # +x toward its own left, +y down
    values = dict.fromkeys(ALL_NAMES, 0.0)
    values.update(
        Joy=max(smile * (1.0 - JOY_CONCERN_DAMPING * concern), corners),
        Sorrow=concern,
        A=controls.jaw_open,
        Blink=both,
        Blink_L=blink_left - both,
        Blink_R=blink_right - both,
        # Perfect sync, each side the model's own (the controls' left is the avatar's own left).
        MouthSmileLeft=controls.mouth_corner_left,
        MouthSmileRight=controls.mouth_corner_right,
        MouthFrownLeft=-_signed(controls.mouth_corner_left),
        MouthFrownRight=-_signed(controls.mouth_corner_right),
        CheekSquintLeft=controls.cheek_left,
        CheekSquintRight=controls.cheek_right,
        EyeSquintLeft=squint,
        EyeSquintRight=squint,
        EyeBlinkLeft=blink_left,
        EyeBlinkRight=blink_right,
        JawOpen=controls.jaw_open,
        MouthUpperUpLeft=controls.upper_lip,
        MouthUpperUpRight=controls.upper_lip,
        MouthLowerDownLeft=controls.lower_lip,
        MouthLowerDownRight=controls.lower_lip,
        MouthPressLeft=controls.lip_press,
        MouthPressRight=controls.lip_press,
        BrowInnerUp=(_signed(controls.brow_inner_left) + _signed(controls.brow_inner_right)) / 2.0,
        BrowDownLeft=-_signed(controls.brow_inner_left),
        BrowDownRight=-_signed(controls.brow_inner_right),
        BrowOuterUpLeft=controls.brow_outer_left,
        BrowOuterUpRight=controls.brow_outer_right,
        EyeLookOutLeft=gaze_x,  # looking toward its own left: the left eye out, the right eye in
        EyeLookInRight=gaze_x,
        EyeLookInLeft=-gaze_x,
        EyeLookOutRight=-gaze_x,
        EyeLookDownLeft=gaze_y,
        EyeLookDownRight=gaze_y,
        EyeLookUpLeft=-gaze_y,
        EyeLookUpRight=-gaze_y,
    )
    return {name: _unit(value) for name, value in values.items()}


def blendshapes_from_face(face: Face, expression: Expression, mirror: bool) -> dict[str, float]:
    """The person's own tracking as VMC blendshapes (`--vmc-send face`), for a plain tracker.

    Perfect sync comes straight from the face model's 51 blendshapes (no tongue: 0); the presets
    from the channels (`Joy` the smile, `Sorrow` the sadness, `A` the open mouth, the blinks). With
    `mirror` the avatar moves like the person's reflection: their left eye is its right.
    """
    values = dict.fromkeys(ALL_NAMES, 0.0)
    for shape in _TRACKED:
        values[_side(perfect_sync_name(shape), mirror)] = face.score(shape)
    blink_left, blink_right = _unit(expression.blink_left), _unit(expression.blink_right)
    if mirror:
        blink_left, blink_right = blink_right, blink_left
    both = min(blink_left, blink_right)
    values.update(Joy=expression.smile, Sorrow=expression.sad, A=expression.mouth_open,
                  Blink=both, Blink_L=blink_left - both, Blink_R=blink_right - both)
    return {name: _unit(value) for name, value in values.items()}


def face_head_rotation(face: Face, mirror: bool) -> Quaternion:
    """The person's head pose (face.py: +yaw to their left, +pitch up, +roll to their right shoulder)
    as the avatar's, like the rig: mirrored, a turn to their left is a turn to the avatar's right."""
    side = -1.0 if mirror else 1.0
    return head_rotation(side * face.yaw_deg, face.pitch_deg, side * face.roll_deg)


def _side(name: str, mirror: bool) -> str:
    if not mirror:
        return name
    if name.endswith("Left"):
        return name[: -len("Left")] + "Right"
    if name.endswith("Right"):
        return name[: -len("Right")] + "Left"
    return name


def _blink(lid: float, squint: float) -> float:
    """How much of a lid's closure is a blink on top of the expression's squint (0-1)."""
    lid = _unit(lid)
    return 0.0 if squint >= 1.0 else _unit((lid - squint) / (1.0 - squint))


def _finite(x: float) -> float:
    x = float(x)
    return x if math.isfinite(x) else 0.0


def _signed(x: float) -> float:
    x = _finite(x)
    return -1.0 if x < -1.0 else 1.0 if x > 1.0 else x


def _unit(x: float) -> float:
    x = _finite(x)
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x
