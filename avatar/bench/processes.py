"""Whole processes: `run.py --headless --log-dir` against the bare loop's process, and start-up costs.

Part of the benchmark (avatar/bench). The shape of the held-out check: start-up, imports, model load,
the loop and exit all count. Runs alternate, so that a busy machine slows both alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROCESS_OVER_BARE_MAX = 1.3  # the held-out check: a whole run.py process vs a whole bare-loop process
_ENV = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}


@dataclass(frozen=True)
class TimedProcess:
    wall_s: float
    rss_mb_peak: float | None
    stdout: str


def pipeline_command(clip: Path, log_dir: Path, max_frames: int | None = None) -> list[str]:
    command = [sys.executable, str(ROOT / "run.py"), "--headless", "--source", str(clip), "--log-dir", str(log_dir)]
    return command + (["--max-frames", str(max_frames)] if max_frames is not None else [])


def bare_command(clip: Path, max_frames: int | None = None, num_faces: int | None = None) -> list[str]:
    command = [sys.executable, "-m", "avatar.bench.bare_loop", str(clip)]
    command += ["--max-frames", str(max_frames)] if max_frames is not None else []
    return command + (["--num-faces", str(num_faces)] if num_faces is not None else [])


def timed_process(command: list[str]) -> TimedProcess:
    """Wall time of a whole process (start-up, imports, model load, work, exit), its peak RSS in MB, its stdout.

    The peak is the child's VmHWM, polled: on Linux the rusage of a child counts the parent's
    memory from before its exec, so ru_maxrss would report the benchmark's own size.
    """
    peak_mb = None
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT, env={**os.environ, **_ENV})
        status = Path(f"/proc/{child.pid}/status")
        while child.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak_mb = int(line.split()[1]) / 1024.0
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} ended with exit code {child.returncode}")
    return TimedProcess(wall, round(peak_mb, 1) if peak_mb is not None else None, text)


@dataclass(frozen=True)
class ProcessPair:
    pipeline: TimedProcess
    bare: TimedProcess


def process_pair(clip: Path, log_dir: Path, max_frames: int | None = None, bare_first: bool = True) -> ProcessPair:
    """`run.py --headless --log-dir` and the bare loop's process over the same clip, one after the other."""
    runs: dict[str, TimedProcess] = {}
    for name in ("bare", "pipeline") if bare_first else ("pipeline", "bare"):
        command = bare_command(clip, max_frames) if name == "bare" else pipeline_command(clip, log_dir, max_frames)
        runs[name] = timed_process(command)
    return ProcessPair(runs["pipeline"], runs["bare"])


@dataclass(frozen=True)
class ProcessSummary:
    """Whole-process times of every round; the budget is on the ratio of their medians."""

    pipeline_wall_s: tuple[float, ...]
    pipeline_rss_mb: tuple[float | None, ...]
    bare_wall_s: tuple[float, ...]
    bare_rss_mb: tuple[float | None, ...]
    limit: float = PROCESS_OVER_BARE_MAX

    @classmethod
    def of(cls, pairs: list[ProcessPair]) -> ProcessSummary:
        return cls(tuple(round(p.pipeline.wall_s, 3) for p in pairs), tuple(p.pipeline.rss_mb_peak for p in pairs),
                   tuple(round(p.bare.wall_s, 3) for p in pairs), tuple(p.bare.rss_mb_peak for p in pairs))

    @property
    def ratio(self) -> float | None:
        if not self.pipeline_wall_s or not self.bare_wall_s:
            return None
        return round(statistics.median(self.pipeline_wall_s) / statistics.median(self.bare_wall_s), 3)

    @property
    def passed(self) -> bool:
        return self.ratio is not None and self.ratio <= self.limit

    def to_json(self) -> dict:
        return {"pipeline_wall_s": list(self.pipeline_wall_s), "pipeline_rss_mb": list(self.pipeline_rss_mb),
                "bare_wall_s": list(self.bare_wall_s), "bare_rss_mb": list(self.bare_rss_mb),
                "ratio": self.ratio, "limit": self.limit, "pass": self.passed}

    @classmethod
    def from_json(cls, data: dict) -> ProcessSummary:
        return cls(tuple(data["pipeline_wall_s"]), tuple(data["pipeline_rss_mb"]), tuple(data.get("bare_wall_s", ())),
                   tuple(data.get("bare_rss_mb", ())), data.get("limit", PROCESS_OVER_BARE_MAX))


def compare(clip: Path, repeats: int = 3, num_faces: int = 1, extra: list[str] | None = None) -> dict:
    """The bare loop's process vs `run.py --headless --log-dir [EXTRA]`, alternating, `repeats` rounds each."""
    bare_walls, pipe_walls, bare_runs = [], [], []
    with tempfile.TemporaryDirectory(prefix="bare-compare-") as tmp:
        pipe_cmd = pipeline_command(clip, Path(tmp)) + list(extra or [])
        for i in range(repeats):
            order = [("bare", bare_command(clip, num_faces=num_faces)), ("pipeline", pipe_cmd)]
            if i % 2:
                order.reverse()  # neither always goes first after the other warmed the page cache
            for name, command in order:
                run = timed_process(command)
                if name == "bare":
                    bare_walls.append(run.wall_s)
                    bare_runs.append(json.loads(run.stdout))
                else:
                    pipe_walls.append(run.wall_s)
            print(f"round {i + 1}/{repeats}: bare {bare_walls[-1]:.2f} s, pipeline {pipe_walls[-1]:.2f} s", file=sys.stderr)
        sessions = sorted(p for p in Path(tmp).iterdir() if p.is_dir())
        logged = None
        if sessions:
            with open(sessions[-1] / "frames.csv") as handle:
                logged = sum(1 for _ in handle) - 1
    bare_s, pipe_s = statistics.median(bare_walls), statistics.median(pipe_walls)
    return {
        "clip": str(clip),
        "frames": bare_runs[-1]["frames"],
        "pipeline_frames_logged": logged,
        "bare_num_faces": num_faces,
        "bare_wall_s": [round(x, 3) for x in bare_walls],
        "pipeline_wall_s": [round(x, 3) for x in pipe_walls],
        "bare_wall_s_median": round(bare_s, 3),
        "pipeline_wall_s_median": round(pipe_s, 3),
        "ratio_median": round(pipe_s / bare_s, 3),
        "ratio_per_round": [round(p / b, 3) for p, b in zip(pipe_walls, bare_walls, strict=True)],
        "bare_loop_fps_median": round(statistics.median(r["bare_fps"] for r in bare_runs), 2),
        "bare_import_s_median": round(statistics.median(r["import_s"] for r in bare_runs), 3),
        "bare_model_load_s_median": round(statistics.median(r["model_load_s"] for r in bare_runs), 3),
        "budget_ratio": PROCESS_OVER_BARE_MAX,
        "pass": pipe_s / bare_s <= PROCESS_OVER_BARE_MAX,
    }


STARTUP_PROBE = """
import json, os, sys, time
os.environ.setdefault("SDL_VIDEODRIVER", "dummy"); os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, sys.argv[1])
out = {}
def step(name, fn):
    t0 = time.perf_counter(); value = fn(); out[name] = round(time.perf_counter() - t0, 3); return value
step("import_numpy", lambda: __import__("numpy"))
step("import_cv2", lambda: __import__("cv2"))
step("import_mediapipe", lambda: __import__("mediapipe.tasks.python.vision"))
step("import_pygame", lambda: __import__("pygame"))
step("import_avatar", lambda: [__import__(m) for m in ("avatar.arguments", "avatar.app", "avatar.render", "avatar.modes")])
from avatar.face import FaceReader, resolve_model
model = step("model_resolve", resolve_model)
reader = step("model_load", lambda: FaceReader(model=model))
reader.close()
print(json.dumps(out))
"""


def startup_numbers() -> dict[str, float | str]:
    """Start-up costs in a fresh interpreter: imports, then finding and loading the model ({"error": ...} if it failed)."""
    env = {**os.environ, "GLOG_minloglevel": "2"}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", STARTUP_PROBE, str(ROOT)], capture_output=True, text=True, env=env, timeout=120)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    numbers = json.loads(done.stdout.strip().splitlines()[-1])
    numbers["process_s"] = round(wall, 3)
    return numbers
