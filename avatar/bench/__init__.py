"""The benchmark: `python -m avatar bench` times the real pipeline against a bare MediaPipe loop, in one run.

A tool on top of the pipeline, like a mode. bare_loop.py is the yardstick, pipeline_run.py runs the
real pipeline with stages that time themselves, processes.py times whole processes, suite.py runs
them all interleaved, result.py holds what they found (BenchResult, its budgets and JSON) and
table.py prints it. Only this module's command line is imported by avatar.cli; the heavy parts
(the pipeline, pygame) load when a bench runs, so the bare loop's own process stays lean.
"""

from __future__ import annotations

import json
from pathlib import Path

from avatar.bench.result import BenchResult, Budget, Op, budgets
from avatar.bench.stats import percentile
from avatar.bench.table import format_table

__all__ = ["BenchResult", "Budget", "Op", "add_subcommand", "bench_from_args", "budgets", "command_bench", "format_table",
           "percentile"]

QUICK_FRAMES = 30  # --quick: a smoke test of every part, seconds not minutes
QUICK_RENDER_FRAMES = 10


def add_subcommand(subparsers):
    """`python -m avatar bench`: adds its parser (an ArgumentParser) to the command line's subcommands."""
    from avatar.arguments import positive

    parser = subparsers.add_parser("bench", description="Time the pipeline against a bare MediaPipe loop, in one run.")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--frames", type=int, help="frames per run (default: the whole clip)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved bare/pipeline rounds (default 3)")
    parser.add_argument("--soak", type=positive("--soak"), default=0.0, metavar="MINUTES", help="also run a soak this long and report RSS")
    parser.add_argument("--clip", type=Path, help="a video to measure on (default: the demo clip letterboxed to 640x360)")
    parser.add_argument("--model", help="face_landmarker.task to use")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 30 frames, one round, a short render sweep")
    parser.add_argument("--check", action="store_true", help="exit 1 if a budget fails")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.set_defaults(handler=bench_from_args)
    return parser


def command_bench(argv: list[str]) -> int:
    """`python -m avatar bench [--json] [--frames N] [--soak MINUTES] [--clip PATH]`."""
    from avatar.arguments import run_subcommand

    return run_subcommand(add_subcommand, argv)


def bench_from_args(args) -> int:
    """The bench with parsed arguments (an argparse Namespace); the exit code."""
    from avatar.bench.suite import RENDER_FRAMES, BenchOptions, run_bench
    from avatar.errors import CliError

    if args.frames is not None and args.frames < 1:
        raise CliError(f"--frames {args.frames} must be at least 1")
    if args.repeats < 1:
        raise CliError(f"--repeats {args.repeats} must be at least 1")
    if args.clip is not None:
        from avatar.sources import open_source

        open_source(str(args.clip)).close()  # a SourceError names the file
    options = BenchOptions(
        clip=args.clip,
        frames=args.frames or (QUICK_FRAMES if args.quick else None),
        repeats=1 if args.quick else args.repeats,
        soak_min=args.soak,
        render_frames=QUICK_RENDER_FRAMES if args.quick else RENDER_FRAMES,
        progress=not args.no_progress,
        model=args.model,
    )
    result = run_bench(options)
    print(json.dumps(result.to_json(), indent=2) if args.json else format_table(result), flush=True)
    return 1 if args.check and not result.budgets_pass else 0
