"""BenchResult: its JSON is today's object, round-trips, and its ratios and budgets come from its own numbers."""

from __future__ import annotations

import json

import pytest
from bench_results import measured

from avatar.bench import BenchResult, Op, budgets
from avatar.bench.result import PIPELINE_OVER_BARE_MIN, Budget, Soak

TOP_LEVEL_KEYS = [
    "perception_ms_p50", "perception_ms_p95", "pipeline_fps", "latency_ms_p50", "latency_ms_p95", "render_fps_1080p",
    "render_fps_720p", "render_fps_1080p_portrait", "rss_mb_peak", "bare_ms_p50", "bare_ms_p95", "bare_fps", "bare_num_faces", "pipeline_num_faces",
    "bare_num_faces2_ms_p50", "bare_num_faces2_fps", "ratios", "budgets", "budgets_pass", "cpu", "cores", "versions", "clip",
    "frames_per_run", "rounds", "latency_run", "render", "startup_s", "process", "bench_rss_mb_peak",
]
BUDGET_ITEMS = {"perception_ms_p50", "pipeline_fps", "latency_ms_p50", "render_fps_1080p", "rss_mb_peak"}


def test_the_json_object_has_todays_keys_in_todays_order():
    report = measured().to_json()
    assert list(report) == TOP_LEVEL_KEYS
    assert set(report["budgets"]) == BUDGET_ITEMS
    assert all(set(item) == {"value", "limit", "op", "pass"} for item in report["budgets"].values())
    assert set(report["ratios"]) == {"perception_over_bare", "pipeline_fps_over_bare_fps", "latency_minus_bare_ms",
                                     "portrait_render_over_bare"}
    assert report["clip"]["size"] == [640, 360] and report["process"]["ratio"] == pytest.approx(3.1 / 2.7, abs=1e-3)
    assert "soak" not in report


def test_the_json_round_trips_through_text():
    soaked = measured(soak=Soak(2.0, 13305, 110.9, 310.5, 312.1, 312.2, ((0.0, 300.1), (1.0, 310.5), (120.0, 312.2))))
    for result in (measured(), soaked):
        text = json.dumps(result.to_json())
        assert BenchResult.from_json(json.loads(text)) == result
        assert json.loads(text) == result.to_json()


def test_the_ratio_fields_are_the_ratios_of_its_own_numbers():
    result = measured(perception_ms_p50=9.123, bare_ms_p50=8.456, pipeline_fps=97.25, bare_fps=101.5, latency_ms_p50=12.5)
    ratios = result.to_json()["ratios"]
    assert ratios["perception_over_bare"] == round(9.123 / 8.456, 3)
    assert ratios["pipeline_fps_over_bare_fps"] == round(97.25 / 101.5, 3)
    assert ratios["latency_minus_bare_ms"] == round(12.5 - 8.456, 3)
    assert [r["ratio"] for r in result.to_json()["rounds"]] == [round(p / b, 3) for b, p in ((100.0, 111.0), (98.5, 109.0), (101.0, 112.5))]


def test_a_pipeline_slower_than_the_budget_fails_and_fails_the_whole():
    just_fast_enough = measured(pipeline_fps=PIPELINE_OVER_BARE_MIN * 100.0)
    too_slow = measured(pipeline_fps=94.9)
    assert just_fast_enough.budgets["pipeline_fps"].passed and just_fast_enough.budgets_pass
    assert not too_slow.budgets["pipeline_fps"].passed and not too_slow.budgets_pass
    assert too_slow.to_json()["budgets"]["pipeline_fps"] == {"value": 94.9, "limit": 95.0, "op": ">=", "pass": False}


def test_every_budget_is_a_limit_from_the_same_runs_bare_loop():
    b = budgets(measured(bare_ms_p50=10.0, bare_fps=100.0, perception_ms_p50=11.1, latency_ms_p50=35.5,
                         render_fps_1080p=59.9, rss_mb_peak=400.0))
    assert b["perception_ms_p50"] == Budget(11.1, 11.0, Op.AT_MOST) and not b["perception_ms_p50"].passed
    assert b["latency_ms_p50"].limit == pytest.approx(35.0) and not b["latency_ms_p50"].passed
    assert not b["render_fps_1080p"].passed and b["rss_mb_peak"].passed


def test_a_budget_with_nothing_measured_fails():
    assert not Budget(None, 60.0, Op.AT_LEAST).passed
    assert not measured(render_fps_1080p=None).budgets_pass


def test_the_portrait_is_judged_when_measured_and_older_results_still_read():
    result = measured(render_fps_1080p_portrait=250.0, bare_ms_p50=10.0)
    report = result.to_json()
    assert report["ratios"]["portrait_render_over_bare"] == round(4.0 / 10.0, 3)
    assert report["budgets"]["render_fps_1080p_portrait"]["pass"] and report["budgets"]["portrait_render_over_bare"]["pass"]
    assert not measured(render_fps_1080p_portrait=200.0, bare_ms_p50=9.0).budgets["portrait_render_over_bare"].passed
    older = measured().to_json()
    del older["render_fps_1080p_portrait"], older["ratios"]["portrait_render_over_bare"]
    read = BenchResult.from_json(older)
    assert read.render_fps_1080p_portrait is None and "render_fps_1080p_portrait" not in read.budgets
