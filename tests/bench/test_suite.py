"""The whole benchmark on a few frames: one JSON object that reads back as a BenchResult (no timings asserted)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from avatar.bench import BenchResult, command_bench, format_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_report():
    """(exit code, stdout) of `bench --quick --frames 12 --json`: seconds, not minutes."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = command_bench(["--quick", "--frames", "12", "--json", "--no-progress"])
    return code, out.getvalue()


def test_bench_json_is_one_object_that_reads_back_as_a_result(quick_report):
    code, text = quick_report
    assert code == 0
    report = json.loads(text)  # one object, nothing else on stdout
    result = BenchResult.from_json(report)
    assert result.to_json() == report
    assert {"mediapipe", "opencv", "pygame"} <= set(report["versions"])
    assert report["cores"] >= 1 and report["cpu"]


def test_every_part_ran_on_the_requested_frames_of_a_640x360_clip(quick_report):
    result = BenchResult.from_json(json.loads(quick_report[1]))
    assert result.frames_per_run == 12 and (result.clip.width, result.clip.height) == (640, 360)
    assert result.latency_run.frames == 12 and len(result.rounds) == 1
    assert result.bare_fps > 0 and result.pipeline_fps > 0 and result.bare_many_faces_fps > 0
    assert result.perception_ms_p50 > 0 and result.latency_ms_p50 > 0
    assert len(result.process.pipeline_wall_s) == len(result.process.bare_wall_s) == 1
    assert result.render_fps_1080p and "error" not in result.startup_s


def test_bench_table_names_each_budget(quick_report):
    table = format_table(BenchResult.from_json(json.loads(quick_report[1])))
    for word in ("perception_ms", "pipeline_fps", "latency_ms", "render_fps", "rss_mb_peak", "bare_fps", "whole process"):
        assert word in table
