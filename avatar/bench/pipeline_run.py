"""The real pipeline, timed: `run_mirror` as `run.py --headless --log-dir` runs it, with stages that time themselves.

Part of the benchmark (avatar/bench). Nothing is patched: the run gets a Pipeline subclass through
`run_mirror(..., pipeline_factory=...)` and a Mode whose hooks mark the run's start and end, tick the
progress bar and, for a soak, sample memory and end the run at a deadline.
"""

from __future__ import annotations

import csv
import functools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avatar.bench.result import Soak
from avatar.bench.stats import rss_mb_now
from avatar.expression import Expression, ExpressionReader
from avatar.face import ModelFile, ModelImage
from avatar.face_data import FaceReading
from avatar.mode import Mode, ModeContext
from avatar.outcome import Frame, FrameOutcome
from avatar.pipeline import Emit, Pipeline, PipelineSettings

SOAK_RSS_SAMPLES = 200  # RSS samples over a soak, whatever its length
SOAK_RSS_EVERY_MIN_S = 1.0


class PerceptionTimes:
    """Each frame's perception in seconds, by frame index: the sum of its three parts, each timed in the
    thread it runs in. Preparing the model's image (the decode thread), the face model (the model's
    thread) and the expression reading (the answering thread). Sized once: nothing grows per frame."""

    def __init__(self, frames: int):
        self.seconds = np.zeros(frames)
        self.answered = np.zeros(frames, dtype=bool)

    def add(self, index: int, seconds: float, answered: bool = False) -> None:
        if 0 <= index < len(self.seconds):  # the decode thread may prepare a few frames past the end
            self.seconds[index] += seconds
            if answered:
                self.answered[index] = True

    def per_frame_ms(self) -> np.ndarray:
        """Milliseconds of every frame that went through all three parts."""
        return self.seconds[self.answered] * 1000.0


class _TimedExpressionReader(ExpressionReader):
    def __init__(self, times: PerceptionTimes, calibrate_s: float, settings):
        super().__init__(calibrate_s, settings)
        self.times = times
        self.frame_index = -1  # the frame being answered (set by TimedPipeline.respond, in the same thread)

    def read(self, reading: FaceReading, t_s: float) -> Expression:
        t0 = time.perf_counter()
        expression = super().read(reading, t_s)
        self.times.add(self.frame_index, time.perf_counter() - t0, answered=True)
        return expression


class TimedPipeline(Pipeline):
    """The run's own Pipeline, each part of perceiving a frame timed where it runs (PerceptionTimes)."""

    def __init__(self, model: ModelFile, settings: PipelineSettings, emit: Emit, times: PerceptionTimes):
        super().__init__(model, settings, emit)
        self.times = times
        own = self.expression_reader
        self.expression_reader = _TimedExpressionReader(times, own.calibrate_s, own.settings)

    def prepare(self, frame: Frame) -> ModelImage:
        t0 = time.perf_counter()
        image = super().prepare(frame)
        self.times.add(frame.index, time.perf_counter() - t0)
        return image

    def perceive(self, frame: Frame, image: ModelImage | None = None) -> FaceReading:
        t0 = time.perf_counter()
        reading = super().perceive(frame, image)
        self.times.add(frame.index, time.perf_counter() - t0)
        return reading

    def respond(self, frame: Frame, reading: FaceReading) -> FrameOutcome:
        self.expression_reader.frame_index = frame.index
        return super().respond(frame, reading)


class BenchMode(Mode):
    """Marks the run's start and end, counts and ticks the progress bar; for a soak, samples RSS and
    ends the run at `deadline_perf` (time.perf_counter())."""

    name = "bench"

    def __init__(self, progress, deadline_perf: float | None = None, rss_every_s: float | None = None):
        self.progress = progress
        self.deadline_perf = deadline_perf
        self.rss_every_s = rss_every_s
        self.started = self.ended = 0.0
        self.frames = 0
        self.log_folder: Path | None = None
        self.rss_mb: list[tuple[float, float]] = []  # (seconds since start, MB): a few hundred at most
        self._next_rss = 0.0

    def on_start(self, context: ModeContext) -> None:
        self.log_folder = context.log_folder
        self.started = self._next_rss = time.perf_counter()

    def before_frame(self, context: ModeContext, frame: Frame) -> bool:
        return self.deadline_perf is None or time.perf_counter() < self.deadline_perf

    def after_frame(self, context: ModeContext, outcome: FrameOutcome) -> FrameOutcome:
        self.frames += 1
        self.progress.update(1)
        if self.rss_every_s is not None:
            now = time.perf_counter()
            if now >= self._next_rss:
                self.rss_mb.append((round(now - self.started, 1), round(rss_mb_now(), 1)))
                self._next_rss = now + self.rss_every_s
        return outcome

    def on_end(self, context: ModeContext, status, reason: str) -> dict:
        self.ended = time.perf_counter()
        return {}


@dataclass(frozen=True)
class PipelineRun:
    """One timed run of the pipeline: frames answered over the run's time, perception per frame, latency per row."""

    frames: int
    run_s: float
    perception_ms: np.ndarray = field(repr=False)
    latency_ms: np.ndarray = field(repr=False)
    rss_mb: tuple[tuple[float, float], ...] = field(default=(), repr=False)

    @property
    def fps(self) -> float:
        return self.frames / self.run_s if self.run_s > 0 else 0.0


def progress_bar(total: int | None, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="frame", file=sys.stderr, disable=not enabled, leave=False, mininterval=0.5)


def pipeline_run(clip: Path, log_dir: Path, model: str | None = None, max_frames: int | None = None, *,
                 clip_frames: int, realtime: bool = False, progress: bool = True, desc: str = "pipeline") -> PipelineRun:
    """Run the pipeline over `clip` as `run.py --headless --source CLIP --log-dir LOG_DIR` does, and time it.

    The run's time is from the mode's on_start (model loaded, logs open) to its on_end (every frame
    answered and logged); latency is read from the run's frames.csv, as a user would read it.
    """
    from avatar.app import RunSettings, run_mirror

    frames = min(max_frames, clip_frames) if max_frames is not None else clip_frames
    times = PerceptionTimes(frames)
    settings = RunSettings(source=str(clip), headless=True, log_dir=log_dir, model=model, realtime=realtime, max_frames=max_frames)
    with progress_bar(frames, desc, progress) as bar:
        mode = BenchMode(bar)
        code = run_mirror(settings, mode=mode, pipeline_factory=functools.partial(TimedPipeline, times=times))
    if code != 0:
        raise RuntimeError(f"the pipeline run on {clip} ended with exit code {code}")
    return PipelineRun(mode.frames, mode.ended - mode.started, times.per_frame_ms(), _latency_ms(mode.log_folder))


def _latency_ms(log_folder: Path | None) -> np.ndarray:
    if log_folder is None:
        return np.zeros(0)
    with open(log_folder / "frames.csv", newline="") as handle:
        return np.array([float(row["latency_ms"]) for row in csv.DictReader(handle) if row.get("latency_ms")])


def soak_run(clip: Path, log_dir: Path, minutes: float, model: str | None = None, progress: bool = True) -> Soak:
    """The plain pipeline (no timings kept: a soak looks for growth, so it keeps nothing per frame) on the
    looping clip, as fast as it goes, for `minutes`."""
    from avatar.app import RunSettings, run_mirror

    duration_s = minutes * 60.0
    settings = RunSettings(source=str(clip), headless=True, log_dir=log_dir, model=model, loop=True)
    with progress_bar(None, f"soak {minutes:g} min", progress) as bar:
        mode = BenchMode(bar, time.perf_counter() + duration_s, rss_every_s=max(SOAK_RSS_EVERY_MIN_S, duration_s / SOAK_RSS_SAMPLES))
        mode.rss_mb.append((0.0, round(rss_mb_now(), 1)))
        code = run_mirror(settings, mode=mode)
    if code != 0:
        raise RuntimeError(f"the soak on {clip} ended with exit code {code}")
    run_s = mode.ended - mode.started
    samples = [*mode.rss_mb, (round(run_s, 1), round(rss_mb_now(), 1))]
    start = samples[1][1] if len(samples) > 1 else samples[0][1]  # after the first frame: model and buffers loaded
    middle = min(samples, key=lambda s: abs(s[0] - run_s / 2))[1]
    step = max(1, len(samples) // 20)
    return Soak(minutes, mode.frames, round(mode.frames / run_s if run_s > 0 else 0.0, 2), start, middle, samples[-1][1],
                tuple(samples[::step]))
