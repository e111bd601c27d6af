"""The benchmark's table: what `python -m avatar bench` prints without --json.

Part of the benchmark (avatar/bench): a BenchResult as text, each budget beside its value.
"""

from __future__ import annotations

import statistics

from avatar.bench.result import BenchResult


def format_table(result: BenchResult) -> str:
    b = result.budgets
    rows = [
        ("perception_ms p50 / p95", f"{result.perception_ms_p50:.2f} / {result.perception_ms_p95:.2f}", "perception_ms_p50"),
        ("bare_ms p50 / p95", f"{result.bare_ms_p50:.2f} / {result.bare_ms_p95:.2f}", None),
        ("pipeline_fps", f"{result.pipeline_fps:.1f}", "pipeline_fps"),
        ("bare_fps", f"{result.bare_fps:.1f}", None),
        ("latency_ms p50 / p95", f"{result.latency_ms_p50:.2f} / {result.latency_ms_p95:.2f}", "latency_ms_p50"),
        ("render_fps 1080p / 720p", f"{result.render_fps_1080p} / {result.render_fps_720p}", "render_fps_1080p"),
        ("rss_mb_peak", f"{result.rss_mb_peak:.1f}", "rss_mb_peak"),
    ]
    clip = result.clip
    lines = [f"mirror-avatar bench on {result.cpu} ({result.cores} cores); "
             + ", ".join(f"{k} {v}" for k, v in result.versions.items() if k in ("mediapipe", "opencv", "pygame")),
             f"clip {clip.path} {clip.width}x{clip.height}, {result.frames_per_run} frames a run, "
             f"{len(result.rounds)} interleaved rounds", ""]
    lines.append(f"{'measure':26s} {'value':>17s}   {'budget':>14s}  ")
    for label, value, key in rows:
        budget = ""
        if key:
            item = b[key]
            budget = f"{item.op.value} {item.limit:>10}  {'pass' if item.passed else 'FAIL'}"
        lines.append(f"{label:26s} {value:>17s}   {budget}")
    r = result.ratios
    lines += ["", f"perception / bare {r.perception_over_bare}   pipeline_fps / bare_fps {r.pipeline_fps_over_bare_fps}   "
                  f"latency - bare {r.latency_minus_bare_ms} ms",
              f"bare loop with num_faces={result.pipeline_num_faces}: {result.bare_many_faces_ms_p50} ms p50, "
              f"{result.bare_many_faces_fps} fps",
              "start-up (s): " + ", ".join(f"{k} {v}" for k, v in result.startup_s.items())]
    p = result.process
    if p.ratio is not None:
        lines.append(f"whole process, run.py --headless --log-dir vs the bare loop's: {statistics.median(p.pipeline_wall_s):.2f} s"
                     f" vs {statistics.median(p.bare_wall_s):.2f} s, ratio {p.ratio} (<= {p.limit}: {'pass' if p.passed else 'FAIL'})")
    if result.soak is not None:
        s = result.soak
        lines.append(f"soak {s.minutes:g} min, {s.frames} frames: RSS start {s.rss_mb_start} MB, "
                     f"middle {s.rss_mb_middle} MB, end {s.rss_mb_end} MB")
    lines.append("all budgets pass" if result.budgets_pass else "some budgets FAIL")
    return "\n".join(lines)
