"""The bare MediaPipe loop: the yardstick every pipeline number is a ratio of.

Part of the benchmark (avatar/bench), and the only module besides avatar/face.py that imports
mediapipe. It is the loop MediaPipe's documentation leads to, nothing more: read a frame with cv2,
convert it to RGB, `detect_for_video` in VIDEO mode with blendshapes, serially. Run as a process
of its own (`python -m avatar.bench.bare_loop CLIP`, or tools/bare_loop.py) it is also the whole
program the pipeline's process is compared with: it imports only cv2, mediapipe and this package.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avatar.bench.stats import percentile

# MediaPipe's own default, and so what a loop written from its documentation asks for.
BARE_NUM_FACES = 1


@dataclass(frozen=True)
class BareRun:
    """One pass of the bare loop over a clip. `frame_ms` is one whole iteration per frame: read, convert, detect."""

    frames: int
    loop_s: float  # from opening the clip to the last frame's result
    frame_ms: np.ndarray = field(repr=False)
    faces_seen: int = 0  # faces summed over frames: proof that the model really ran
    load_s: float = 0.0  # making the landmarker, before the loop
    num_faces: int = BARE_NUM_FACES

    @property
    def fps(self) -> float:
        return self.frames / self.loop_s if self.loop_s > 0 else 0.0


def bare_loop(clip: Path | str, model_data: bytes, num_faces: int = BARE_NUM_FACES, max_frames: int | None = None) -> BareRun:
    """Run the bare loop over `clip` (at most `max_frames` frames); the landmarker is made before timing."""
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from avatar.face import quiet_native_stderr

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=model_data),
        running_mode=vision.RunningMode.VIDEO,
        num_faces=num_faces,
        output_face_blendshapes=True,
    )
    t_load = time.perf_counter()
    with quiet_native_stderr():  # its set-up chatter on fd 2, as the pipeline's model is silenced
        landmarker = vision.FaceLandmarker.create_from_options(options)
    load_s = time.perf_counter() - t_load
    try:
        t_start = time.perf_counter()
        capture = cv2.VideoCapture(str(clip))
        fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
        frame_ms: list[float] = []
        faces = index = 0
        while max_frames is None or index < max_frames:
            t0 = time.perf_counter()
            ok, bgr = capture.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            if index == 0:
                with quiet_native_stderr():  # the first inference logs its delegate set-up on fd 2
                    result = landmarker.detect_for_video(image, 0)
            else:
                result = landmarker.detect_for_video(image, int(index * 1000 / fps))
            faces += len(result.face_landmarks)
            frame_ms.append((time.perf_counter() - t0) * 1000.0)
            index += 1
        loop_s = time.perf_counter() - t_start
        capture.release()
    finally:
        with quiet_native_stderr():
            landmarker.close()
    return BareRun(index, loop_s, np.asarray(frame_ms), faces, load_s, num_faces)


def packaged_model_bytes() -> bytes:
    """The model avatar.face uses, read straight from its package (no hashing: the least a program does)."""
    import importlib.resources

    from avatar.face import MODEL_PACKAGE, MODEL_RESOURCE

    return importlib.resources.files(MODEL_PACKAGE).joinpath(*MODEL_RESOURCE).read_bytes()


def run_json(run: BareRun, import_s: float | None = None) -> dict:
    """One bare run as the one JSON line its process prints."""
    out = {
        "frames": run.frames,
        "faces_seen": run.faces_seen,
        "loop_s": round(run.loop_s, 4),
        "bare_fps": round(run.fps, 2),
        "bare_ms_p50": round(percentile(run.frame_ms, 50), 3),
        "bare_ms_p95": round(percentile(run.frame_ms, 95), 3),
        "model_load_s": round(run.load_s, 3),
        "num_faces": run.num_faces,
    }
    if import_s is not None:
        out["import_s"] = round(import_s, 3)
    return out


def main(argv: list[str] | None = None) -> int:
    """The bare loop as a process: one JSON line; or a 20 s clip to run it on; or bare vs run.py, whole processes."""
    t_start = time.perf_counter()
    parser = argparse.ArgumentParser(prog="python -m avatar.bench.bare_loop", description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", nargs="?", help="a video file")
    parser.add_argument("--model", help="face_landmarker.task (default: the packaged one avatar uses)")
    parser.add_argument("--num-faces", type=int, default=BARE_NUM_FACES, help="faces the bare loop looks for (MediaPipe's default: 1)")
    parser.add_argument("--max-frames", type=int)
    parser.add_argument("--compare", action="store_true", help="time bare vs run.py --headless --log-dir, whole processes, interleaved")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of --compare (default 3)")
    parser.add_argument("--make-clip", type=Path, metavar="OUT", help="write a 640x360 clip from the demo and exit")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of --make-clip (default 20)")
    args, extra = parser.parse_known_args(argv)
    if args.make_clip:
        from avatar.bench.clip import make_bench_clip

        print(make_bench_clip(args.make_clip, seconds=args.seconds))
        return 0
    if not args.clip:
        parser.error("give a clip (or --make-clip OUT)")
    if args.compare:
        from avatar.bench.processes import compare

        print(json.dumps(compare(Path(args.clip), args.repeats, args.num_faces, extra), indent=2))
        return 0
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    os.environ.setdefault("GLOG_minloglevel", "2")
    import cv2  # noqa: F401  (imported here, before the clock for the imports stops)
    import mediapipe  # noqa: F401

    import_s = time.perf_counter() - t_start
    data = Path(args.model).read_bytes() if args.model else packaged_model_bytes()
    print(json.dumps(run_json(bare_loop(args.clip, data, args.num_faces, args.max_frames), import_s)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
