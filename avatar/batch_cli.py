"""`python -m avatar batch ...` and `python -m avatar replay ...`: their parsers, registered by avatar.cli.

The settings flags (--config, --familiarity, --load, ...) are the live run's own: avatar.cli hands over its
run parser and its settings_from_args (`RunFlags`), so a batch resolves flags and files exactly as a live run.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from avatar.arguments import PROG, whole_number
from avatar.errors import CliError

# The live run's flags a batch takes: what shapes the rows of frames.csv (the rest are about a window or a camera).
SETTINGS_FLAGS = ("--config", "--familiarity", "--load", "--condition", "--delay", "--mapping", "--guard", "--seed",
                  "--calibrate", "--model", "--duration")
SWEPT = ("familiarity", "load", "condition")  # replay's lists


@dataclass(frozen=True)
class RunFlags:
    """The live run's parser and how it turns flags into RunSettings (avatar.cli)."""

    parser: Callable[[], argparse.ArgumentParser]
    settings: Callable[[argparse.Namespace], object]


def _add_settings_flags(parser: argparse.ArgumentParser, flags: RunFlags, names=SETTINGS_FLAGS) -> list[str]:
    """The run parser's own actions for `names`, in a group of `parser`; returns their dests."""
    group = parser.add_argument_group("settings, as for a live run (python -m avatar --help)")
    dests = []
    for action in flags.parser()._actions:
        if any(option in names for option in action.option_strings):
            group._add_action(action)
            dests.append(action.dest)
    return dests


def _cluster_flags(parser: argparse.ArgumentParser) -> None:
    work = parser.add_argument_group("where the work runs (docs/batch.md)")
    work.add_argument("--workers", type=whole_number("--workers", 1, 1024), default=os.cpu_count() or 1,
                      help="worker processes of the local Dask cluster, one thread each (default: this machine's cores)")
    work.add_argument("--scheduler", metavar="tcp://HOST:8786", help="use a running Dask cluster instead (needs the network)")
    work.add_argument("--dashboard", nargs="?", const=":8787", metavar="[HOST]:PORT",
                      help="serve the local cluster's Dask dashboard (needs bokeh and the network; default :8787)")


def _cluster(args: argparse.Namespace):
    from avatar.batch import ClusterOptions

    if args.scheduler is not None and args.dashboard is not None:
        raise CliError("--dashboard is for the local cluster; a --scheduler serves its own")
    return ClusterOptions(args.workers, args.scheduler, args.dashboard)


def add_batch(subparsers, flags: RunFlags) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("batch", prog=f"{PROG} batch",
                                   description="Run recorded videos as a headless run would, in parallel on Dask. "
                                               "A session folder per video under --out, and summary.csv.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="videos, folders (searched for videos) and glob patterns")
    parser.add_argument("--out", type=Path, required=True, help="the folder for the results (a folder per video, summary.csv)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run again the videos an earlier batch into --out failed on (by default they are skipped while unchanged)")
    _cluster_flags(parser)
    dests = _add_settings_flags(parser, flags)
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=lambda args: _batch(args, flags, dests))
    return parser


def _batch(args: argparse.Namespace, flags: RunFlags, dests: list[str]) -> int:
    from avatar.batch import run_batch

    run_args = flags.parser().parse_args(["--headless"])
    given = vars(args)
    for dest in dests:
        vars(run_args)[dest] = given[dest]
    settings = flags.settings(run_args)
    return run_batch(args.inputs, args.out, settings, _cluster(args), retry_failed=args.retry_failed)


def add_replay(subparsers, flags: RunFlags) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("replay", prog=f"{PROG} replay",
                                   description="Run the empathy model again over recorded sessions, with other settings. "
                                               "For every combination of the lists given: a frames.csv each, and summary.csv.")
    parser.add_argument("sessions", nargs="+", type=Path, metavar="SESSION_DIR",
                        help="session folders (with frames.csv and session.json), or folders holding them")
    parser.add_argument("--out", type=Path, required=True, help="the folder for the results")
    lists = parser.add_argument_group("settings to try (comma-separated; a setting not given keeps the session's own)")
    lists.add_argument("--familiarity", help="e.g. 0.1,0.5,0.9 (numbers 0-1 or stranger, acquaintance, friend)")
    lists.add_argument("--load", help="e.g. 0.2,0.8")
    lists.add_argument("--condition", help="e.g. mimic,delayed,sham,static")
    _cluster_flags(parser)
    _add_settings_flags(parser, flags, names=("--config",))
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=lambda args: _replay(args))
    return parser


def _replay(args: argparse.Namespace) -> int:
    from avatar.replay import Sweep, run_replay

    sweep = Sweep.parse({name: vars(args)[name] for name in SWEPT})
    config = {}
    if args.config is not None:
        from avatar.config import load_run_config

        config = load_run_config(args.config).get("empathy", {})
    return run_replay(args.sessions, args.out, sweep, config, _cluster(args))
