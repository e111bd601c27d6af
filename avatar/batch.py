"""`python -m avatar batch INPUT... --out DIR`: every video through the live run's code path, in parallel on Dask.

The driver: it finds the videos, skips those with a complete result for the same input, hands the rest
to a Dask cluster (a LocalCluster of single-threaded worker processes, or a lab's own by address), shows
the progress and writes summary.csv. Each video is run by avatar/batch_worker.py in a worker process.
docs/batch.md is the user's guide; docs/contract.md documents summary.csv.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import glob
import hashlib
import importlib.util
import io
import json
import os
import shutil
import signal
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avatar.batch_worker import (
    PARTIAL_DIR,
    SUMMARY_CHANNELS,
    InputFile,
    VideoJob,
    VideoResult,
    partial_folder,
    run_video,
    session_stats,
)
from avatar.errors import AvatarError, CliError, first_line
from avatar.logs import format_value, write_atomically
from avatar.settings_schema import show_path

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv"})
SUMMARY_COLUMNS = ("input", "output", "status", "frames", "face_share",
                   *(f"{kind}_{name}" for name in SUMMARY_CHANNELS for kind in ("mean", "peak")), "seconds", "error")
# A worker that dies (a native crash) is replaced by Dask and its video tried once more; a second death fails it.
ALLOWED_FAILURES = 1
EXIT_CANCELLED = 130


@dataclass(frozen=True)
class ClusterOptions:
    """Where the work runs: a LocalCluster of `workers` processes, or the Dask scheduler at `scheduler`."""

    workers: int
    scheduler: str | None = None
    dashboard: str | None = None  # --dashboard [HOST:]PORT for a LocalCluster (needs bokeh)


# --- the inputs ---------------------------------------------------------------------------------------


def find_videos(inputs: Sequence[str]) -> list[Path]:
    """Files as given, the videos inside folders (recursively), and glob patterns; in order, each once."""
    found: list[Path] = []
    for item in inputs:
        if glob.has_magic(item):
            matches = sorted(Path(p) for p in glob.glob(item, recursive=True))
            if not matches:
                raise CliError(f"batch: nothing matches {item}")
            found.extend(_videos_in(p) if p.is_dir() else [p] for p in matches)
            continue
        path = Path(item)
        if not path.exists():
            raise CliError(f"batch: no such file or folder: {show_path(path)}")
        found.append(_videos_in(path) if path.is_dir() else [path])
    seen, videos = set(), []
    for path in (p for group in found for p in group):
        key = path.resolve()
        if key not in seen and path.is_file():
            seen.add(key)
            videos.append(key)
    if not videos:
        raise CliError("batch: no videos in the inputs given")
    return videos


def _videos_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()
                  and PARTIAL_DIR not in p.parts)


def output_names(videos: Sequence[Path]) -> dict[Path, str]:
    """Each video's folder name under DIR: its file name's stem, with a short hash of its path when two share one."""
    from avatar.logs import _safe_name

    stems = [_safe_name(v.stem) for v in videos]
    return {v: stem if stems.count(stem) == 1 else f"{stem}-{hashlib.sha1(str(v).encode()).hexdigest()[:8]}"
            for v, stem in zip(videos, stems, strict=True)}


def finished_result(folder: Path, current: InputFile) -> bool:
    """A complete result made from this very input: finished, and the same size, time and content hash."""
    try:
        info = json.loads((folder / "session.json").read_text(encoding="utf-8"))
        recorded = info["batch"]["input"]
        if info.get("status") != "finished" or not (folder / "frames.csv").is_file():
            return False
        if (recorded["size"], recorded["mtime_ns"]) != (current.size, current.mtime_ns):
            return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return recorded.get("sha256") == current.hashed().sha256


def skipped_result(folder: Path, video: Path, name: str) -> VideoResult:
    frames, face_share, stats = session_stats(folder)
    seconds = json.loads((folder / "session.json").read_text(encoding="utf-8"))["batch"].get("seconds")
    return VideoResult(str(video), name, "skipped", frames, face_share, stats, seconds)


def _workers_network(cluster: ClusterOptions) -> dict:
    """session.json's `network` for a video run in a worker: a local cluster's workers share this process's."""
    from avatar import isolation

    state = isolation.current().to_json()
    if state["isolated"] and cluster.scheduler is None:
        state["how"] += " (its own loopback on, for the local Dask cluster)"
    return state


FAILED_DIR = ".failed"  # DIR/.failed/<name>.json: why an input failed, and which input it was


def _earlier_failure(out: Path, name: str, current: InputFile) -> str | None:
    """The error an earlier batch met on this very input (unchanged since), or None."""
    try:
        record = json.loads((out / FAILED_DIR / f"{name}.json").read_text(encoding="utf-8"))
        recorded = record["input"]
        if (recorded["size"], recorded["mtime_ns"]) != (current.size, current.mtime_ns):
            return None
        if recorded["sha256"] != current.hashed().sha256:
            return None
        return f"{record['error']} (as in an earlier batch; the input is unchanged: --retry-failed runs it again)"[:300]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember_failures(out: Path, jobs: Sequence[VideoJob], results: dict[Path, VideoResult]) -> None:
    folder = out / FAILED_DIR
    for job in jobs:
        result = results.get(Path(job.input.path))
        record = folder / f"{job.name}.json"
        if result is None:
            continue
        if result.status != "failed":
            record.unlink(missing_ok=True)
            continue
        with contextlib.suppress(OSError):
            folder.mkdir(exist_ok=True, mode=0o700)
            data = {"input": job.input.hashed().to_json(), "error": result.error}
            write_atomically(record, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


# --- the cluster ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def dask_client(options: ClusterOptions, say=print) -> Iterator[Any]:
    """A Dask client: on the lab's scheduler, or on a LocalCluster of single-threaded worker processes."""
    import dask
    from distributed import Client, LocalCluster

    # One task per worker thread at a time: a worker that dies takes only its own video with it.
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                          "distributed.scheduler.worker-saturation": 1.0,
                          "distributed.worker.daemon": False}):
        if options.scheduler is not None:
            try:
                client = Client(options.scheduler, timeout="15s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise AvatarError(f"--scheduler {options.scheduler}: cannot reach the Dask scheduler ({first_line(exc)})") from None
            with client:
                info = client.scheduler_info()
                workers = len(info.get("workers", {}))
                served = "dashboard" in info.get("services", {})
                say(f"dask: the scheduler at {options.scheduler}, {workers} worker{'s' if workers != 1 else ''}"
                    + (f"; dashboard {client.dashboard_link}" if served else "; no dashboard"))
                yield client
            return
        from avatar import isolation

        isolation.bring_up_loopback()  # the cluster's processes talk over the namespace's own loopback
        _start_resource_tracker()
        dashboard = _dashboard_address(options, say)
        with LocalCluster(n_workers=options.workers, threads_per_worker=1, processes=True, dashboard_address=dashboard,
                          env=_WORKER_ENV, silence_logs=50) as cluster, Client(cluster) as client:
            say(f"dask: a local cluster of {options.workers} worker process{'es' if options.workers != 1 else ''}"
                + (f"; dashboard {client.dashboard_link}" if dashboard else ""))
            yield client


def _start_resource_tracker() -> None:
    """multiprocessing's resource tracker lives as long as this process: started with the real stderr, so it
    does not hold the native log filter's pipe (avatar/native_log.py), which would keep the exit waiting."""
    from multiprocessing import resource_tracker

    try:
        real_stderr = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        real_stderr = None
    if real_stderr is None or real_stderr == 2:
        resource_tracker.ensure_running()
        return
    saved = os.dup(2)
    try:
        os.dup2(real_stderr, 2)
        resource_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# Each worker is one core: the math libraries' own thread pools would only fight the next worker's.
_WORKER_ENV = {"OPENCV_FFMPEG_CAPTURE_OPTIONS": "threads;1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENCV_FOR_THREADS_NUM": "1",
               "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2", "PYGAME_HIDE_SUPPORT_PROMPT": "1",
               "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def _dashboard_address(options: ClusterOptions, say) -> str | None:
    if options.dashboard is None:
        say("dask: dashboard off (give --dashboard PORT to serve it; the batch then runs on the network)")
        return None
    if importlib.util.find_spec("bokeh") is None:
        say("dask: dashboard off (it needs bokeh: pip install 'bokeh>=3.1')")
        return None
    return options.dashboard


# --- the batch --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _only_batch_in(out: Path) -> Iterator[None]:
    """One batch at a time writes to a folder; what an earlier, interrupted one left half-done is removed."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = open(out / ".batch.lock", "a")  # noqa: SIM115 (held for the whole batch)
    except OSError as exc:
        raise CliError(f"--out {show_path(out)}: cannot write there ({exc.strerror or first_line(exc)})") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise CliError(f"--out {show_path(out)}: another batch is writing there") from None
        shutil.rmtree(out / PARTIAL_DIR, ignore_errors=True)
        yield


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM cancels the batch as Ctrl-C does: nothing half-written is left under a final name."""

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: the caller owns signals
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_batch(inputs: Sequence[str], out: Path, settings, cluster: ClusterOptions, retry_failed: bool = False) -> int:
    """Run every video not already done; write summary.csv. 0 when all went well, 1 when one failed.

    A video that failed before is not run again while it is unchanged, unless `retry_failed`."""
    videos = find_videos(inputs)
    out = Path(out).resolve()
    started = time.perf_counter()
    with _only_batch_in(out), _terminate_as_interrupt():
        names = output_names(videos)
        results: dict[Path, VideoResult] = {}
        jobs: list[VideoJob] = []
        batch_id = uuid.uuid4().hex[:8]
        for video in videos:
            current = InputFile.of(video)
            if finished_result(out / names[video], current):
                results[video] = skipped_result(out / names[video], video, names[video])
            elif not retry_failed and (earlier := _earlier_failure(out, names[video], current)) is not None:
                results[video] = VideoResult(str(video), names[video], "failed", error=earlier)
            else:
                jobs.append(VideoJob(current, names[video], str(out), settings, batch_id, _workers_network(cluster)))
        cancelled = False
        if jobs:
            cancelled = _run_jobs(jobs, cluster, results, out, batch_id)
            _remember_failures(out, jobs, results)
        rows = [results.get(v) or VideoResult(str(v), names[v], "cancelled") for v in videos]
        write_summary(out / "summary.csv", rows)
    _print_done(rows, out, time.perf_counter() - started, cancelled)
    if cancelled:
        return EXIT_CANCELLED
    return 1 if any(r.status == "failed" for r in rows) else 0


def _run_jobs(jobs: list[VideoJob], cluster: ClusterOptions, results: dict[Path, VideoResult], out: Path, batch_id: str) -> bool:
    """Submit, gather as they finish; True when Ctrl-C (or SIGTERM) cancelled the rest."""
    from distributed import as_completed

    progress = _progress(jobs)
    by_key: dict[str, VideoJob] = {}
    futures = []
    try:
        with dask_client(cluster, say=progress.write) as client:
            for job in jobs:
                future = client.submit(run_video, job, key=f"video-{batch_id}-{job.name}", pure=False)
                by_key[future.key] = job
                futures.append(future)
            try:
                finished = as_completed(futures)
                while not finished.is_empty():
                    for future in finished.next_batch(block=False):
                        job = by_key[future.key]
                        result = _result_of(future, job)
                        results[Path(job.input.path)] = result
                        progress.advance(result, job)
                    progress.poll(out, batch_id)
                    time.sleep(PROGRESS_POLL_S)
            except KeyboardInterrupt:
                client.cancel(futures, force=True)
                return True
    except KeyboardInterrupt:
        return True
    finally:
        progress.close()
        for job in jobs:  # what an unfinished video left behind (a killed worker's, a cancelled one's)
            shutil.rmtree(partial_folder(out, batch_id, job.name), ignore_errors=True)
        with contextlib.suppress(OSError):
            (out / PARTIAL_DIR).rmdir()
    return False


def _result_of(future, job: VideoJob) -> VideoResult:
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        error = f"the worker running it died {ALLOWED_FAILURES + 1} times (a crash in native code?)"
    except Exception as exc:  # the task itself never raises for a bad video: this is the cluster's trouble
        error = f"{type(exc).__name__}: {first_line(exc)}"[:300]
    return VideoResult(job.input.path, job.name, "failed", error=error)


PROGRESS_POLL_S = 0.25


class _Progress:
    """Frames done of all the videos' frames, with frames per second and the time left (tqdm, on stderr).
    The frames of the videos under way are counted from their growing frames.csv, as they are written."""

    def __init__(self, jobs: Sequence[VideoJob], frame_counts: dict[str, int]):
        from tqdm import tqdm

        self.videos = len(jobs)
        self.done = 0
        self.expected = frame_counts
        self.running = {job.name: _RowCounter() for job in jobs}
        self.bar = tqdm(total=sum(frame_counts.values()) or None, unit="frame", file=sys.stderr, dynamic_ncols=True,
                        disable=not sys.stderr.isatty(), desc=f"videos 0/{self.videos}")

    def write(self, text: str) -> None:
        if self.bar.disable:
            print(text, file=sys.stderr, flush=True)
        else:
            self.bar.write(text, file=sys.stderr)

    def poll(self, out: Path, batch_id: str) -> None:
        if self.bar.disable:
            return
        for name, counter in self.running.items():
            self.bar.update(counter.new_rows(partial_folder(out, batch_id, name)))

    def advance(self, result: VideoResult, job: VideoJob) -> None:
        self.done += 1
        counter = self.running.pop(job.name, _RowCounter())
        self.bar.set_description(f"videos {self.done}/{self.videos}")
        self.bar.update(max(0, max(result.frames, self.expected.get(job.name, 0)) - counter.credited))
        if result.status == "failed":
            self.write(f"failed: {show_path(result.input)}: {result.error}")

    def close(self) -> None:
        self.bar.close()


class _RowCounter:
    """Rows of one video's frames.csv while it is written, read on from where the last look ended."""

    def __init__(self) -> None:
        self.file: Path | None = None
        self.offset = 0
        self.rows = 0
        self.credited = 0  # rows already counted on the bar (a retried video starts a new file)

    def new_rows(self, folder: Path) -> int:
        files = list(folder.glob("*/frames.csv"))
        if not files:
            return 0
        if files[0] != self.file:
            self.file, self.offset, self.rows = files[0], 0, -1  # its header is no frame
        try:
            with open(self.file, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            return 0
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        self.rows += complete.count(b"\n")
        new = max(0, self.rows - self.credited)
        self.credited += new
        return new


def _progress(jobs: Sequence[VideoJob]) -> _Progress:
    counts = {}
    if sys.stderr.isatty():  # the total for the bar's time left: the headers' frame counts
        import cv2

        for job in jobs:
            capture = cv2.VideoCapture(job.input.path)
            counts[job.name] = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
            capture.release()
    return _Progress(jobs, counts)


def write_summary(path: Path, rows: Sequence[VideoResult]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for r in rows:
        values = {"input": r.input, "output": r.name if r.status in ("done", "skipped") else "", "status": r.status,
                  "frames": r.frames, "face_share": r.face_share, **r.stats, "seconds": r.seconds, "error": r.error}
        writer.writerow([format_value(values.get(column)) for column in SUMMARY_COLUMNS])
    write_atomically(path, buffer.getvalue().encode("utf-8"))


def _print_done(rows: Sequence[VideoResult], out: Path, seconds: float, cancelled: bool) -> None:
    count = {status: sum(r.status == status for r in rows) for status in ("done", "skipped", "failed", "cancelled")}
    frames = sum(r.frames for r in rows if r.status == "done")
    rate = f" ({frames / seconds:.1f} frames/s)" if frames and seconds > 0 else ""
    parts = [f"{n} {status}" for status, n in count.items() if n]
    print(f"batch{' cancelled' if cancelled else ''}: {', '.join(parts)}; {frames} frames in {seconds:.1f} s{rate}; "
          f"summary in {show_path(out / 'summary.csv')}", file=sys.stderr, flush=True)

