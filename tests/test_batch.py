"""batch: many videos through the live run's code path on a real Dask LocalCluster of two worker processes."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, only_session, real_media, run_cli

from avatar.batch import SUMMARY_COLUMNS, find_videos, finished_result, output_names
from avatar.batch_worker import TEST_KILL_ENV, InputFile
from avatar.errors import CliError

SETTINGS = ("--familiarity", "0.7", "--seed", "3")


def _cut(source: Path, path: Path, frames: int) -> Path:
    """The first `frames` frames of a real clip, as a video of their own."""
    import cv2

    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS)
    writer = None
    for _ in range(frames):
        ok, image = capture.read()
        if not ok:
            break
        if writer is None:
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (image.shape[1], image.shape[0]))
        writer.write(image)
    writer.release()
    capture.release()
    return path


def _without_timing(path: Path) -> list[list[str]]:
    rows = list(csv.reader(path.open()))
    drop = {rows[0].index("wall"), rows[0].index("latency_ms")}
    return [[v for i, v in enumerate(row) if i not in drop] for row in rows]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """good/: two real clips; more/: a file without its index, one cut short, and a clip whose worker is killed
    every time it runs it."""
    root = tmp_path_factory.mktemp("batch_inputs")
    (root / "good").mkdir()
    (root / "more").mkdir()
    shutil.copy(real_media("real/single_face.mp4"), root / "good" / "single_face.mp4")
    _cut(real_media("real/crying_then_laughing.mp4"), root / "good" / "laughing.mp4", 48)
    (root / "more" / "broken.mp4").write_bytes((root / "good" / "single_face.mp4").read_bytes()[:5000])
    # Its index comes first, so its first 55 frames decode and then the data stops: a copy cut short.
    (root / "more" / "truncated.mp4").write_bytes(real_media("real/crying_then_laughing.mp4").read_bytes()[:200_000])
    shutil.copy(real_media("real/single_face.mp4"), root / "more" / "kill_me.mp4")
    return root


@pytest.fixture(scope="module")
def first_batch(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch_out")
    started = time.perf_counter()
    result = run_cli("batch", str(inputs / "good"), str(inputs / "more" / "*.mp4"), "--out", str(out), "--workers", "2",
                     *SETTINGS, env={TEST_KILL_ENV: "kill_me.mp4"})
    return out, result, time.perf_counter() - started


def _summary(out: Path) -> dict[str, dict[str, str]]:
    return {Path(row["input"]).name: row for row in csv.DictReader((out / "summary.csv").open())}


@pytest.mark.slow
def test_a_batch_writes_a_session_per_good_video_and_a_summary_row_per_input(first_batch, inputs):
    out, result, _ = first_batch
    assert result.returncode == 1, result.stderr  # three inputs failed
    assert "a local cluster of 2 worker processes" in result.stderr
    summary = _summary(out)
    assert list(csv.reader((out / "summary.csv").open()))[0] == list(SUMMARY_COLUMNS)
    assert {name: row["status"] for name, row in summary.items()} == {
        "laughing.mp4": "done", "single_face.mp4": "done", "broken.mp4": "failed", "kill_me.mp4": "failed",
        "truncated.mp4": "failed"}
    assert "MP4 without its index" in summary["broken.mp4"]["error"]
    assert "ended early at frame 55 of 472" in summary["truncated.mp4"]["error"]  # not a result: no folder for it
    assert "died 2 times" in summary["kill_me.mp4"]["error"]  # killed, restarted by Dask, tried once more
    assert (summary["single_face.mp4"]["frames"], summary["laughing.mp4"]["frames"]) == ("72", "48")
    assert float(summary["laughing.mp4"]["face_share"]) == 1.0 and float(summary["laughing.mp4"]["peak_smile"]) > 0
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["laughing", "single_face", "summary.csv"]
    assert not (out / ".partial").exists()
    info = json.loads((out / "single_face" / "session.json").read_text())
    assert info["status"] == "finished" and info["settings"]["empathy"]["familiarity"] == 0.7 and info["seed"] == 3
    assert info["settings"]["log_dir"] == str(out)
    if info["network"]["isolated"]:  # the workers share the batch's namespace, its own loopback switched on
        assert "loopback on" in info["network"]["how"]
    source = info["batch"]["input"]
    clip = inputs / "good" / "single_face.mp4"
    assert (source["path"], source["size"], source["mtime_ns"]) == (str(clip), clip.stat().st_size, clip.stat().st_mtime_ns)
    assert source["sha256"] == InputFile.of(clip).hashed().sha256


@pytest.mark.slow
def test_a_batch_result_is_the_headless_run_of_the_same_video_and_settings(first_batch, inputs, tmp_path):
    out, _, _ = first_batch
    clip = inputs / "good" / "single_face.mp4"
    result = run_cli("--headless", "--source", str(clip), "--log-dir", str(tmp_path), *SETTINGS)
    assert result.returncode == 0, result.stderr
    live = only_session(tmp_path)
    assert _without_timing(out / "single_face" / "frames.csv") == _without_timing(live / "frames.csv")


@pytest.mark.slow
def test_a_rerun_skips_what_is_done_and_starts_no_workers(first_batch, inputs):
    out, _, _ = first_batch
    before = {p.name: p.stat().st_mtime_ns for p in (out / "single_face").iterdir()}
    result = run_cli("batch", str(inputs / "good"), str(inputs / "more" / "*.mp4"), "--out", str(out), *SETTINGS)
    assert result.returncode == 1, result.stderr
    assert "dask:" not in result.stderr  # nothing to run: no cluster
    summary = _summary(out)
    assert {name: row["status"] for name, row in summary.items()} == {
        "laughing.mp4": "skipped", "single_face.mp4": "skipped", "broken.mp4": "failed", "kill_me.mp4": "failed",
        "truncated.mp4": "failed"}
    assert "--retry-failed" in summary["broken.mp4"]["error"] and summary["single_face.mp4"]["frames"] == "72"
    assert {p.name: p.stat().st_mtime_ns for p in (out / "single_face").iterdir()} == before


def test_a_result_counts_as_done_only_for_the_same_input(tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"0123456789")
    folder = tmp_path / "v"
    folder.mkdir()
    (folder / "frames.csv").write_text("frame\n")
    recorded = InputFile.of(video).hashed()
    (folder / "session.json").write_text(json.dumps({"status": "finished", "batch": {"input": recorded.to_json()}}))
    assert finished_result(folder, InputFile.of(video))
    stat = video.stat()
    video.write_bytes(b"0123456780")  # the same size and time, other content: the hash tells
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not finished_result(folder, InputFile.of(video))
    video.write_bytes(b"0123456789")
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched: run it again
    assert not finished_result(folder, InputFile.of(video))


def test_inputs_are_files_folders_and_globs_each_once(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for name in ("a/one.mp4", "a/two.MOV", "a/notes.txt", "b/one.mp4"):
        (tmp_path / name).write_bytes(b"x")
    found = find_videos([str(tmp_path / "a"), str(tmp_path / "*" / "one.mp4"), str(tmp_path / "a" / "notes.txt")])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/one.mp4", "a/two.MOV", "b/one.mp4", "a/notes.txt"]
    names = output_names(found)
    assert names[found[1]] == "two" and names[found[0]] != names[found[2]] and names[found[0]].startswith("one-")
    with pytest.raises(CliError, match="no such file"):
        find_videos([str(tmp_path / "missing.mp4")])
    with pytest.raises(CliError, match="nothing matches"):
        find_videos([str(tmp_path / "*.avi")])


@pytest.mark.slow
def test_ctrl_c_cancels_and_leaves_only_complete_results(inputs, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    for i in range(4):
        shutil.copy(inputs / "good" / "laughing.mp4", clips / f"clip{i}.mp4")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "batch", str(clips), "--out", str(tmp_path / "out"),
                                "--workers", "2"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    partial = tmp_path / "out" / ".partial"
    deadline = time.monotonic() + 60
    while not (partial.is_dir() and any(partial.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "batch cancelled" in stderr
    assert not partial.exists()
    for folder in (p for p in (tmp_path / "out").iterdir() if p.is_dir()):
        assert json.loads((folder / "session.json").read_text())["status"] == "finished"
    statuses = [row["status"] for row in csv.DictReader((tmp_path / "out" / "summary.csv").open())]
    assert len(statuses) == 4 and "cancelled" in statuses


def test_a_lab_cluster_and_the_dashboard_need_the_network():
    from avatar.isolation import needs_network

    assert needs_network(["batch", "v.mp4", "--out", "o", "--scheduler", "host:8786"]) == "--scheduler"
    assert needs_network(["batch", "v.mp4", "--out", "o", "--dashboard=:8787"]) == "--dashboard"
    assert needs_network(["batch", "v.mp4", "--out", "o", "--workers", "2"]) is None  # the local cluster stays isolated
