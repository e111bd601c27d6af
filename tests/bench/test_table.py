"""The table `python -m avatar bench` prints: every budget beside its value, and what failed."""

from __future__ import annotations

from bench_results import measured

from avatar.bench import format_table


def test_the_table_names_each_budget_and_the_ratios():
    table = format_table(measured())
    for word in ("perception_ms", "pipeline_fps", "latency_ms", "render_fps", "rss_mb_peak", "bare_fps", "pipeline_fps / bare_fps 1.11"):
        assert word in table
    assert table.endswith("all budgets pass")


def test_a_failed_budget_says_fail_on_its_line():
    lines = format_table(measured(pipeline_fps=80.0)).splitlines()
    (line,) = [line for line in lines if line.startswith("pipeline_fps ")]
    assert line.split()[-1] == "FAIL" and lines[-1] == "some budgets FAIL"
