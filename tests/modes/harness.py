"""A mode's own unit tests drive its hooks through this context: a real empathy model behind the
command queue, and the events, notices and drawing calls kept for the test to read."""

from __future__ import annotations

import numpy as np

from avatar.empathy import Echo, EmpathyModel, EmpathySettings, ModelCommands
from avatar.expression import Expression
from avatar.face_data import NO_FACE, FaceReading
from avatar.outcome import Frame, FrameOutcome
from avatar.rig import NEUTRAL


class ModeRecorder:
    def __init__(self, settings: EmpathySettings | None = None, windowed: bool = False):
        self.model = EmpathyModel(settings or EmpathySettings())
        self.commands = ModelCommands(self.model.settings)
        self.events: list[tuple[str, float | None, dict]] = []
        self.notices: list[str] = []
        self.drawn: list = []
        self.camera_lost = False
        self.windowed = windowed
        self.log_folder = None

    # ModeContext
    def emit(self, t_s, event) -> None:
        self.events.append((event.type, None if t_s is None else round(t_s, 3), event.record()))

    def send(self, command) -> None:
        self.commands.send(command)

    def model_settings(self) -> EmpathySettings:
        return self.commands.settings

    def notice(self, text: str) -> None:
        self.notices.append(text)

    @property
    def painter(self):
        return self

    def draw(self, surface, controls, caption=None) -> None:
        self.drawn.append((controls, caption))

    # for the tests
    def apply(self) -> EmpathyModel:
        """Let the model take what was sent, as the answering thread does before the next frame."""
        self.commands.apply_to(self.model)
        return self.model

    def types(self) -> list[str]:
        return [e[0] for e in self.events]


def outcome_at(t_s: float, faces: int = 1, index: int = 0) -> FrameOutcome:
    frame = Frame(index=index, t_s=t_s, capture_wall=0.0, capture_perf=0.0, bgr=np.zeros((4, 4, 3), np.uint8))
    reading = FaceReading(faces=faces, primary=NO_FACE)
    return FrameOutcome(frame, reading, Expression(present=faces > 0), Echo.neutral(), NEUTRAL)
