"""`python -m avatar replay SESSION_DIR... --familiarity 0.1,0.5,0.9 --out DIR`: what the avatar would have done.

The empathy model is pure (empathy.py), and frames.csv records its whole input (model_input.py): so a
recorded session's logged channels are fed to the model again, on the logged source clock, with the
session's seed and settings, once for every combination of the settings asked for. Each combination
gets a frames.csv with the session's own columns (the person's copied, the echo's recomputed) and a
session.json; summary.csv has a row per session and combination. No video, no face model.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from avatar import __version__, contract
from avatar.arguments import choice, familiarity, unit_interval
from avatar.empathy import Condition, EmpathyModel, EmpathySettings
from avatar.errors import CliError, first_line
from avatar.expression import Expression
from avatar.logs import format_value, write_atomically
from avatar.model_input import ModelInputs
from avatar.settings_schema import show_path

# The columns the model makes: recomputed. Every other column is the recording's, copied as written.
ECHO_COLUMNS = tuple(c for c in contract.BASE_COLUMNS if c.lsl_type in (contract.AVATAR, contract.MODEL)
                     and c.name not in ("frame", "t", "faces")) + contract.ECHO_COLUMNS
SUMMARY_COLUMNS = ("session", "output", "familiarity", "load", "condition", "frames",
                   "mean_echo_smile", "peak_echo_smile", "mean_echo_wince", "peak_echo_wince", "mean_concern",
                   "mean_familiarity", "mean_gain", "seconds", "error")
_CHANNELS = {"smile": "smile", "wince": "wince", "sad": "sad", "distress": "distress",
             "yaw_deg": "yaw", "pitch_deg": "pitch", "roll_deg": "roll"}  # Expression field -> frames.csv column
_PARSERS = {"familiarity": familiarity, "load": unit_interval("--load"), "condition": choice("--condition", Condition)}


@dataclass(frozen=True)
class Sweep:
    """The settings to try: each given list, every combination; a setting not given keeps the session's."""

    values: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @classmethod
    def parse(cls, given: dict[str, str | None]) -> Sweep:
        values = []
        for name, text in given.items():
            if text is None:
                continue
            items = [item.strip() for item in text.split(",") if item.strip()]
            if not items:
                raise CliError(f"--{name}: give one or more values, separated by commas")
            try:
                values.append((name, tuple(dict.fromkeys(_PARSERS[name](item) for item in items))))
            except Exception as exc:  # argparse's ArgumentTypeError: already one line naming the flag
                raise CliError(first_line(exc)) from None
        return cls(tuple(values))

    def combinations(self) -> list[dict[str, Any]]:
        names = [name for name, _ in self.values]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(v for _, v in self.values))]


def combination_name(changes: dict[str, Any]) -> str:
    if not changes:
        return "as-recorded"
    return "_".join(f"{name}-{value.value if isinstance(value, Enum) else format_value(value)}" for name, value in changes.items())


@dataclass(frozen=True)
class ReplayTask:
    session: str
    name: str  # the session's folder name under DIR
    changes: tuple[tuple[str, Any], ...]
    config: tuple[tuple[str, Any], ...]
    out: str


@dataclass(frozen=True)
class ReplayResult:
    session: str
    output: str
    changes: dict[str, Any]
    settings: dict[str, Any]
    frames: int = 0
    stats: dict[str, float | None] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""


def find_sessions(paths: Sequence[Path]) -> list[Path]:
    """Session folders as given, or the ones inside folders given; each once, in order."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise CliError(f"replay: not a folder: {show_path(path)}")
        found.extend([path] if _is_session(path) else sorted(p.parent for p in path.rglob("session.json") if _is_session(p.parent)))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise CliError("replay: no session folders (frames.csv and session.json) in the folders given")
    return unique


def _is_session(folder: Path) -> bool:
    """A recorded session: frames.csv and session.json, and not a replay's own output."""
    if not ((folder / "frames.csv").is_file() and (folder / "session.json").is_file()):
        return False
    try:
        return "replay_of" not in json.loads((folder / "session.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True  # a session whose record cannot be read: its replay says why


def session_settings(info: dict[str, Any]) -> EmpathySettings:
    """The model's settings as the live run had them (session.json), with the run's seed."""
    recorded = info.get("settings", {}).get("empathy", {})
    changes = {}
    for f in dataclasses.fields(EmpathySettings):
        if f.name not in recorded:
            continue
        default, value = vars(EmpathySettings())[f.name], recorded[f.name]
        if isinstance(default, Enum):
            value = type(default)(value)
        elif isinstance(default, tuple):
            value = tuple(value)
        changes[f.name] = value
    changes["seed"] = info.get("seed", changes.get("seed", 0))  # the run's seed is the model's (pipeline.py)
    return dataclasses.replace(EmpathySettings(), **changes)


def replay_session(task: ReplayTask) -> ReplayResult:
    """One session, one combination; never raises for a bad session (the result says what went wrong)."""
    started = time.perf_counter()
    changes = dict(task.changes)
    output = f"{task.name}/{combination_name(changes)}"
    try:
        session = Path(task.session)
        info = json.loads((session / "session.json").read_text(encoding="utf-8"))
        settings = dataclasses.replace(session_settings(info), **dict(task.config), **changes)
        with open(session / "frames.csv", newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = list(reader)
        echoes = replay_rows(header, rows, settings)
        folder = Path(task.out) / task.name / combination_name(changes)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        write_atomically(folder / "frames.csv", buffer.getvalue().encode("utf-8"))
        record = {"version": __version__, "replay_of": str(session), "changes": _plain(changes),
                  "empathy": _plain(settings), "seed": settings.seed, "frames": len(rows), "notices": _notices(session)}
        write_atomically(folder / "session.json", (json.dumps(record, indent=2) + "\n").encode("utf-8"))
        return ReplayResult(str(session), output, changes, _plain(settings), len(rows), _stats(echoes),
                            time.perf_counter() - started)
    except Exception as exc:
        return ReplayResult(task.session, output, changes, {}, seconds=time.perf_counter() - started,
                            error=f"{type(exc).__name__}: {first_line(exc)}"[:300])


def replay_rows(header: list[str], rows: list[list[str]], settings: EmpathySettings) -> list[Any]:
    """Run the model over the rows, rewriting their echo columns in place; returns each row's echo."""
    index = {name: i for i, name in enumerate(header)}
    for name in ("t", "faces", "smile", "held"):
        if name not in index:
            raise ValueError(f"frames.csv has no {name} column")
    rewritten = [(index[c.name], c) for c in ECHO_COLUMNS if c.name in index]
    model, inputs, echoes = EmpathyModel(settings), ModelInputs(), []
    for row in rows:
        present = row[index["smile"]] != ""
        channels = {field: _number(row, index.get(column)) for field, column in _CHANNELS.items()} if present else {}
        expression = Expression(present=present, held=_number(row, index["held"]), **channels)
        given = inputs.take(float(row[index["t"]]), expression, int(row[index["faces"]] or 0))
        echo = model.step(given.t_s, given.expression, faces=given.faces)
        model.pop_events()
        view = SimpleNamespace(echo=echo)  # the echo columns read only the outcome's echo (contract.py)
        for i, column in rewritten:
            row[i] = format_value(column.read(view, 0.0))
        echoes.append(echo)
    return echoes


def _number(row: list[str], i: int | None) -> float:
    return float(row[i]) if i is not None and row[i] != "" else 0.0


def _stats(echoes: list[Any]) -> dict[str, float | None]:
    def mean(values):
        return sum(values) / len(values) if values else None

    smiles, winces = [e.smile for e in echoes], [e.wince for e in echoes]
    return {"mean_echo_smile": mean(smiles), "peak_echo_smile": max(smiles, default=None),
            "mean_echo_wince": mean(winces), "peak_echo_wince": max(winces, default=None),
            "mean_concern": mean([e.concern for e in echoes]), "mean_familiarity": mean([e.familiarity for e in echoes]),
            "mean_gain": mean([e.gain for e in echoes])}


def _notices(session: Path) -> list[str]:
    """What a replay cannot repeat: settings changed during the recorded run are held fixed here."""
    try:
        with open(session / "events.jsonl", encoding="utf-8") as handle:
            changed = sum('"type": "setting"' in line for line in handle)
    except OSError:
        return []
    return [f"the recorded run changed its settings {changed} times; the replay holds them fixed"] if changed else []


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {name: _plain(field_value) for name, field_value in vars(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def tasks_for(sessions: Sequence[Path], out: Path, sweep: Sweep, config: dict[str, Any]) -> list[ReplayTask]:
    from avatar.batch import output_names

    names = output_names(sessions)
    frozen_config = tuple(config.items())
    return [ReplayTask(str(s), names[s], tuple(changes.items()), frozen_config, str(out))
            for s in sessions for changes in sweep.combinations()]


def run_replay(paths: Sequence[Path], out: Path, sweep: Sweep, config: dict[str, Any], cluster) -> int:
    """Every session x combination on the Dask client; summary.csv. 0 when all went well, 1 when one failed."""
    from avatar.batch import dask_client

    sessions = find_sessions(paths)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tasks = tasks_for(sessions, out, sweep, config)
    started = time.perf_counter()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with dask_client(cluster, say=say) as client:
        results = client.gather(client.map(replay_session, tasks, pure=False))
    write_summary(out / "summary.csv", results)
    failed = [r for r in results if r.error]
    for r in failed:
        say(f"failed: {show_path(r.session)}: {r.error}")
    say(f"replay: {len(results) - len(failed)} of {len(results)} done ({len(sessions)} sessions x "
        f"{len(tasks) // max(1, len(sessions))} settings) in {time.perf_counter() - started:.1f} s; "
        f"summary in {show_path(out / 'summary.csv')}")
    return 1 if failed else 0


def write_summary(path: Path, results: Sequence[ReplayResult]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for r in results:
        values = {"session": r.session, "output": "" if r.error else r.output, "frames": r.frames, "seconds": r.seconds,
                  "error": r.error, **r.stats, **{name: r.settings.get(name) for name in ("familiarity", "load", "condition")}}
        writer.writerow([format_value(values.get(column)) for column in SUMMARY_COLUMNS])
    write_atomically(path, buffer.getvalue().encode("utf-8"))
