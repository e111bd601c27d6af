"""The clip the benchmark measures on: the shipped demo letterboxed to a webcam-like 640x360.

Part of the benchmark (avatar/bench). The demo (assets/demo.mp4) is a warp of a real photo; without
it, the astronaut photo drifting a few pixels, so that tracking still has work to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH_SIZE = (640, 360)  # the reference clip size: a webcam-like 16:9 frame
STILL_FRAMES = 300  # without the demo: 10 s of the drifting photo at 30 fps


@dataclass(frozen=True)
class ClipInfo:
    """What a clip's header says, and where it came from (None: given with --clip)."""

    path: str
    width: int
    height: int
    fps: float
    frames: int
    made_from: str | None = None

    def to_json(self) -> dict:
        return {"path": self.path, "size": [self.width, self.height], "fps": self.fps, "frames": self.frames,
                "made_from": self.made_from}

    @classmethod
    def from_json(cls, data: dict) -> ClipInfo:
        return cls(data["path"], data["size"][0], data["size"][1], data["fps"], data["frames"], data.get("made_from"))


def _letterbox(bgr, size: tuple[int, int]):
    """Scale `bgr` to fit inside `size`; pad the rest with its edge pixels (no hard border to detect)."""
    import cv2

    w, h = size
    scale = min(w / bgr.shape[1], h / bgr.shape[0])
    inner = cv2.resize(bgr, (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    top, left = (h - inner.shape[0]) // 2, (w - inner.shape[1]) // 2
    return cv2.copyMakeBorder(inner, top, h - inner.shape[0] - top, left, w - inner.shape[1] - left, cv2.BORDER_REPLICATE)


def made_from(size: tuple[int, int] = BENCH_SIZE) -> str:
    from avatar.sources import DEMO_CLIP

    what = "assets/demo.mp4" if DEMO_CLIP.is_file() else "assets/media/astronaut.png, drifting"
    return f"{what}, letterboxed to {size[0]}x{size[1]}"


def make_bench_clip(out: Path, size: tuple[int, int] = BENCH_SIZE, seconds: float | None = None) -> Path:
    """Write the benchmark's clip to `out` (a folder: bench-WxH.mp4 in it); `seconds` loops it to that length."""
    import cv2
    import numpy as np

    from avatar.sources import ASSETS, DEMO_CLIP, read_image

    out = Path(out)
    if out.is_dir():
        out = out / f"bench-{size[0]}x{size[1]}.mp4"
    frames = []
    fps = 30.0
    if DEMO_CLIP.is_file():
        capture = cv2.VideoCapture(str(DEMO_CLIP))
        fps = capture.get(cv2.CAP_PROP_FPS) or fps
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(_letterbox(bgr, size))
        capture.release()
    if not frames:
        still = _letterbox(read_image(ASSETS / "media" / "astronaut.png"), size)
        for i in range(STILL_FRAMES):
            shift = np.float32([[1, 0, 6 * np.sin(i / 11.0)], [0, 1, 4 * np.sin(i / 7.0)]])
            frames.append(cv2.warpAffine(still, shift, size, borderMode=cv2.BORDER_REPLICATE))
    count = len(frames) if seconds is None else int(round(seconds * fps))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(count):
        writer.write(frames[i % len(frames)])
    writer.release()
    return out


def clip_info(path: Path, made_from: str | None = None) -> ClipInfo:
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        return ClipInfo(str(path), int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                        round(capture.get(cv2.CAP_PROP_FPS) or 0.0, 3), int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0),
                        made_from)
    finally:
        capture.release()
