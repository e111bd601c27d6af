"""Which modes there are: `add_arguments` adds each mode's flags to the run parser; `make_mode` builds the chosen one.

Used by the command line only; the modes themselves (exhibit, classroom, study) know nothing of it.
"""

from __future__ import annotations

import argparse
import dataclasses
from enum import Enum
from pathlib import Path

from avatar.arguments import choice
from avatar.modes.study import ASSETS, DEFAULT_PROTOCOL

CLASSROOM_SIZE = (1280, 720)  # a projector's usual 720p; --size overrides it
DEFAULT_SIZE = (800, 600)  # the run parser's default (avatar.cli)


class ModeName(Enum):
    MIRROR = "mirror"
    EXHIBIT = "exhibit"
    CLASSROOM = "classroom"
    STUDY = "study"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The modes' flags, for the run parser."""
    group = parser.add_argument_group("modes")
    group.add_argument("--mode", type=choice("--mode", ModeName), default=ModeName.MIRROR, help="mirror (default), exhibit, classroom or study")
    study = parser.add_argument_group("study mode")
    study.add_argument("--participant", help="participant ID (required in study mode), e.g. P07")
    study.add_argument("--protocol", type=Path, help=f"protocol TOML (default {DEFAULT_PROTOCOL.relative_to(ASSETS.parent)})")
    study.add_argument("--allow-repeat", action="store_true", help="allow another session for the same participant and protocol")
    study.add_argument("--windowed", action="store_true", help="study: open in a window (default: fullscreen on --display)")
    study.add_argument("--operator-display", type=int, metavar="N",
                       help="study: the experimenter's view in a window on display N (default: a corner of the screen, shown with O)")
    exhibit = parser.add_argument_group("exhibit mode")
    exhibit.add_argument("--attract-text", help="the line shown while nobody is there (default: a friendly invitation)")
    classroom = parser.add_argument_group("classroom mode")
    classroom.add_argument("--no-camera-image", action="store_true", help="classroom: draw the face mesh without the camera image")
    classroom.add_argument("--no-captions", action="store_true", help="classroom: start with the explanations off (toggle with T)")


def make_mode(args: argparse.Namespace, settings):
    """Return (mode, settings): a mode may adjust the run's settings (fullscreen, looping, ...)."""
    from avatar.mode import Mode

    name = args.mode
    if name is ModeName.EXHIBIT:
        from avatar.modes.exhibit import ExhibitMode

        mode = ExhibitMode(attract_text=args.attract_text)
        return mode, mode.adjust(settings)
    if name is ModeName.CLASSROOM:
        from avatar.modes.classroom import ClassroomMode

        if settings.size == DEFAULT_SIZE:
            settings = dataclasses.replace(settings, size=CLASSROOM_SIZE)
        return ClassroomMode(camera_image=not args.no_camera_image, captions=not args.no_captions), settings
    if name is ModeName.STUDY:
        from avatar.modes.study import make_study_mode

        return make_study_mode(args, settings)
    return Mode(), settings
