"""One video of a batch, as a Dask worker runs it: the live run's own code path (app.run_mirror, headless)
into a private temporary folder, renamed into place only when the session finished whole.

Runs in worker processes (avatar/batch.py ships `run_video` and a `VideoJob`; nothing of MediaPipe is
pickled). Each video gets a landmarker of its own, created in the worker: MediaPipe's VIDEO mode tracks
from frame to frame, and a landmarker reused from another video gave different rows on every frame
(docs/batch.md), so only what is safe to share is kept per process (the imported libraries, the model).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avatar.errors import SourceError, first_line

PARTIAL_DIR = ".partial"  # DIR/.partial/<batch id>-<name>: work in progress, never a result
TEST_KILL_ENV = "AVATAR_TEST_KILL_WORKER_ON"  # tests only: a worker kills itself (SIGKILL) mid-way through this file
SUMMARY_CHANNELS = ("smile", "wince", "sad", "distress", "surprise", "frown", "mouth_open", "talking",
                    "echo_smile", "echo_wince", "concern")


@dataclass(frozen=True)
class InputFile:
    """What says a video is the one a result was made from: its size, modification time and content hash."""

    path: str
    size: int
    mtime_ns: int
    sha256: str | None = None  # filled in by whoever reads the file whole

    @classmethod
    def of(cls, path: str | Path) -> InputFile:
        stat = os.stat(path)
        return cls(str(path), stat.st_size, stat.st_mtime_ns)

    def hashed(self) -> InputFile:
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return dataclasses.replace(self, sha256=digest.hexdigest())

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class VideoJob:
    """One video to run: where it is, the folder name its result gets under `out`, and the run's settings."""

    input: InputFile
    name: str
    out: str
    settings: Any  # app.RunSettings without a source or log_dir (each job sets its own)
    batch_id: str
    network: dict = field(default_factory=dict)  # session.json's `network`: how the batch's processes were isolated


@dataclass(frozen=True)
class VideoResult:
    """A row of summary.csv: how one video went."""

    input: str
    name: str
    status: str  # done, skipped (a complete result was there) or failed
    frames: int = 0
    face_share: float | None = None
    stats: dict[str, float | None] = field(default_factory=dict)  # mean_X and peak_X per SUMMARY_CHANNELS
    seconds: float | None = None
    error: str = ""


def partial_folder(out: Path, batch_id: str, name: str) -> Path:
    return Path(out) / PARTIAL_DIR / f"{batch_id}-{name}"


def session_stats(folder: Path) -> tuple[int, float | None, dict[str, float | None]]:
    """Frames, the share with a face, and the mean and peak of each summary channel, from frames.csv."""
    sums = {name: 0.0 for name in SUMMARY_CHANNELS}
    counts = {name: 0 for name in SUMMARY_CHANNELS}
    peaks: dict[str, float | None] = {name: None for name in SUMMARY_CHANNELS}
    frames = with_face = 0
    with open(Path(folder) / "frames.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            frames += 1
            with_face += row.get("smile", "") != ""
            for name in SUMMARY_CHANNELS:
                text = row.get(name, "")
                if text:
                    value = float(text)
                    sums[name] += value
                    counts[name] += 1
                    peaks[name] = value if peaks[name] is None else max(peaks[name], value)
    stats: dict[str, float | None] = {}
    for name in SUMMARY_CHANNELS:
        stats[f"mean_{name}"] = sums[name] / counts[name] if counts[name] else None
        stats[f"peak_{name}"] = peaks[name]
    return frames, (with_face / frames if frames else None), stats


def _pin_threads() -> None:
    """One worker process, one core: OpenCV's own pool would compete with the next worker's."""
    import cv2

    cv2.setNumThreads(1)


def _kill_me_later_if_asked(name: str) -> threading.Timer | None:
    if os.environ.get(TEST_KILL_ENV) != name:
        return None
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGKILL))  # a native crash, as the suite plays it
    timer.start()
    return timer


def run_video(job: VideoJob) -> VideoResult:
    """Run one video; never raises for a bad video (the result says what went wrong)."""
    from avatar.app import run_mirror
    from avatar.sources import open_source

    started = time.perf_counter()
    temporary = partial_folder(Path(job.out), job.batch_id, job.name)
    shown = job.input.path
    crash = None
    try:
        _pin_threads()
        source = job.input.hashed()
        shutil.rmtree(temporary, ignore_errors=True)  # a retry after a worker died starts clean
        temporary.mkdir(parents=True, mode=0o700)
        # One core per worker: N single-threaded workers fill N cores; the live run's decode-ahead and
        # answering threads would make them fight over the same cores (the rows are the same either way).
        settings = dataclasses.replace(job.settings, source=job.input.path, log_dir=temporary, headless=True,
                                       overlap_threads=False)
        crash = _kill_me_later_if_asked(Path(job.input.path).name)
        notices = io.StringIO()
        video = open_source(settings.source, settings.duration_s, settings.realtime, settings.loop)
        with contextlib.redirect_stderr(notices):  # the run's notices go in the summary, not over the progress bar
            code = run_mirror(settings, source=video)
        (session,) = [p for p in temporary.iterdir() if p.is_dir()]
        info = json.loads((session / "session.json").read_text(encoding="utf-8"))
        if code != 0 or info.get("status") != "finished":
            raise RuntimeError(f"the run ended {info.get('status')}: {info.get('reason')}")
        if video.cut_short is not None:  # a truncated recording is not a result: `python -m avatar --headless` keeps its part
            raise SourceError(video.cut_short)
        seconds = time.perf_counter() - started
        _record_batch(session, info, job, source, seconds, notices.getvalue())
        _move_into_place(session, Path(job.out) / job.name, temporary)
        frames, face_share, stats = session_stats(Path(job.out) / job.name)
        return VideoResult(shown, job.name, "done", frames, face_share, stats, seconds)
    except Exception as exc:
        return VideoResult(shown, job.name, "failed", seconds=time.perf_counter() - started,
                           error=f"{type(exc).__name__}: {first_line(exc)}"[:300])
    finally:
        if crash is not None:
            crash.cancel()
        shutil.rmtree(temporary, ignore_errors=True)


def _record_batch(session: Path, info: dict, job: VideoJob, source: InputFile, seconds: float, notices: str) -> None:
    """session.json says which input and settings made it: a rerun skips it while the input is unchanged."""
    from avatar.logs import write_atomically

    info["settings"]["log_dir"] = job.out
    if job.network:  # the worker never ran isolation itself: the batch did, and says how
        info["network"] = job.network
    info["batch"] = {
        "id": job.batch_id,
        "input": source.to_json(),
        "name": job.name,
        "seconds": round(seconds, 3),
        "notices": [line.removeprefix("notice: ") for line in notices.splitlines() if line.strip()],
    }
    write_atomically(session / "session.json", (json.dumps(info, indent=2, default=str) + "\n").encode("utf-8"))


def _move_into_place(session: Path, final: Path, temporary: Path) -> None:
    """A rename, so the final name only ever holds a whole result; an older result is moved aside first."""
    if final.exists():
        os.rename(final, temporary / "replaced")
    os.rename(session, final)
