"""One frame in and what the pipeline made of it: `Frame` from a source, `FrameOutcome` for the edges.

Plain data between the pipeline (pipeline.py) and everything that shows or keeps its results: the
window, the logs, LSL and the modes. A mode's own data for a frame is a `ModeFrame` subclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from avatar.empathy import Echo
from avatar.expression import Expression
from avatar.face_data import FaceReading
from avatar.rig import Controls


@dataclass(frozen=True)
class Frame:
    """One frame. `t_s` is source time; `capture_perf` is time.perf_counter() when it was taken."""

    index: int
    t_s: float
    capture_wall: float
    capture_perf: float
    bgr: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class ModeFrame:
    """What a mode adds to one frame (its log columns, what its screen shows); the plain mirror adds nothing."""


NO_MODE_FRAME = ModeFrame()


@dataclass(frozen=True)
class FrameOutcome:
    """What one processed frame produced: the reading, the channels, the echo and the avatar's controls."""

    frame: Frame
    reading: FaceReading
    expression: Expression
    echo: Echo
    controls: Controls
    mode_frame: ModeFrame = NO_MODE_FRAME

    @property
    def faces(self) -> int:
        return self.reading.faces
