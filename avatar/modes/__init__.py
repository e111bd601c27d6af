"""Modes: exhibit, classroom and study, on top of the mirror loop (avatar.app.Mode hooks).

`add_arguments` adds each mode's flags to the run parser; `make_mode` builds the chosen one.
"""

from __future__ import annotations

import argparse
from enum import Enum


class ModeName(Enum):
    MIRROR = "mirror"
    EXHIBIT = "exhibit"
    CLASSROOM = "classroom"
    STUDY = "study"


def add_arguments(parser: argparse.ArgumentParser, choice) -> None:
    group = parser.add_argument_group("modes")
    group.add_argument("--mode", type=choice("--mode", ModeName), default=ModeName.MIRROR, help="mirror (default), exhibit, classroom or study")


def make_mode(args: argparse.Namespace, settings):
    """Return (mode, settings): a mode may adjust the run's settings (fullscreen, looping, ...)."""
    from avatar.app import Mode

    return Mode(), settings
