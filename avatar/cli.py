"""The command line: `python -m avatar [run] ...` and its subcommands (read, styles, chat, bench, ...).

The top of the program: it collects each subcommand's parser (its `add_subcommand`) and is the only place
that turns errors into one-line messages and exit codes; the argument types live in avatar.arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

# Quiet MediaPipe's and TensorFlow Lite's C++ start-up chatter; real errors still raise.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from avatar import __version__  # noqa: E402
from avatar.arguments import (  # noqa: E402
    PROG,
    choice,
    familiarity,
    positive,
    run_subcommand,
    seed,
    size,
    subcommand_registry,
    ui_scale,
    unit_interval,
)
from avatar.errors import AvatarError, CliError  # noqa: E402 (CliError lives in errors; importing it from here still works)

EXIT_USAGE = 2
EXIT_ERROR = 1


def add_run(subparsers) -> argparse.ArgumentParser:
    """`python -m avatar [run] ...`: the mirror itself, and the default when no subcommand is given."""
    from avatar.empathy import Condition, Mapping

    parser = subparsers.add_parser("run", prog=PROG, description="The mirror avatar: a face that echoes yours.")
    parser.add_argument("--version", action="version", version=f"mirror-avatar {__version__}")
    src = parser.add_argument_group("source")
    src.add_argument("--source", help="camera, camera:N, demo, or a video or image path (default: camera, else demo)")
    src.add_argument("--config", type=Path, help="a TOML file of settings ([empathy], [run]); flags override it")
    src.add_argument("--duration", type=positive("--duration"), help="seconds to hold a still image (default 3)")
    src.add_argument("--realtime", action="store_true", help="pace a file at its real speed, as if it were a camera")
    src.add_argument("--loop", action="store_true", help="start a file again at its end")
    src.add_argument("--once", action="store_true", help="play the demo once in a window too (a window loops it by default)")
    src.add_argument("--model", help="face_landmarker.task to use (default: $AVATAR_MODEL, then the packaged one)")
    emp = parser.add_argument_group("empathy")
    emp.add_argument("--familiarity", type=familiarity, help="0-1, or stranger/acquaintance/friend (default: grows while a face stays)")
    emp.add_argument("--load", type=unit_interval("--load"), help="the avatar's own simulated load, 0-1 (default 0.2)")
    emp.add_argument("--condition", type=choice("--condition", Condition), help="mimic (default), delayed, sham or static")
    emp.add_argument("--delay", type=positive("--delay", allow_zero=True), help="total lag of the delayed condition, s (default 4)")
    emp.add_argument("--mapping", type=choice("--mapping", Mapping), help="mirror (default) or anatomical")
    emp.add_argument("--guard", choices=("on", "off"), help="the sweet-spot guard: the echo stays a little smaller and later (default on)")
    emp.add_argument("--seed", type=seed, help="makes every random choice reproducible (default 0)")
    emp.add_argument("--calibrate", type=positive("--calibrate"), help="ask for a neutral face for S seconds first")
    out = parser.add_argument_group("window and output")
    out.add_argument("--avatar", help="avatar style: a name (see `python -m avatar styles`), a TOML path, portrait, "
                     "portrait:PHOTO, or portrait:self (the visitor's own face, kept in memory only)")
    out.add_argument("--self-similarity", type=unit_interval("--self-similarity"), metavar="S",
                     help="blend the visitor's face into the portrait by S, 0-1 (facial similarity; the face is never kept)")
    out.add_argument("--headless", action="store_true", help="render off-screen, with no window")
    out.add_argument("--size", type=size, default=(800, 600), help="window or render size, WxH (default 800x600)")
    out.add_argument("--fullscreen", action="store_true", help="start fullscreen (toggle with F11 or f)")
    out.add_argument("--display", type=int, default=0, metavar="N", help="open the window on display N (default 0), e.g. an exhibit's big screen")
    out.add_argument("--no-status", action="store_true", help="hide the status line (toggle with H)")
    out.add_argument("--lang", metavar="CODE|PATH.toml", help="the language of the words on screen: a bundled code (en, fr) or a translated copy of assets/strings/en.toml (default en)")
    out.add_argument("--ui-scale", type=ui_scale, default=1.0, metavar="X",
                     help="draw the screens' text X times larger, 0.5-3 (default 1: already sized to the window's height)")
    out.add_argument("--save-video", type=Path, help="write what the avatar showed as an mp4, a frame per processed frame")
    out.add_argument("--screenshot", type=Path, help="save the first frame rendered after --screenshot-at seconds as a PNG")
    out.add_argument("--screenshot-at", type=positive("--screenshot-at", allow_zero=True), default=1.0, help="when to take --screenshot, in source seconds (default 1)")
    out.add_argument("--overwrite", action="store_true", help="let --save-video and --screenshot replace a file that exists")
    out.add_argument("--log-dir", type=Path, help="write frames.csv, events.jsonl and session.json in a new folder here")
    out.add_argument("--lsl", action="store_true", help="stream channels and events over Lab Streaming Layer (local network)")
    _add_recorder_arguments(out)
    out.add_argument("--max-frames", type=int, help=argparse.SUPPRESS)
    from avatar.chat import add_chat_arguments
    from avatar.modes.registry import add_arguments as add_mode_arguments

    add_mode_arguments(parser)
    add_chat_arguments(parser)
    from avatar.bridges import add_arguments as add_bridge_arguments

    add_bridge_arguments(parser)
    out.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.set_defaults(handler=run_from_args)
    return parser


def build_run_parser() -> argparse.ArgumentParser:
    return add_run(subcommand_registry())


def settings_from_args(args: argparse.Namespace):
    """Defaults, then the --config file, then the flags: the last word wins."""
    import dataclasses

    from avatar.app import RunSettings
    from avatar.bridges import settings_from_args as bridge_settings
    from avatar.config import load_run_config
    from avatar.empathy import EmpathySettings

    config = load_run_config(args.config) if args.config else {}
    run_config, empathy_config = config.get("run", {}), dict(config.get("empathy", {}))
    flags = {
        "familiarity": args.familiarity,
        "load": args.load,
        "condition": args.condition,
        "delay_s": args.delay,
        "mapping": args.mapping,
        "guard": None if args.guard is None else args.guard == "on",
    }
    empathy_config.update({k: v for k, v in flags.items() if v is not None})
    run_seed = args.seed if args.seed is not None else run_config.get("seed", empathy_config.get("seed", 0))
    empathy_config["seed"] = run_seed
    empathy = dataclasses.replace(EmpathySettings(), **empathy_config)

    def pick(flag_value, key, default):
        return flag_value if flag_value is not None else run_config.get(key, default)

    log_dir = pick(args.log_dir, "log_dir", None)
    return RunSettings(
        source=pick(args.source, "source", None) or "demo",
        duration_s=pick(args.duration, "duration", 3.0),
        realtime=args.realtime or run_config.get("realtime", False),
        loop=args.loop or run_config.get("loop", False),
        headless=args.headless,
        size=args.size,
        fullscreen=args.fullscreen,
        save_video=args.save_video,
        screenshot=args.screenshot,
        screenshot_at_s=args.screenshot_at,
        overwrite=args.overwrite,
        log_dir=Path(log_dir) if log_dir is not None else None,
        model=args.model,
        seed=run_seed,
        empathy=empathy,
        max_frames=args.max_frames,
        show_status=not args.no_status,
        lang=pick(args.lang, "lang", "en"),
        ui_scale=args.ui_scale,
        avatar=pick(args.avatar, "avatar", None),
        self_similarity=pick(args.self_similarity, "self_similarity", None),
        calibrate_s=args.calibrate or 0.0,
        debug=args.debug,
        lsl=args.lsl,
        **_recorder_settings(args),  # --wait-for-recorder, --labrecorder
        screen=args.display,
        chat=_chat_settings(args, log_dir),
        chat_opens_on_typing=bool(args.chat),
        speak=bool(args.speak),
        **bridge_settings(args),  # --vmc, --osc-in, --virtual-camera
    )


def _add_recorder_arguments(group) -> None:
    """--wait-for-recorder and --labrecorder: how a run with --lsl meets the lab's recorder (docs/lsl.md)."""
    from avatar.bridges import host_port
    from avatar.lsl import LABRECORDER_DEFAULT, RECORDER_WAIT_S

    group.add_argument("--wait-for-recorder", nargs="?", const=str(RECORDER_WAIT_S), type=positive("--wait-for-recorder"), metavar="S",
                       help=f"with --lsl: start the session once a recorder (LabRecorder) takes both streams, or after S s (default {RECORDER_WAIT_S:g})")
    group.add_argument("--labrecorder", nargs="?", const=LABRECORDER_DEFAULT, type=host_port("--labrecorder", "127.0.0.1"),
                       metavar="[HOST:]PORT", help=f"with --lsl: tell LabRecorder (remote control on) to record the session and to stop at its end (default {LABRECORDER_DEFAULT})")


def _recorder_settings(args: argparse.Namespace) -> dict:
    for flag, value in (("--wait-for-recorder", args.wait_for_recorder), ("--labrecorder", args.labrecorder)):
        if value is not None and not args.lsl:
            raise CliError(f"{flag} needs --lsl: it is about the recording of the LSL streams")
    return {"wait_for_recorder_s": args.wait_for_recorder, "labrecorder": args.labrecorder}


def _chat_settings(args: argparse.Namespace, log_dir):
    from avatar.chat import chat_settings_from_args
    from avatar.modes.registry import ModeName

    # Typed words are logged only with --log-chat-text (else lengths), and never in exhibit mode (privacy).
    exhibit = getattr(args, "mode", None) is ModeName.EXHIBIT
    enabled = bool(args.chat) or not exhibit
    settings = chat_settings_from_args(args, log_text=args.log_chat_text, exhibit=exhibit)
    return settings if enabled else None


def run_from_args(args: argparse.Namespace) -> int:
    import dataclasses

    from avatar.app import run_mirror
    from avatar.portrait import is_portrait_spec
    from avatar.sources import camera_available
    from avatar.strings import use_language
    from avatar.styles import load_style
    from avatar.window import check_display

    settings = settings_from_args(args)
    use_language(settings.lang)  # a language that cannot be read is refused here, in one line, before anything opens
    if args.once and args.loop:
        raise CliError("--once and --loop contradict each other: give one")
    notice = None
    if args.source is None and settings.source == "demo" and camera_available(0):
        settings = dataclasses.replace(settings, source="camera")
    elif args.source is None and settings.source == "demo":
        notice = "no camera found; playing the demo clip instead (python -m avatar cameras lists what can be opened)"
    if not settings.headless and settings.source != "camera" and not settings.source.startswith("camera:"):
        settings = dataclasses.replace(settings, realtime=True)
        # In a window the demo loops like a camera would, until Esc (a headless run ends at the clip's end).
        if settings.source == "demo" and not args.once:
            settings = dataclasses.replace(settings, loop=True)
    if args.once:
        settings = dataclasses.replace(settings, loop=False)
    from avatar.modes.registry import make_mode

    mode, settings = make_mode(args, settings)
    # Everything that can be refused is checked before the notice, so an error stays one line.
    check_display(settings.headless)
    if settings.avatar is not None and not is_portrait_spec(settings.avatar):  # a portrait's photo is read as the run opens
        load_style(settings.avatar)
    return run_mirror(settings, mode, start_notices=(notice,) if notice else (), on_summary=print_summary)


def print_summary(summary) -> None:
    """The run's last line, on stdout (stderr is kept for notices and errors)."""
    print(summary.line(), flush=True)


def add_read(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("read", description="Read still images; print one JSON line per image.")
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--model", help="face_landmarker.task to use")
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=read_from_args)
    return parser


def read_from_args(args: argparse.Namespace) -> int:
    from avatar.reading import read_images

    failures = 0
    for line in read_images(args.paths, model=args.model):
        print(json.dumps(line), flush=True)
        failures += "error" in line
    return EXIT_ERROR if failures else 0


def add_evaluate(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "evaluate", description="Read a labelled still set; print a confusion table and channel statistics."
    )
    parser.add_argument("dir", type=Path, help="folder the labelled paths are relative to")
    parser.add_argument("--labels", type=Path, help="CSV with columns path,label (default: DIR/labels.csv)")
    parser.add_argument("--json", action="store_true", help="print the same as one JSON object")
    parser.add_argument("--model", help="face_landmarker.task to use")
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=evaluate_from_args)
    return parser


def evaluate_from_args(args: argparse.Namespace) -> int:
    from avatar.evaluate import evaluate, format_report, load_labels

    if not args.dir.is_dir():
        raise CliError(f"not a folder: {args.dir}")
    items = load_labels(args.labels or args.dir / "labels.csv", args.dir)
    result = evaluate(items, model=args.model, progress=sys.stderr.isatty() or len(items) > 1)
    print(json.dumps(result.to_json()) if args.json else format_report(result), flush=True)
    return EXIT_ERROR if result.errors else 0


def add_styles(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("styles", description="List the avatar styles.")
    parser.set_defaults(handler=styles_from_args)
    return parser


def styles_from_args(args: argparse.Namespace) -> int:
    from avatar.styles import list_styles

    for name, path, description in list_styles():
        print(f"{name:12s} {description}  ({path})")
    from avatar.portrait_face import BUNDLED_PORTRAIT

    print(f"{'portrait':12s} a real photo warped live (a NASA astronaut); portrait:PATH takes any frontal photo of one face, "
          f"portrait:self the visitor's own (in memory only)  ({BUNDLED_PORTRAIT})")
    return 0


# chat, bench and report register themselves; each is imported only when its word is given.
def add_chat(subparsers) -> argparse.ArgumentParser:
    from avatar.chat.cli import add_subcommand

    return add_subcommand(subparsers)


def add_bench(subparsers) -> argparse.ArgumentParser:
    from avatar.bench import add_subcommand

    return add_subcommand(subparsers)


def add_report(subparsers) -> argparse.ArgumentParser:
    from avatar.report import add_subcommand

    return add_subcommand(subparsers)


def add_cameras(subparsers) -> argparse.ArgumentParser:
    from avatar.cameras import add_subcommand

    return add_subcommand(subparsers)


def add_batch(subparsers) -> argparse.ArgumentParser:
    from avatar.batch_cli import RunFlags, add_batch

    return add_batch(subparsers, RunFlags(build_run_parser, settings_from_args))  # the live run's settings flags


def add_replay(subparsers) -> argparse.ArgumentParser:
    from avatar.batch_cli import RunFlags, add_replay

    return add_replay(subparsers, RunFlags(build_run_parser, settings_from_args))


SUBCOMMANDS = {
    "run": add_run,
    "read": add_read,
    "styles": add_styles,
    "evaluate": add_evaluate,
    "chat": add_chat,
    "bench": add_bench,
    "report": add_report,
    "cameras": add_cameras,
    "batch": add_batch,
    "replay": add_replay,
}


def summary_of_subcommands() -> str:
    """`python -m avatar --help`'s list of subcommands, each described by its own registered parser."""
    registry = subcommand_registry()
    for add_subcommand in SUBCOMMANDS.values():
        add_subcommand(registry)
    width = max(len(name) for name in registry.choices)
    lines = [f"subcommands ({PROG} SUBCOMMAND --help for each one's options):"]
    for name, parser in registry.choices.items():
        lines.append(f"  {name:{width}s}  {_first_sentence(parser.description or '')}")
    return "\n".join(lines)


def _first_sentence(text: str) -> str:
    sentence = " ".join(text.split(". ", 1)[0].split()).rstrip(".")
    return sentence if len(sentence) <= 110 else sentence[:109] + "…"


def add_run_with_overview(subparsers) -> argparse.ArgumentParser:
    """run's parser as `python -m avatar --help` shows it: a short usage, every subcommand, then run's options."""
    parser = add_run(subparsers)
    parser.usage = f"{PROG} [SUBCOMMAND] [options]"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (f"{parser.description}\n\n{summary_of_subcommands()}\n\n"
                          f"With no subcommand, {PROG} [options] is {PROG} run [options]; its options:")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    add_subcommand = add_run
    if argv and argv[0] in SUBCOMMANDS:
        add_subcommand = SUBCOMMANDS[argv.pop(0)]
    elif "-h" in argv or "--help" in argv:  # the first page a newcomer reads
        add_subcommand = add_run_with_overview
    from avatar.native_log import NativeLogFilter

    with contextlib.nullcontext() if debug else NativeLogFilter():
        return _run_command(add_subcommand, argv, debug)


MAX_MESSAGE_CHARS = 300


def one_line(text: str) -> str:
    """A message as one short line: control characters escaped (a value from a hostile file could
    move the terminal's cursor), cut to MAX_MESSAGE_CHARS."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _run_command(add_subcommand, argv: list[str], debug: bool) -> int:
    try:
        return run_subcommand(add_subcommand, argv)
    except CliError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except AvatarError as exc:
        if debug:
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last guard: one line, not a traceback, unless --debug
        if debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {one_line(exc)} (run with --debug for details)", file=sys.stderr)
        return EXIT_ERROR


def exit_process(code: int) -> NoReturn:
    """End the process at once with `code`, once main() has closed every file and window.

    Python's own teardown of the native libraries (MediaPipe, OpenCV, numpy) takes about half a
    second, which a visitor would see as a frozen window after pressing Esc; nothing is left to
    flush but the standard streams, so they are flushed and the teardown is skipped.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing more can be said there
            pass
    os._exit(code)
