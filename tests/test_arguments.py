"""avatar.arguments: the argument types, the one-line parser, and that nothing below the CLI imports it."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest

from avatar.arguments import (
    OneLineParser,
    choice,
    familiarity,
    positive,
    run_subcommand,
    seed,
    size,
    subcommand_registry,
    unit_interval,
)
from avatar.errors import CliError

PACKAGE = Path(__file__).resolve().parent.parent / "avatar"
COMMAND_LINE = {"cli.py", "__main__.py"}  # and any cli_*.py


class Colour(Enum):
    RED = "red"
    GREEN = "green"


def test_types_accept_good_values():
    assert unit_interval("--load")("0.3") == 0.3
    assert familiarity("friend") == pytest.approx(0.9)
    assert familiarity("0.4") == 0.4
    assert positive("--delay", allow_zero=True)("0") == 0.0
    assert size("640X480") == (640, 480)
    assert seed("-3") == -3
    assert choice("--colour", Colour)("green") is Colour.GREEN


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (unit_interval("--load"), "1.5", "--load 1.5 is out of range: give a value from 0 to 1"),
        (familiarity, "frend", "--familiarity 'frend' is not a number or preset (did you mean friend?)"),
        (positive("--window"), "0", "--window 0 must be a positive number"),
        (positive("--soak"), "inf", "--soak inf must be a positive number"),
        (size, "10x10", "--size 10x10 is out of range: each side 64-8192 pixels"),
        (seed, "x", "--seed 'x' is not a whole number"),
        (choice("--colour", Colour), "gren", "--colour 'gren' is unknown: choose from red, green; did you mean green?"),
    ],
)
def test_types_name_the_flag_of_a_bad_value(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as error:
        parse(text)
    assert str(error.value) == message


def test_a_subcommand_registers_its_parser_and_handler():
    def add_subcommand(subparsers):
        parser = subparsers.add_parser("echo", description="Say it back.")
        parser.add_argument("--times", type=positive("--times"), default=1.0)
        parser.set_defaults(handler=lambda args: int(args.times))
        return parser

    parser = add_subcommand(subcommand_registry())
    assert isinstance(parser, OneLineParser) and parser.prog == "python -m avatar echo"
    assert run_subcommand(add_subcommand, ["--times", "3"]) == 3
    with pytest.raises(CliError, match="^argument --times: --times -1 must be a positive number$"):
        run_subcommand(add_subcommand, ["--times", "-1"])


def _imported_names(tree: ast.AST, package: str) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names |= {module} | {f"{module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            if getattr(func, "id", None) == "__import__" or getattr(func, "attr", None) == "import_module":
                names.add(str(node.args[0].value))
    return names


def test_nothing_below_the_command_line_imports_it():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE and (path.name in COMMAND_LINE or path.name.startswith("cli_")):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        package = ".".join(parts if path.name == "__init__.py" else parts[:-1])
        names = _imported_names(ast.parse(path.read_text()), package)
        if any(name == "avatar.cli" or name.startswith("avatar.cli.") for name in names):
            offenders.append(str(path.relative_to(PACKAGE.parent)))
    assert offenders == []


def test_arguments_import_no_heavy_library():
    probe = "import sys, avatar.arguments; print(sorted(m for m in ('numpy', 'cv2', 'mediapipe', 'pygame', 'avatar.cli') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PACKAGE.parent, check=True)
    assert done.stdout.strip() == "[]"
