"""What one `bench` run found: a frozen BenchResult, its budgets, and the one JSON object it prints.

Part of the benchmark (avatar/bench). Every budget is a ratio against the bare loop measured in the
same run (docs/performance.md), so the ratios and pass/fail are
derived from the result's own numbers, never stored beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from avatar.bench.clip import ClipInfo
from avatar.bench.processes import ProcessSummary
from avatar.bench.stats import ratio

# Ratios against the bare loop. Each is checked from the same JSON object.
PERCEPTION_OVER_BARE_MAX = 1.1  # a frame's perception (convert + face model + channels) vs a bare iteration
PIPELINE_OVER_BARE_MIN = 0.95  # the whole pipeline's frames per second vs the bare loop's
LATENCY_OVER_BARE_MAX_MS = 25.0  # capture to avatar, beyond a bare iteration
RENDER_FPS_1080P_MIN = 60.0  # the slowest style at 1920x1080, headless
RENDER_FPS_1080P_PORTRAIT_MIN = 60.0  # the portrait avatar (a warped photo) at 1920x1080, headless
PORTRAIT_RENDER_OVER_BARE_MAX = 0.5  # a portrait frame's drawing time vs a bare face-model iteration
RSS_MB_MAX = 400.0  # a whole run.py process


class Op(Enum):
    AT_MOST = "<="
    AT_LEAST = ">="


@dataclass(frozen=True)
class Budget:
    value: float | None
    limit: float
    op: Op

    @property
    def passed(self) -> bool:
        if self.value is None:
            return False
        return self.value <= self.limit if self.op is Op.AT_MOST else self.value >= self.limit

    def to_json(self) -> dict:
        return {"value": self.value, "limit": self.limit, "op": self.op.value, "pass": self.passed}


@dataclass(frozen=True)
class Round:
    """One interleaved round: the bare loop and the pipeline, back to back on the same clip."""

    bare_fps: float
    pipeline_fps: float

    @property
    def ratio(self) -> float | None:
        return ratio(self.pipeline_fps, self.bare_fps)

    def to_json(self) -> dict:
        return {"bare_fps": self.bare_fps, "pipeline_fps": self.pipeline_fps, "ratio": self.ratio}


@dataclass(frozen=True)
class LatencyRun:
    fps: float
    frames: int
    realtime: bool = True


@dataclass(frozen=True)
class Soak:
    """The pipeline on a looping clip for `minutes`: RSS after the first frame, in the middle and at the end."""

    minutes: float
    frames: int
    fps: float
    rss_mb_start: float
    rss_mb_middle: float
    rss_mb_end: float
    rss_mb_samples: tuple[tuple[float, float], ...] = ()

    @property
    def rss_mb_growth(self) -> float:
        return round(self.rss_mb_end - self.rss_mb_start, 1)

    def to_json(self) -> dict:
        return {"minutes": self.minutes, "frames": self.frames, "fps": self.fps, "rss_mb_start": self.rss_mb_start,
                "rss_mb_middle": self.rss_mb_middle, "rss_mb_end": self.rss_mb_end, "rss_mb_growth": self.rss_mb_growth,
                "rss_mb_samples": [list(sample) for sample in self.rss_mb_samples]}

    @classmethod
    def from_json(cls, data: dict) -> Soak:
        return cls(data["minutes"], data["frames"], data["fps"], data["rss_mb_start"], data["rss_mb_middle"], data["rss_mb_end"],
                   tuple(tuple(sample) for sample in data["rss_mb_samples"]))


@dataclass(frozen=True)
class Ratios:
    perception_over_bare: float | None
    pipeline_fps_over_bare_fps: float | None
    latency_minus_bare_ms: float
    portrait_render_over_bare: float | None = None  # None in results from before the portrait


@dataclass(frozen=True)
class BenchResult:
    """Every number of one run. Times in ms, rates in frames per second, memory in MB."""

    perception_ms_p50: float
    perception_ms_p95: float
    pipeline_fps: float  # median of the rounds
    latency_ms_p50: float
    latency_ms_p95: float
    render_fps_1080p: float | None
    render_fps_720p: float | None
    rss_mb_peak: float  # a whole run.py process
    bare_ms_p50: float
    bare_ms_p95: float
    bare_fps: float  # median of the rounds
    render_fps_1080p_portrait: float | None = None  # None in results from before the portrait
    bare_num_faces: int = 1
    pipeline_num_faces: int = 2  # what FaceReader is asked to count
    bare_many_faces_ms_p50: float = 0.0  # the bare loop asked for pipeline_num_faces faces
    bare_many_faces_fps: float = 0.0
    cpu: str = ""
    cores: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    clip: ClipInfo = ClipInfo("", 0, 0, 0.0, 0)
    frames_per_run: int | None = None
    rounds: tuple[Round, ...] = ()
    latency_run: LatencyRun = LatencyRun(30.0, 0)
    render: dict[str, Any] = field(default_factory=dict)  # the renderer's own details (per style, rig mapping)
    startup_s: dict[str, Any] = field(default_factory=dict)
    process: ProcessSummary = ProcessSummary((), (), (), ())
    bench_rss_mb_peak: float = 0.0  # the benchmark's own process
    soak: Soak | None = None

    @property
    def ratios(self) -> Ratios:
        portrait_ms = 1000.0 / self.render_fps_1080p_portrait if self.render_fps_1080p_portrait else None
        return Ratios(ratio(self.perception_ms_p50, self.bare_ms_p50), ratio(self.pipeline_fps, self.bare_fps),
                      round(self.latency_ms_p50 - self.bare_ms_p50, 3),
                      ratio(portrait_ms, self.bare_ms_p50) if portrait_ms is not None else None)

    @property
    def budgets(self) -> dict[str, Budget]:
        return budgets(self)

    @property
    def budgets_pass(self) -> bool:
        return all(budget.passed for budget in self.budgets.values())

    def to_json(self) -> dict:
        """The one JSON object `bench --json` prints."""
        n = self.pipeline_num_faces
        r = self.ratios
        out: dict[str, Any] = {
            "perception_ms_p50": self.perception_ms_p50,
            "perception_ms_p95": self.perception_ms_p95,
            "pipeline_fps": self.pipeline_fps,
            "latency_ms_p50": self.latency_ms_p50,
            "latency_ms_p95": self.latency_ms_p95,
            "render_fps_1080p": self.render_fps_1080p,
            "render_fps_720p": self.render_fps_720p,
            "render_fps_1080p_portrait": self.render_fps_1080p_portrait,
            "rss_mb_peak": self.rss_mb_peak,
            "bare_ms_p50": self.bare_ms_p50,
            "bare_ms_p95": self.bare_ms_p95,
            "bare_fps": self.bare_fps,
            "bare_num_faces": self.bare_num_faces,
            "pipeline_num_faces": n,
            f"bare_num_faces{n}_ms_p50": self.bare_many_faces_ms_p50,
            f"bare_num_faces{n}_fps": self.bare_many_faces_fps,
            "ratios": {"perception_over_bare": r.perception_over_bare, "pipeline_fps_over_bare_fps": r.pipeline_fps_over_bare_fps,
                       "latency_minus_bare_ms": r.latency_minus_bare_ms, "portrait_render_over_bare": r.portrait_render_over_bare},
            "budgets": {name: budget.to_json() for name, budget in self.budgets.items()},
            "budgets_pass": self.budgets_pass,
            "cpu": self.cpu,
            "cores": self.cores,
            "versions": dict(self.versions),
            "clip": self.clip.to_json(),
            "frames_per_run": self.frames_per_run,
            "rounds": [round_.to_json() for round_ in self.rounds],
            "latency_run": {"fps": self.latency_run.fps, "frames": self.latency_run.frames, "realtime": self.latency_run.realtime},
            "render": dict(self.render),
            "startup_s": dict(self.startup_s),
            "process": self.process.to_json(),
            "bench_rss_mb_peak": self.bench_rss_mb_peak,
        }
        if self.soak is not None:
            out["soak"] = self.soak.to_json()
        return out

    @classmethod
    def from_json(cls, data: dict) -> BenchResult:
        """A result from its JSON object (the ratios and budgets in it are derived, so they are not read)."""
        n = data["pipeline_num_faces"]
        latency = data["latency_run"]
        return cls(
            **{name: data[name] for name in _NUMBERS},
            render_fps_1080p_portrait=data.get("render_fps_1080p_portrait"),  # absent from older results
            bare_num_faces=data["bare_num_faces"],
            pipeline_num_faces=n,
            bare_many_faces_ms_p50=data[f"bare_num_faces{n}_ms_p50"],
            bare_many_faces_fps=data[f"bare_num_faces{n}_fps"],
            cpu=data["cpu"],
            cores=data["cores"],
            versions=dict(data["versions"]),
            clip=ClipInfo.from_json(data["clip"]),
            frames_per_run=data["frames_per_run"],
            rounds=tuple(Round(r["bare_fps"], r["pipeline_fps"]) for r in data["rounds"]),
            latency_run=LatencyRun(latency["fps"], latency["frames"], latency["realtime"]),
            render=dict(data["render"]),
            startup_s=dict(data["startup_s"]),
            process=ProcessSummary.from_json(data["process"]),
            bench_rss_mb_peak=data["bench_rss_mb_peak"],
            soak=Soak.from_json(data["soak"]) if "soak" in data else None,
        )


_NUMBERS = ("perception_ms_p50", "perception_ms_p95", "pipeline_fps", "latency_ms_p50", "latency_ms_p95", "render_fps_1080p",
            "render_fps_720p", "rss_mb_peak", "bare_ms_p50", "bare_ms_p95", "bare_fps")


def budgets(result: BenchResult) -> dict[str, Budget]:
    """Each budget with its limit (from the same run's bare loop where it is a ratio) and the measured value."""
    out = {
        "perception_ms_p50": Budget(result.perception_ms_p50, round(PERCEPTION_OVER_BARE_MAX * result.bare_ms_p50, 3), Op.AT_MOST),
        "pipeline_fps": Budget(result.pipeline_fps, round(PIPELINE_OVER_BARE_MIN * result.bare_fps, 2), Op.AT_LEAST),
        "latency_ms_p50": Budget(result.latency_ms_p50, round(result.bare_ms_p50 + LATENCY_OVER_BARE_MAX_MS, 3), Op.AT_MOST),
        "render_fps_1080p": Budget(result.render_fps_1080p, RENDER_FPS_1080P_MIN, Op.AT_LEAST),
        "rss_mb_peak": Budget(result.rss_mb_peak, RSS_MB_MAX, Op.AT_MOST),
    }
    if result.render_fps_1080p_portrait is not None:  # an older result has no portrait: nothing to judge
        out["render_fps_1080p_portrait"] = Budget(result.render_fps_1080p_portrait, RENDER_FPS_1080P_PORTRAIT_MIN, Op.AT_LEAST)
        out["portrait_render_over_bare"] = Budget(result.ratios.portrait_render_over_bare, PORTRAIT_RENDER_OVER_BARE_MAX, Op.AT_MOST)
    return out
