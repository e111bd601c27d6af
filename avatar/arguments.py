"""Argument types, the one-line parser, and the registry that each subcommand adds its parser to.

Sits under the command line: avatar.cli and every subcommand module (bench, chat, report) import it;
it imports only the standard library and avatar.errors (avatar.empathy lazily), never avatar.cli.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Callable

from avatar.errors import CliError

PROG = "python -m avatar"

# A subcommand module's `add_subcommand(subparsers)`: adds its parser, with `set_defaults(handler=...)`.
AddSubcommand = Callable[[argparse._SubParsersAction], argparse.ArgumentParser]


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser that raises CliError (one line, exit code 2) instead of printing its usage."""

    def error(self, message: str):  # argparse would print usage and a second line
        raise CliError(message)


def subcommand_registry() -> argparse._SubParsersAction:
    """An empty registry: each subcommand's `add_subcommand` adds its parser (a OneLineParser) to it."""
    return OneLineParser(prog=PROG, add_help=False).add_subparsers(dest="subcommand")


def run_subcommand(add_subcommand: AddSubcommand, argv: list[str]) -> int:
    """Parse argv with one subcommand's parser and call the handler it set: what `command_bench(argv)` does."""
    args = add_subcommand(subcommand_registry()).parse_args(argv)
    return args.handler(args)


def unit_interval(flag: str):
    """A number from 0 to 1 for `flag`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is not a number") from None
        if not 0.0 <= value <= 1.0 or value != value:
            raise argparse.ArgumentTypeError(f"{flag} {text} is out of range: give a value from 0 to 1")
        return value

    return parse


def familiarity(text: str) -> float:
    """`--familiarity`: 0-1, or a preset name (stranger, acquaintance, friend)."""
    from avatar.empathy import FAMILIARITY_PRESETS

    if text in FAMILIARITY_PRESETS:
        return FAMILIARITY_PRESETS[text]
    try:
        value = float(text)
    except ValueError:
        close = difflib.get_close_matches(text, list(FAMILIARITY_PRESETS), n=1)
        hint = f" (did you mean {close[0]}?)" if close else f" (give 0-1 or one of {', '.join(FAMILIARITY_PRESETS)})"
        raise argparse.ArgumentTypeError(f"--familiarity {text!r} is not a number or preset{hint}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"--familiarity {text} is out of range: give a value from 0 to 1")
    return value


def positive(flag: str, allow_zero: bool = False):
    """A finite number above 0 (or at least 0 with `allow_zero`) for `flag`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is not a number") from None
        if value < 0 or (value == 0 and not allow_zero) or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{flag} {text} must be a positive number")
        return value

    return parse


def size(text: str) -> tuple[int, int]:
    """`--size WxH`, each side 64-8192 pixels."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size {text!r} should look like 800x600") from None
    if not (64 <= width <= 8192 and 64 <= height <= 8192):
        raise argparse.ArgumentTypeError(f"--size {text} is out of range: each side 64-8192 pixels")
    return width, height


def ui_scale(text: str) -> float:
    """`--ui-scale X`: how much larger (or smaller) than the screens' own design their text is drawn."""
    from avatar.ui_scale import UI_SCALE_RANGE

    low, high = UI_SCALE_RANGE
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--ui-scale {text!r} is not a number") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"--ui-scale {text} is out of range: give a value from {low:g} to {high:g}")
    return value


def whole_number(flag: str, low: int, high: int):
    """A whole number from `low` to `high` for `flag`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{flag} {text} is out of range: give {low} to {high}")
        return value

    return parse


def seed(text: str) -> int:
    """`--seed N`: a whole number."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed {text!r} is not a whole number") from None


def choice(flag: str, enum_type):
    """A member of `enum_type` by its value for `flag`, with a did-you-mean hint for a typo."""
    names = [member.value for member in enum_type]

    def parse(text: str):
        try:
            return enum_type(text)
        except ValueError:
            close = difflib.get_close_matches(text, names, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise argparse.ArgumentTypeError(f"{flag} {text!r} is unknown: choose from {', '.join(names)}{hint}") from None

    return parse
