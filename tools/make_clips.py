"""Build the demo clip and the test fixtures from one public-domain photo.

    python tools/make_clips.py            # write every clip, then verify it with MediaPipe
    python tools/make_clips.py --no-verify

Every clip is the NASA portrait in assets/media/astronaut.png, warped frame by frame with
tools/warp.py along a known expression timeline, so tests can compare what the pipeline
reads with what was put in. Each clip gets a `<clip>.timeline.json` sidecar.

Measured with the real face model when last built (VIDEO mode over the written mp4s,
median over each phase's hold; mean of the Left/Right blendshapes):

    pose      mouthSmile  browDown  eyeSquint  eyeBlink
    neutral   0.00-0.01   0.01      0.06       0.00
    smile     0.95        0.04      0.27-0.32  0.03-0.05
    wince     0.01        0.38      0.65       0.15

Stills (IMAGE mode): surprise browInnerUp 0.49, browOuterUp 0.57, eyeWide 0.39, jawOpen 0.31;
anger browDown 0.20, eyeSquint 0.55. Rerun to see the current values.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make `avatar` and `tools` importable
from avatar.face import Blendshape as B  # noqa: E402
from avatar.face import FaceReader, FaceReaderOptions, RunningMode  # noqa: E402
from tools.warp import FaceWarper, expression_displacements  # noqa: E402

SOURCE = ROOT / "assets" / "media" / "astronaut.png"
FPS = 30
SIZE = 384
# A head-and-shoulders crop of the 512x512 portrait, as a webcam would frame it: the face
# is about a third of the frame width.
CROP = (slice(0, 288), slice(80, 368))
TRANSITION_S = 0.2  # the shortest change of expression; longer gaps in a timeline ease over the whole gap

FIXTURES = ROOT / "tests" / "fixtures"
STILL_LABELS = {"neutral": "neutral", "smile": "happy", "wince": "pain", "surprise": "surprise", "anger": "anger"}


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    pose: str
    intensity: float = 1.0


def pose_weights_at(t: float, timeline: list[Segment]) -> dict[str, float]:
    """The pose blend at time t: a segment holds its pose; between two segments the face
    eases from one to the other along a half cosine (no kink at either end)."""
    for i, seg in enumerate(timeline):
        if seg.start_s <= t <= seg.end_s:
            # An abutting neighbour still gets a short transition, centred on the boundary.
            prev = timeline[i - 1] if i > 0 else None
            nxt = timeline[i + 1] if i + 1 < len(timeline) else None
            half = TRANSITION_S / 2
            if prev is not None and seg.start_s - prev.end_s < TRANSITION_S and t < seg.start_s + half:
                mid = (prev.end_s + seg.start_s) / 2
                return _blend(prev, seg, (t - (mid - half)) / TRANSITION_S)
            if nxt is not None and nxt.start_s - seg.end_s < TRANSITION_S and t > seg.end_s - half:
                mid = (seg.end_s + nxt.start_s) / 2
                return _blend(seg, nxt, (t - (mid - half)) / TRANSITION_S)
            return {seg.pose: seg.intensity}
    for a, b in zip(timeline, timeline[1:], strict=False):
        if a.end_s < t < b.start_s:
            return _blend(a, b, (t - a.end_s) / (b.start_s - a.end_s))
    edge = timeline[0] if t < timeline[0].start_s else timeline[-1]
    return {edge.pose: edge.intensity}


def _blend(a: Segment, b: Segment, s: float) -> dict[str, float]:
    s = 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, s)))
    weights: dict[str, float] = {}
    weights[a.pose] = weights.get(a.pose, 0.0) + a.intensity * (1 - s)
    weights[b.pose] = weights.get(b.pose, 0.0) + b.intensity * s
    return weights


def sway(t: float, seed: int) -> tuple[float, float, float]:
    """A small, never-repeating head sway: (dx px, dy px, roll degrees). Incommensurate
    sines, so the face is never perfectly still, as a real webcam face is not."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * math.pi, 3)
    dx = 1.2 * math.sin(2 * math.pi * 0.23 * t + phase[0])
    dy = 0.8 * math.sin(2 * math.pi * 0.31 * t + phase[1])
    roll = 0.8 * math.sin(2 * math.pi * 0.17 * t + phase[2])
    return dx, dy, roll


class ClipMaker:
    def __init__(self):
        photo = cv2.imread(str(SOURCE))
        if photo is None:
            raise SystemExit(f"cannot read {SOURCE}")
        self.photo = photo
        self.base = cv2.resize(photo[CROP], (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
        with FaceReader(FaceReaderOptions(running_mode=RunningMode.IMAGE, keep_landmarks=True)) as reader:
            face = reader.read(cv2.cvtColor(self.base, cv2.COLOR_BGR2RGB)).primary
        if face is None:
            raise SystemExit("no face found in the source photo")
        self.landmarks = face.landmarks[:, :2] * np.array([SIZE, SIZE])
        self.warper = FaceWarper(self.base.shape, self.landmarks)
        self.centre = self.landmarks[:468].mean(axis=0)

    def frame(self, weights: dict[str, float], motion: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> np.ndarray:
        pose = expression_displacements(self.landmarks, weights, self.warper.frame)
        # Fill the whole face first, then move it rigidly: pinning every landmark to the
        # sway alone would undo the harmonic fill of the pose.
        dense = self.warper.dense_displacements(pose)[:468]
        dx, dy, roll = motion
        c, s = math.cos(math.radians(roll)), math.sin(math.radians(roll))
        moved = self.landmarks[:468] + dense - self.centre
        rigid = moved @ np.array([[c, s], [-s, c]]) + self.centre + (dx, dy) - (self.landmarks[:468] + dense)
        total = dense + rigid
        return self.warper.warp(self.base, {i: total[i] for i in range(468)})

    def write_face_clip(self, path: Path, timeline: list[Segment], duration_s: float, seed: int) -> None:
        frames = int(round(duration_s * FPS))
        writer = _writer(path)
        for n in range(frames):
            t = n / FPS
            writer.write(self.frame(pose_weights_at(t, timeline), sway(t, seed)))
        writer.release()
        _write_timeline(path, timeline, frames, faces=1)

    def write_no_face_clip(self, path: Path, duration_s: float) -> None:
        # The studio backdrop and the shuttle model beside her, blurred and slowly panned:
        # real camera texture with nothing face-like in it.
        backdrop = cv2.GaussianBlur(self.photo[0:220, 292:512], (0, 0), 3)
        frames = int(round(duration_s * FPS))
        writer = _writer(path)
        for n in range(frames):
            shift = 10 * n / max(1, frames - 1)
            m = np.float32([[SIZE / 200, 0, -shift * SIZE / 200], [0, SIZE / 200, 0]])
            writer.write(cv2.warpAffine(backdrop, m, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT))
        writer.release()
        _write_timeline(path, [], frames, faces=0)


def _writer(path: Path) -> cv2.VideoWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (SIZE, SIZE))
    if not writer.isOpened():
        raise SystemExit(f"cannot open a video writer for {path}")
    return writer


def _write_timeline(path: Path, timeline: list[Segment], frames: int, faces: int) -> None:
    sidecar = path.with_name(path.stem + ".timeline.json")
    data = {
        "source": "assets/media/astronaut.png",
        "made_by": "tools/make_clips.py",
        "fps": FPS,
        "frames": frames,
        "duration_s": frames / FPS,
        "size": [SIZE, SIZE],
        "faces": faces,
        "transition": f"half-cosine ease across each gap between segments (at least {TRANSITION_S} s)",
        "segments": [{"start_s": s.start_s, "end_s": s.end_s, "pose": s.pose, "intensity": s.intensity} for s in timeline],
    }
    sidecar.write_text(json.dumps(data, indent=2) + "\n")


def on_off_timeline(duration_s: float, seed: int) -> list[Segment]:
    """Smiles on and off at irregular, seeded intervals, starting and ending neutral."""
    rng = np.random.default_rng(seed)
    segments, t, smiling = [], 0.0, False
    while True:
        end = t + (rng.uniform(0.8, 2.5) if smiling else rng.uniform(1.0, 3.0))
        if end > duration_s - 2.0:
            break
        segments.append(Segment(round(t, 2), round(end, 2), "smile" if smiling else "neutral"))
        t = end + rng.uniform(0.2, 0.4)
        smiling = not smiling
    # Close on a neutral hold rather than a smile cut off by the end of the clip.
    if smiling:
        last = segments.pop()
        segments.append(Segment(last.start_s, duration_s, "neutral"))
    else:
        segments.append(Segment(round(t, 2), duration_s, "neutral"))
    return segments


CLIPS: dict[str, tuple[list[Segment], float]] = {
    "assets/demo.mp4": (
        [
            Segment(0.0, 2.0, "neutral"),
            Segment(2.5, 5.0, "smile"),
            Segment(5.5, 7.0, "neutral"),
            Segment(7.5, 10.0, "wince"),
            Segment(10.5, 12.0, "neutral"),
        ],
        12.0,
    ),
    "tests/fixtures/smile_onset.mp4": ([Segment(0.0, 0.6, "neutral"), Segment(0.8, 4.0, "smile")], 4.0),
    "tests/fixtures/smile_on_off.mp4": (on_off_timeline(20.0, seed=7), 20.0),
    "tests/fixtures/wince.mp4": (
        [Segment(0.0, 0.8, "neutral"), Segment(1.1, 2.0, "wince"), Segment(2.3, 3.0, "neutral")],
        3.0,
    ),
}
NO_FACE = "tests/fixtures/no_face.mp4"


# --- Verification with the real model -------------------------------------------------------


def read_clip(path: Path) -> list[tuple[float, object]]:
    """(t, FaceReading) for every frame, VIDEO mode, timestamps from frame index / fps."""
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or FPS
    readings = []
    with FaceReader(FaceReaderOptions(running_mode=RunningMode.VIDEO)) as reader:
        n = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            t = n / fps
            readings.append((t, reader.read(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t)))
            n += 1
    capture.release()
    return readings


def _channels(face) -> dict[str, float]:
    b = face.blendshapes
    return {
        "mouthSmile": float((b[B.mouthSmileLeft] + b[B.mouthSmileRight]) / 2),
        "browDown": float((b[B.browDownLeft] + b[B.browDownRight]) / 2),
        "eyeSquint": float((b[B.eyeSquintLeft] + b[B.eyeSquintRight]) / 2),
        "eyeBlink": float((b[B.eyeBlinkLeft] + b[B.eyeBlinkRight]) / 2),
    }


def verify(path: Path, timeline: list[Segment], expect_faces: int) -> list[str]:
    """Print per-phase medians; return the problems found (empty if the clip is good)."""
    readings = read_clip(path)
    problems = []
    counts = [r.faces for _, r in readings]
    size_mb = path.stat().st_size / 1e6
    print(f"\n{path.relative_to(ROOT)}: {len(readings)} frames, {size_mb:.2f} MB, faces per frame {min(counts)}..{max(counts)}")
    if size_mb > 4.0:
        problems.append(f"{path.name}: {size_mb:.2f} MB is over 4 MB")
    if any(c != expect_faces for c in counts):
        bad = sum(c != expect_faces for c in counts)
        problems.append(f"{path.name}: {bad} frames without exactly {expect_faces} face(s)")
    if expect_faces == 0:
        return problems
    print(f"  {'phase':22s} {'mouthSmile':>10s} {'browDown':>9s} {'eyeSquint':>9s} {'eyeBlink':>9s}")
    for seg in timeline:
        # The hold only: skip the first and last 0.1 s, where the face is still easing.
        rows = [_channels(r.primary) for t, r in readings if seg.start_s + 0.1 <= t <= seg.end_s - 0.1 and r.primary]
        if not rows:
            continue
        med = {k: float(np.median([row[k] for row in rows])) for k in rows[0]}
        print(
            f"  {seg.pose:8s} {seg.start_s:5.2f}-{seg.end_s:5.2f}s  {med['mouthSmile']:10.2f} {med['browDown']:9.2f}"
            f" {med['eyeSquint']:9.2f} {med['eyeBlink']:9.2f}"
        )
        if seg.pose == "neutral" and med["mouthSmile"] >= 0.2:
            problems.append(f"{path.name} {seg}: neutral mouthSmile {med['mouthSmile']:.2f}")
        if seg.pose == "smile" and med["mouthSmile"] <= 0.7:
            problems.append(f"{path.name} {seg}: smile mouthSmile {med['mouthSmile']:.2f}")
        if seg.pose == "wince" and not (med["browDown"] > 0.3 and med["eyeSquint"] > 0.4 and med["mouthSmile"] < 0.15):
            problems.append(f"{path.name} {seg}: wince {med}")
    if path.name == "smile_onset.mp4":
        before = [_channels(r.primary)["mouthSmile"] for t, r in readings if t < 0.5 and r.primary]
        after = [_channels(r.primary)["mouthSmile"] for t, r in readings if t > 1.0 and r.primary]
        print(f"  smile_onset: max before 0.5 s {max(before):.2f}, median after 1.0 s {np.median(after):.2f}")
        if max(before) >= 0.2 or np.median(after) <= 0.7:
            problems.append("smile_onset.mp4: onset targets missed")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-verify", action="store_true", help="write the clips without reading them back")
    args = parser.parse_args(argv)

    maker = ClipMaker()
    for seed, (name, (timeline, duration)) in enumerate(CLIPS.items()):
        maker.write_face_clip(ROOT / name, timeline, duration, seed)
    maker.write_no_face_clip(ROOT / NO_FACE, 2.0)

    faces_dir = FIXTURES / "faces"
    faces_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for pose, label in STILL_LABELS.items():
        cv2.imwrite(str(faces_dir / f"{pose}.png"), maker.frame({pose: 1.0}))
        rows.append({"path": f"{pose}.png", "label": label})
    with open(faces_dir / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "label"])
        writer.writeheader()
        writer.writerows(rows)

    if args.no_verify:
        return 0
    problems = []
    for name, (timeline, _) in CLIPS.items():
        problems += verify(ROOT / name, timeline, expect_faces=1)
    problems += verify(ROOT / NO_FACE, [], expect_faces=0)
    print("\nstills (IMAGE mode):")
    with FaceReader(FaceReaderOptions(running_mode=RunningMode.IMAGE)) as reader:
        for pose in STILL_LABELS:
            reading = reader.read(cv2.cvtColor(cv2.imread(str(faces_dir / f"{pose}.png")), cv2.COLOR_BGR2RGB))
            ch = _channels(reading.primary) if reading.primary else {}
            print(f"  {pose:9s} faces={reading.faces} " + " ".join(f"{k}={v:.2f}" for k, v in ch.items()))
    print("\nall targets met" if not problems else "\nPROBLEMS:\n  " + "\n  ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
