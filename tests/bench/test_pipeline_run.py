"""The bare loop and the timed pipeline: the same frames of a real clip, and timing changes nothing the pipeline logs."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import FIXTURES, ROOT, decoded_frames, only_session, read_frames, real_media

from avatar.app import RunSettings, run_mirror
from avatar.bench.bare_loop import bare_loop
from avatar.bench.pipeline_run import PerceptionTimes, TimedPipeline, pipeline_run
from avatar.pipeline import Pipeline


@pytest.mark.slow
def test_the_bare_loop_and_the_pipeline_read_every_frame_of_a_real_clip(tmp_path, model_file):
    clip = real_media("real/single_face.mp4")
    frames = decoded_frames(clip)
    bare = bare_loop(clip, model_file.data)
    run = pipeline_run(clip, tmp_path, clip_frames=frames, progress=False)
    assert bare.frames == run.frames == frames > 0
    assert bare.faces_seen == frames  # a face in every frame: the model really ran
    assert len(bare.frame_ms) == len(run.perception_ms) == len(run.latency_ms) == frames
    assert np.all(run.perception_ms > 0) and run.fps > 0 and bare.fps > 0


@pytest.mark.slow
def test_both_stop_at_the_same_frame_limit(tmp_path, model_file):
    clip = real_media("real/single_face.mp4")
    assert bare_loop(clip, model_file.data, max_frames=9).frames == 9
    run = pipeline_run(clip, tmp_path, max_frames=9, clip_frames=decoded_frames(clip), progress=False)
    assert run.frames == 9 and len(run.perception_ms) == len(run.latency_ms) == 9


@pytest.mark.slow
def test_timing_the_pipeline_changes_nothing_it_logs(tmp_path):
    clip = FIXTURES / "smile_onset.mp4"
    rows = []
    for name, factory in (("plain", Pipeline), ("timed", functools.partial(TimedPipeline, times=PerceptionTimes(200)))):
        settings = RunSettings(source=str(clip), headless=True, log_dir=tmp_path / name, seed=3)
        assert run_mirror(settings, pipeline_factory=factory) == 0
        rows.append([{k: v for k, v in row.items() if k not in ("wall", "latency_ms")} for row in read_frames(only_session(tmp_path / name))])
    assert rows[0] == rows[1] and len(rows[0]) == decoded_frames(clip)


def test_perception_keeps_only_frames_that_went_all_the_way_and_nothing_past_the_end():
    times = PerceptionTimes(3)
    times.add(0, 0.001)
    times.add(0, 0.008)
    times.add(0, 0.0005, answered=True)
    times.add(1, 0.002)  # prepared and read, never answered
    times.add(7, 0.5)  # prepared ahead, past the run's last frame
    assert times.per_frame_ms().tolist() == pytest.approx([9.5])


@pytest.mark.slow
def test_the_bare_loops_own_process_prints_one_json_line():
    clip = real_media("real/single_face.mp4")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "bare_loop.py"), str(clip), "--max-frames", "5"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.strip().splitlines()
    report = json.loads(line)
    assert report["frames"] == report["faces_seen"] == 5 and report["num_faces"] == 1 and report["bare_fps"] > 0
