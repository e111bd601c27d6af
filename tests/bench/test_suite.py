"""The benchmark's report: `python -m avatar bench --json` on a few frames has every key (no timings asserted)."""

from __future__ import annotations

import json

import pytest

from avatar.bench import budgets, command_bench, format_table, percentile

REQUIRED_KEYS = {
    "perception_ms_p50",
    "perception_ms_p95",
    "pipeline_fps",
    "latency_ms_p50",
    "latency_ms_p95",
    "render_fps_1080p",
    "render_fps_720p",
    "rss_mb_peak",
    "bare_ms_p50",
    "bare_fps",
    "ratios",
    "budgets",
    "cpu",
    "cores",
    "versions",
}
BUDGET_ITEMS = {"perception_ms_p50", "pipeline_fps", "latency_ms_p50", "render_fps_1080p", "rss_mb_peak"}


@pytest.fixture(scope="module")
def quick_report():
    """(exit code, stdout) of `bench --quick --frames 12 --json`: seconds, not minutes."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = command_bench(["--quick", "--frames", "12", "--json", "--no-progress"])
    return code, out.getvalue()


@pytest.mark.slow
def test_bench_json_is_one_object_with_every_key(quick_report):
    code, text = quick_report
    assert code == 0
    report = json.loads(text)  # one object, nothing else on stdout
    assert REQUIRED_KEYS <= set(report)
    assert set(report["budgets"]) == BUDGET_ITEMS
    for item in report["budgets"].values():
        assert set(item) == {"value", "limit", "op", "pass"}
    assert set(report["ratios"]) == {"perception_over_bare", "pipeline_fps_over_bare_fps", "latency_minus_bare_ms"}
    assert {"mediapipe", "opencv", "pygame"} <= set(report["versions"])
    assert report["cores"] >= 1 and report["cpu"]


@pytest.mark.slow
def test_bench_runs_the_requested_frames_on_a_640x360_clip(quick_report):
    report = json.loads(quick_report[1])
    assert report["frames_per_run"] == 12
    assert report["clip"]["size"] == [640, 360]
    assert report["latency_run"]["frames"] == 12
    assert report["process"]["pipeline_wall_s"]


@pytest.mark.slow
def test_bench_table_names_each_budget(quick_report):
    table = format_table(json.loads(quick_report[1]))
    for word in ("perception_ms", "pipeline_fps", "latency_ms", "render_fps", "rss_mb_peak", "bare_fps"):
        assert word in table


def test_budgets_are_ratios_of_the_bare_loop():
    result = {"bare_ms_p50": 10.0, "bare_fps": 100.0, "perception_ms_p50": 10.9, "pipeline_fps": 89.0,
              "latency_ms_p50": 35.5, "render_fps_1080p": 60.0, "rss_mb_peak": 400.0}
    b = budgets(result)
    assert b["perception_ms_p50"]["limit"] == pytest.approx(11.0) and b["perception_ms_p50"]["pass"]
    assert b["pipeline_fps"]["limit"] == pytest.approx(90.0) and not b["pipeline_fps"]["pass"]
    assert b["latency_ms_p50"]["limit"] == pytest.approx(35.0) and not b["latency_ms_p50"]["pass"]
    assert b["render_fps_1080p"]["pass"] and b["rss_mb_peak"]["pass"]


def test_percentile_interpolates_like_numpy():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([5.0], 95) == 5.0
    assert percentile([], 50) == 0.0


def test_bad_frames_value_is_a_usage_error():
    from avatar.errors import CliError

    with pytest.raises(CliError, match="--frames"):
        command_bench(["--frames", "0"])
