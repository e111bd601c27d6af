"""A BenchResult as a healthy run gives it, for tests to change one number of."""

from __future__ import annotations

import dataclasses

from avatar.bench import BenchResult
from avatar.bench.clip import ClipInfo
from avatar.bench.processes import ProcessSummary
from avatar.bench.result import LatencyRun, Round


def measured(**changes) -> BenchResult:
    """A result as a healthy run on a 2-core machine gives it."""
    result = BenchResult(
        perception_ms_p50=8.9, perception_ms_p95=10.2, pipeline_fps=111.0, latency_ms_p50=9.5, latency_ms_p95=11.0,
        render_fps_1080p=480.0, render_fps_720p=680.0, rss_mb_peak=245.0, bare_ms_p50=9.6, bare_ms_p95=11.4, bare_fps=100.0,
        bare_many_faces_ms_p50=10.8, bare_many_faces_fps=90.0, cpu="AMD EPYC", cores=2,
        versions={"mediapipe": "1.2.3", "opencv": "5.1.0", "pygame": "2.6.1"},
        clip=ClipInfo("/tmp/bench-640x360.mp4", 640, 360, 30.0, 360, "assets/demo.mp4, letterboxed to 640x360"),
        frames_per_run=360, rounds=(Round(100.0, 111.0), Round(98.5, 109.0), Round(101.0, 112.5)),
        latency_run=LatencyRun(30.0, 300), render={"rig_map_us": 7.5, "per_style": {"line": {"1920x1080": 480.0}}},
        startup_s={"import_mediapipe": 0.5, "model_load": 0.1},
        process=ProcessSummary((3.1, 3.0, 3.2), (245.0, 244.0, 246.0), (2.7, 2.6, 2.8), (190.0, 191.0, 190.5)),
        bench_rss_mb_peak=360.0,
    )
    return dataclasses.replace(result, **changes)
