"""Expression channels: FaceReading -> Expression (smile, wince, ... in 0-1, head pose in degrees).

The third stage. `channels_from_blendshapes` is pure; `ExpressionReader` owns the state that
persists across frames (baseline, smoothing, dropout hold).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar.face import Blendshape as B
from avatar.face import FaceReading


@dataclass(frozen=True)
class Expression:
    """The channels of one frame. `present` is False when no face was read (the log leaves them empty)."""

    present: bool
    smile: float = 0.0
    wince: float = 0.0
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0

    @staticmethod
    def absent() -> Expression:
        return Expression(present=False)


def _clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def _mean(b: np.ndarray, *shapes: B) -> float:
    return float(np.mean([b[s] for s in shapes]))


def smile_score(b: np.ndarray) -> float:
    """AU12, the lip-corner pull."""
    return _clip01(_mean(b, B.mouthSmileLeft, B.mouthSmileRight))


def wince_score(b: np.ndarray) -> float:
    """A PSPI-like pain score, gated by the brow lowerer and discounted by smile.

    PSPI = AU4 + max(AU6, AU7) + max(AU9, AU10) + AU43. A broad smile raises eyeSquint (AU7)
    and mouthUpperUp (AU10) too, so those terms count only as far as the brows are lowered
    (AU4 is what a smile lacks) and are discounted by the smile (SCIENCE.md, "the trap").
    """
    brow_lower = _mean(b, B.browDownLeft, B.browDownRight)
    lid_tighten = _mean(b, B.eyeSquintLeft, B.eyeSquintRight)
    nose_lip = max(_mean(b, B.noseSneerLeft, B.noseSneerRight) * 4.0, _mean(b, B.mouthUpperUpLeft, B.mouthUpperUpRight))
    eye_close = _mean(b, B.eyeBlinkLeft, B.eyeBlinkRight)
    smile = smile_score(b)
    gate = _clip01((brow_lower - 0.05) / 0.35)
    raw = 0.45 * brow_lower / 0.5 + gate * (0.35 * lid_tighten + 0.2 * nose_lip + 0.15 * eye_close)
    return _clip01(raw * (1.0 - smile) ** 2)


def channels_from_reading(reading: FaceReading) -> Expression:
    face = reading.primary
    if face is None:
        return Expression.absent()
    b = face.blendshapes
    return Expression(
        present=True,
        smile=smile_score(b),
        wince=wince_score(b),
        yaw_deg=face.yaw_deg,
        pitch_deg=face.pitch_deg,
        roll_deg=face.roll_deg,
    )


class ExpressionReader:
    """Per-session channel state. The first version is stateless; baseline and smoothing come later."""

    def read(self, reading: FaceReading, t_s: float) -> Expression:
        return channels_from_reading(reading)
