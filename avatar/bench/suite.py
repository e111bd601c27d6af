"""The whole benchmark: interleaved rounds of the bare loop and the pipeline, then latency, render, memory, start-up.

Part of the benchmark (avatar/bench): runs the parts (bare_loop, pipeline_run, processes) in an order
that lets a busy machine slow both sides alike, and gathers their numbers into one BenchResult.
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar.bench.bare_loop import BARE_NUM_FACES, BareRun, bare_loop
from avatar.bench.clip import clip_info, made_from, make_bench_clip
from avatar.bench.pipeline_run import PipelineRun, pipeline_run, progress_bar, soak_run
from avatar.bench.processes import ProcessPair, ProcessSummary, process_pair, startup_numbers
from avatar.bench.result import BenchResult, LatencyRun, Round
from avatar.bench.stats import core_count, cpu_name, percentile, rss_mb_peak, versions

LATENCY_FPS = 30.0  # the --realtime pace of the latency run: the clip's own
LATENCY_MAX_FRAMES = 300  # 10 s at 30 fps: enough for a stable p95
RENDER_FRAMES = 120


@dataclass(frozen=True)
class BenchOptions:
    """What one `bench` run measures; `frames` None means the whole clip."""

    clip: Path | None = None
    frames: int | None = None
    repeats: int = 3
    soak_min: float = 0.0
    render_frames: int = RENDER_FRAMES
    progress: bool = True
    model: str | None = None


def render_numbers(frames: int = RENDER_FRAMES) -> dict:
    """render_fps_1080p and _720p (the slowest style), render_fps_1080p_portrait, and the renderers' details."""
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from avatar.render import render_benchmark

    pygame.display.init()
    pygame.font.init()
    from avatar.portrait import portrait_benchmark

    return {**render_benchmark(None, ((1920, 1080), (1280, 720)), frames), **portrait_benchmark((1920, 1080), frames)}


def run_bench(options: BenchOptions) -> BenchResult:
    """Measure everything; the result of `python -m avatar bench`."""
    from avatar.face import FaceReaderOptions, resolve_model

    model = resolve_model(options.model)
    rounds = max(1, options.repeats)
    bare_runs: list[BareRun] = []
    pipe_runs: list[PipelineRun] = []
    pairs: list[ProcessPair] = []
    with tempfile.TemporaryDirectory(prefix="avatar-bench-") as tmp:
        tmp = Path(tmp)
        clip = Path(options.clip) if options.clip else make_bench_clip(tmp)
        info = clip_info(clip, None if options.clip else made_from())
        frames = min(options.frames, info.frames) if options.frames and info.frames else options.frames or info.frames
        for i in range(rounds):
            # Interleaved, and the order flipped each round, so that a busy machine slows both alike.
            for step in ("bare", "pipeline") if i % 2 == 0 else ("pipeline", "bare"):
                if step == "bare":
                    with progress_bar(None, f"bare loop {i + 1}/{rounds}", options.progress) as bar:
                        bare_runs.append(bare_loop(clip, model.data, BARE_NUM_FACES, options.frames))
                        bar.update(bare_runs[-1].frames)
                else:
                    pipe_runs.append(pipeline_run(clip, tmp / f"logs-{i}", options.model, options.frames, clip_frames=info.frames,
                                                  progress=options.progress, desc=f"pipeline {i + 1}/{rounds}"))
            with progress_bar(None, f"whole processes {i + 1}/{rounds}", options.progress):
                pairs.append(process_pair(clip, tmp / f"proc-logs-{i}", options.frames, bare_first=i % 2 == 1))
        # What the pipeline's many-faces setting would cost the bare model (the issue asks for >= 2 faces).
        many = FaceReaderOptions().num_faces
        with progress_bar(None, f"bare loop, num_faces={many}", options.progress) as bar:
            bare_many = bare_loop(clip, model.data, many, options.frames)
            bar.update(bare_many.frames)
        latency_frames = min(frames or LATENCY_MAX_FRAMES, LATENCY_MAX_FRAMES)
        realtime = pipeline_run(clip, tmp / "logs-realtime", options.model, latency_frames, clip_frames=info.frames,
                                realtime=True, progress=options.progress, desc="latency (--realtime)")
        soak = soak_run(clip, tmp / "logs-soak", options.soak_min, options.model, options.progress) if options.soak_min > 0 else None
    render = render_numbers(options.render_frames)
    startup = startup_numbers()

    bare_ms = np.concatenate([run.frame_ms for run in bare_runs])
    perception_ms = np.concatenate([run.perception_ms for run in pipe_runs])
    process = ProcessSummary.of(pairs)
    return BenchResult(
        perception_ms_p50=round(percentile(perception_ms, 50), 3),
        perception_ms_p95=round(percentile(perception_ms, 95), 3),
        pipeline_fps=round(statistics.median(run.fps for run in pipe_runs), 2),
        latency_ms_p50=round(percentile(realtime.latency_ms, 50), 3),
        latency_ms_p95=round(percentile(realtime.latency_ms, 95), 3),
        render_fps_1080p=render.pop("render_fps_1080p", None),
        render_fps_720p=render.pop("render_fps_720p", None),
        render_fps_1080p_portrait=render.pop("render_fps_1080p_portrait", None),
        # Peak RSS of `run.py --headless --log-dir` over the clip, a process of its own, as users run it.
        rss_mb_peak=max((rss for rss in process.pipeline_rss_mb if rss is not None), default=round(rss_mb_peak(), 1)),
        bare_ms_p50=round(percentile(bare_ms, 50), 3),
        bare_ms_p95=round(percentile(bare_ms, 95), 3),
        bare_fps=round(statistics.median(run.fps for run in bare_runs), 2),
        bare_num_faces=BARE_NUM_FACES,
        pipeline_num_faces=many,
        bare_many_faces_ms_p50=round(percentile(bare_many.frame_ms, 50), 3),
        bare_many_faces_fps=round(bare_many.fps, 2),
        cpu=cpu_name(),
        cores=core_count(),
        versions=versions(),
        clip=info,
        frames_per_run=frames,
        rounds=tuple(Round(round(b.fps, 2), round(p.fps, 2)) for b, p in zip(bare_runs, pipe_runs, strict=True)),
        latency_run=LatencyRun(LATENCY_FPS, realtime.frames),
        render=render,
        startup_s=startup,
        process=process,
        bench_rss_mb_peak=round(rss_mb_peak(), 1),
        soak=soak,
    )
