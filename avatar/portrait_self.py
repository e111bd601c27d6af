"""The visitor's own face as the avatar: `--avatar portrait:self`, or blended into the portrait by
`--self-similarity S` (the "facial similarity" manipulation of transformed social interaction:
Bailenson, Iyengar, Yee & Collins 2008 morphed a participant's face about 40 % into another's).

An edge of the pipeline that holds pixels, so it keeps them in memory only: the captured face is
never written, logged or streamed. It is dropped when the visitor changes (another face takes the
primary place, or nobody is seen for a few seconds; avatar/self_capture.py decides) and when the run
ends. What is logged is only that a face was taken or let go, and S.

Building a face's warp model takes about a second, so in a window it is built on a worker thread and
swapped in when ready, and the window never stalls; headless (a --save-video of a file) it is built
in place, so the same file gives the same video.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from avatar.errors import ConfigError
from avatar.events import PortraitFaceChanged
from avatar.outcome import FrameOutcome
from avatar.portrait_face import PortraitFace, blend_faces, frame_face, portrait_problem
from avatar.self_capture import CalmFaceRule, CalmSecondFinder, FaceMoment, Verdict

SELF_SPEC = "portrait:self"


@dataclass(frozen=True)
class SelfPortraitSettings:
    similarity: float = 1.0  # 1: the visitor's own face (portrait:self); below 1: blended into the portrait by S
    in_background: bool = True  # build the warp model on a worker thread (a window); False: in place (headless)
    rule: CalmFaceRule = CalmFaceRule()


def moment_of(outcome: FrameOutcome) -> FaceMoment:
    """What decides calmness in one answered frame: its channels as logged, the face's place and size."""
    e, reading = outcome.expression, outcome.reading
    return FaceMoment(
        t_s=outcome.frame.t_s, faces=reading.faces if e.present else 0, switched=reading.switched,
        smile=e.smile, surprise=e.surprise, mouth_open=e.mouth_open, talking=e.talking,
        blink=max(e.blink_left, e.blink_right), yaw_deg=e.yaw_deg, pitch_deg=e.pitch_deg, roll_deg=e.roll_deg,
        face_x=e.face_x, face_y=e.face_y, face_size=e.face_size,
    )


def visitor_face(outcome: FrameOutcome) -> PortraitFace | None:
    """The primary face of a frame as a portrait, or None when its landmarks are missing or the face is cut."""
    landmarks = outcome.reading.primary.landmarks
    if landmarks is None:
        return None
    bgr = outcome.frame.bgr
    height, width = bgr.shape[:2]
    # The reading's landmarks are normalised; depth is on the width's scale, as MediaPipe gives it.
    points = np.asarray(landmarks, dtype=np.float64) * (width, height, width)
    if portrait_problem(points, width, height) is not None:
        return None
    return frame_face(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), points, source="camera")


class SelfPortrait:
    """Feeds a PortraitRenderer the visitor's face once it has been calm for a second.

    `renderer` needs `use_face(model | face | None)`; `base_face` is the portrait a visitor is blended
    into (and shown until one is taken); `emit(t_s, event)` logs what happened.
    """

    def __init__(self, renderer, base_face: PortraitFace, settings: SelfPortraitSettings, emit):
        self.renderer = renderer
        self.base_face = base_face
        self.settings = settings
        self._emit = emit
        self._finder = CalmSecondFinder(settings.rule)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="self-portrait") if settings.in_background else None
        self._pending: Future | None = None

    def offer(self, outcome: FrameOutcome) -> None:
        """One answered frame, in source-time order, in the thread that draws."""
        self._swap_in_if_built()
        verdict = self._finder.offer(moment_of(outcome))
        t_s = outcome.frame.t_s
        if verdict is Verdict.FORGET:
            self._drop()
            self._emit(t_s, PortraitFaceChanged(action="forgotten", similarity=self.settings.similarity))
        elif verdict is Verdict.CAPTURE:
            face = visitor_face(outcome)
            if face is None:  # no mesh, or the face runs off the frame: wait for a better calm second
                self._finder.captured = False
                return
            self._emit(t_s, PortraitFaceChanged(action="captured", similarity=self.settings.similarity))
            if self._executor is None:
                self.renderer.use_face(self._model_of(face))
            else:
                self._pending = self._executor.submit(self._model_of, face)

    def _model_of(self, visitor: PortraitFace):
        from avatar.portrait import PortraitModel

        s = self.settings.similarity
        face = visitor if s >= 1.0 else blend_faces(self.base_face, visitor, s)
        return PortraitModel.from_face(face)

    def _swap_in_if_built(self) -> None:
        if self._pending is not None and self._pending.done():
            pending, self._pending = self._pending, None
            if not pending.cancelled() and pending.exception() is None:
                self.renderer.use_face(pending.result())

    def _drop(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self.renderer.use_face(None)

    def close(self) -> None:
        """The run ended: the visitor's face goes with it."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._pending = None
        self.renderer.use_face(None)


def portrait_spec_for(avatar: str | None, similarity: float | None) -> tuple[str, SelfPortraitSettings] | None:
    """The portrait to show and how the visitor's face joins it, or None when the run shows no visitor's face.

    `portrait:self` shows the bundled portrait until a calm visitor is seen, then the visitor;
    `--self-similarity S` blends the visitor into `--avatar portrait[:PATH]` (the bundled one if none is given).
    """
    if similarity is None:
        return ("portrait", SelfPortraitSettings(similarity=1.0)) if avatar == SELF_SPEC else None
    if avatar == SELF_SPEC:
        raise ConfigError("--self-similarity blends a visitor into a portrait; portrait:self is the visitor already (S = 1)")
    if avatar is None:
        avatar = "portrait"
    from avatar.portrait import is_portrait_spec

    if not is_portrait_spec(avatar):
        raise ConfigError(f"--self-similarity blends a visitor into a photo: it needs --avatar portrait or portrait:PATH, not {avatar}")
    return avatar, SelfPortraitSettings(similarity=similarity)
