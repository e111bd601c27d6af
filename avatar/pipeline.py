"""The per-frame pipeline: frame -> face reading -> channels -> echo -> controls, as one frozen FrameOutcome.

The core of the loop, with no I/O: the runners (runners.py) own the threads and hand each outcome to
the sinks and the window. Events that the stages raise go to `emit`; the model's changes come in
through `commands`, drained before each frame is answered.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import cv2

from avatar.empathy import EmpathyModel, EmpathySettings, ModelCommands
from avatar.events import Event, FaceFound, FaceLost
from avatar.expression import ExpressionReader
from avatar.face import FaceReader, FaceReaderOptions, ModelFile, ModelImage, RunningMode, aligned_empty
from avatar.face_data import FaceReading
from avatar.model_input import ModelInputs
from avatar.outcome import Frame, FrameOutcome
from avatar.rig import HeadFollower, IdleLife, controls_from_echo

Emit = Callable[[float, Event], None]


@dataclasses.dataclass(frozen=True)
class PipelineSettings:
    empathy: EmpathySettings = dataclasses.field(default_factory=EmpathySettings)
    seed: int = 0
    calibrate_s: float = 0.0  # hold a neutral face this long at the start (the personal baseline)
    keep_landmarks: bool = False  # copy all 478 mesh points into each reading (a view that draws them)


class Pipeline:
    """One run's stages and their state. `perceive` is the face model's part of a frame (it runs
    outside the GIL); `respond` is everything after it and must see frames in order."""

    def __init__(self, model: ModelFile, settings: PipelineSettings, emit: Emit):
        self.reader = FaceReader(FaceReaderOptions(running_mode=RunningMode.VIDEO, keep_landmarks=settings.keep_landmarks),
                                 model=model)
        self.expression_reader = ExpressionReader(calibrate_s=settings.calibrate_s)
        self.empathy = EmpathyModel(dataclasses.replace(settings.empathy, seed=settings.seed))
        self.commands = ModelCommands(self.empathy.settings)
        self.model_inputs = ModelInputs()  # the model sees what frames.csv records (a replay gives the same echo)
        self.idle = IdleLife(settings.seed)
        self.head = HeadFollower()
        self.extra_load = 0.0  # what answering a chat adds to the model's load (one float: safe across threads)
        self._emit = emit
        self._rgb = threading.local()  # .buffer: each converting thread's RGB frame, reused
        self._face_present = False

    def prepare(self, frame: Frame) -> ModelImage:
        """The frame as the face model takes it. It needs no model state, so a decode thread makes it
        ahead (runners.py), and the model's thread goes from one inference to the next."""
        # One reused, 64-byte-aligned buffer per converting thread: no allocation per frame (MediaPipe
        # copies it into its own image), and no two threads ever write the same one.
        rgb = getattr(self._rgb, "buffer", None)
        if rgb is None or rgb.shape != frame.bgr.shape:
            rgb = self._rgb.buffer = aligned_empty(frame.bgr.shape)
        cv2.cvtColor(frame.bgr, cv2.COLOR_BGR2RGB, dst=rgb)
        return self.reader.image(rgb)

    def perceive(self, frame: Frame, image: ModelImage | None = None) -> FaceReading:
        """The face model's part of a frame (it runs outside the GIL); `image` is `prepare(frame)` if made ahead.
        The image is read once and freed here, between two inferences (ModelImage.close says why)."""
        image = image if image is not None else self.prepare(frame)
        try:
            return self.reader.read(image, frame.t_s)
        finally:
            image.close()

    def respond(self, frame: Frame, reading: FaceReading) -> FrameOutcome:
        t_s = frame.t_s
        self.commands.apply_to(self.empathy)
        expression = self.expression_reader.read(reading, t_s)
        given = self.model_inputs.take(t_s, expression, reading.faces)
        echo = self.empathy.step(given.t_s, given.expression, faces=given.faces, extra_load=self.extra_load)
        for event in self.empathy.pop_events():
            self._emit(t_s, event)
        if reading.present != self._face_present:
            self._face_present = reading.present
            self._emit(t_s, FaceFound(reading.faces) if reading.present else FaceLost(reading.faces))
        face = reading.primary
        # The head path is tracking, not echo: it follows at once (damped only against jitter).
        head = self.head.update(t_s, face.yaw_deg, face.pitch_deg, face.roll_deg, present=reading.present)
        controls = controls_from_echo(echo, self.idle.at(t_s), head.yaw_deg, head.pitch_deg, head.roll_deg)
        return FrameOutcome(frame, reading, expression, echo, controls)

    def process(self, frame: Frame) -> FrameOutcome:
        return self.respond(frame, self.perceive(frame))

    def close(self) -> None:
        self.reader.close()


PipelineFactory = Callable[[ModelFile, PipelineSettings, Emit], Pipeline]  # Pipeline itself, or a subclass
