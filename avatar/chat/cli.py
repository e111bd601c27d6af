"""`python -m avatar chat`: reading a face context from a source, the chat flags, and command_chat.

The top of avatar.chat: it uses every other chat module; avatar.cli imports the flags and `add_subcommand`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from avatar.arguments import familiarity, positive, run_subcommand, seed, subcommand_registry
from avatar.chat.context import FaceContext
from avatar.chat.controller import Speaker
from avatar.chat.endpoint import Responder, endpoint_url
from avatar.chat.responder import plain_text
from avatar.chat.settings import ChatSettings
from avatar.errors import CliError, SourceError

# --------------------------------------------------------------------------------------------------
# Reading a face from a source, and the command line
# --------------------------------------------------------------------------------------------------


def read_face_context(spec: str, familiarity: float, window_s: float = 3.0, model: str | None = None) -> FaceContext:
    """The face context of a source: an image (one IMAGE-mode reading) or a video's last `window_s` seconds."""
    import cv2

    from avatar.expression import ExpressionReader, channels_from_reading
    from avatar.face import FaceReader, FaceReaderOptions, RunningMode, resolve_model
    from avatar.reading import find_faces, read_still, still_reader
    from avatar.sources import SourceKind, open_source

    model_file = resolve_model(model)
    with open_source(spec, duration_s=1.0 / 30.0) as source:
        kind = source.kind
        if kind is SourceKind.IMAGE:
            # A still has no history: IMAGE mode, searched the way `avatar read` searches it.
            rgb = read_still(Path(spec))
            with still_reader(model_file) as reader:
                expression = channels_from_reading(find_faces(reader, rgb))
            return FaceContext.from_expressions([(0.0, expression)], familiarity, window_s)
        if kind is SourceKind.CAMERA:
            frames = []
            for frame in source:
                frames.append(frame)
                if frame.t_s >= window_s:
                    break
            return _context_of_frames(frames, familiarity, window_s, model_file)
        # A file: one pass to find its end on its own clock, a second to read only the last seconds.
        end_s = 0.0
        for frame in source:
            end_s = frame.t_s
    if kind is not SourceKind.VIDEO:
        raise SourceError(f"cannot read a face from {spec}")
    with open_source(spec) as source, FaceReader(FaceReaderOptions(running_mode=RunningMode.VIDEO), model=model_file) as reader:
        expressions = ExpressionReader()
        samples = []
        for frame in source:
            if frame.t_s < end_s - window_s - 1e-9:
                continue
            reading = reader.read(cv2.cvtColor(frame.bgr, cv2.COLOR_BGR2RGB), frame.t_s)
            samples.append((frame.t_s, expressions.read(reading, frame.t_s)))
    return FaceContext.from_expressions(samples, familiarity, window_s)


def _context_of_frames(frames, familiarity, window_s, model_file) -> FaceContext:
    import cv2

    from avatar.expression import ExpressionReader
    from avatar.face import FaceReader, FaceReaderOptions, RunningMode

    with FaceReader(FaceReaderOptions(running_mode=RunningMode.VIDEO), model=model_file) as reader:
        expressions = ExpressionReader()
        samples = [
            (f.t_s, expressions.read(reader.read(cv2.cvtColor(f.bgr, cv2.COLOR_BGR2RGB), f.t_s), f.t_s)) for f in frames
        ]
    return FaceContext.from_expressions(samples, familiarity, window_s)


def _endpoint_flag(text: str) -> str:
    try:
        endpoint_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_chat_arguments(parser: argparse.ArgumentParser, include_chat_flag: bool = True) -> None:
    """The chat flags, for `chat` and for the run parser (the window)."""
    group = parser.add_argument_group("chat")
    if include_chat_flag:
        group.add_argument("--chat", action="store_true", help="let visitors type to the avatar (needed in exhibit mode)")
    group.add_argument("--chat-endpoint", type=_endpoint_flag, help="an OpenAI-compatible server, e.g. http://127.0.0.1:8080 (default: offline)")
    group.add_argument("--chat-model", default="local", help="the model name the endpoint expects (default: local)")
    group.add_argument("--chat-timeout", type=positive("--chat-timeout"), default=8.0, help="seconds before the offline answer takes over (default 8)")
    group.add_argument("--speak", action="store_true", help="read replies aloud with pyttsx3, if installed")
    if include_chat_flag:  # the window's run logs and streams events; `python -m avatar chat` keeps nothing
        group.add_argument("--log-chat-text", action="store_true",
                           help="keep the typed and answered words in events.jsonl and LSL markers (default: lengths only; "
                                "not in exhibit mode)")


def chat_settings_from_args(args: argparse.Namespace, log_text: bool = False, exhibit: bool = False) -> ChatSettings:
    """The chat's settings from the flags; `log_text` is --log-chat-text, which exhibit mode refuses."""
    if log_text and exhibit:
        raise CliError("--log-chat-text cannot be used in exhibit mode: visitors' words are never kept")
    return ChatSettings(
        endpoint=args.chat_endpoint,
        model=args.chat_model,
        timeout_s=args.chat_timeout,
        seed=getattr(args, "seed", 0) or 0,
        log_text=log_text,
    )


def add_subcommand(subparsers) -> argparse.ArgumentParser:
    """`python -m avatar chat`: adds its parser to the command line's subcommands."""
    parser = subparsers.add_parser("chat", description="Talk to the avatar: it reads your face as well as your words.")
    parser.add_argument("--source", required=True, help="an image or a video (a video uses its last seconds), or camera")
    parser.add_argument("--say", help="one message; without it, an interactive prompt (Ctrl-D ends)")
    parser.add_argument("--familiarity", type=familiarity, help="0-1, or stranger/acquaintance/friend (default 0.2)")
    parser.add_argument("--window", type=positive("--window"), default=3.0, help="seconds of video the face is read over (default 3)")
    parser.add_argument("--seed", type=seed, default=0, help="makes the offline replies reproducible (default 0)")
    parser.add_argument("--model", help="face_landmarker.task to use")
    add_chat_arguments(parser, include_chat_flag=False)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.set_defaults(handler=chat_from_args)
    return parser


def build_chat_parser() -> argparse.ArgumentParser:
    return add_subcommand(subcommand_registry())


def command_chat(argv: list[str]) -> int:
    """`python -m avatar chat --source PATH [--say TEXT]`: one context line, then the reply on the last line."""
    return run_subcommand(add_subcommand, argv)


def chat_from_args(args: argparse.Namespace) -> int:
    from avatar.empathy import EmpathySettings

    start = args.familiarity if args.familiarity is not None else EmpathySettings().familiarity_start
    context = read_face_context(args.source, start, window_s=args.window, model=args.model)
    name = Path(args.source).name if args.source not in ("camera", "demo") else args.source
    # Everything printed is plain text: a file name or a reply could carry terminal escape sequences.
    print(plain_text(f"{context.summary()} [{name}]"), flush=True)
    responder = Responder(chat_settings_from_args(args))
    speaker = Speaker() if args.speak else None

    def answer(text: str) -> str:
        reply = responder.reply(text, context)
        if reply.fallback_reason:
            print(plain_text(f"notice: chat endpoint not used ({reply.fallback_reason}); answered offline"), file=sys.stderr,
                  flush=True)
        if speaker is not None:
            speaker.say(reply.text)
        return plain_text(reply.text)

    try:
        if args.say is not None:
            print(answer(args.say), flush=True)
            return 0
        while True:
            try:
                text = input("you> ")
            except EOFError:
                print()
                return 0
            if text.strip():
                print(f"avatar> {answer(text)}", flush=True)
    finally:
        if speaker is not None:
            speaker.wait()
            speaker.close()
