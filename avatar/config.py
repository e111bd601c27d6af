"""Config files: `--config FILE.toml` -> validated settings, with errors that name file, line and key.

At the edge, with the CLI: strings become enums here, once. Data only: tomllib, no eval, no pickle.
Flags given on the command line override the file. The [empathy] keys, types and ranges are EmpathySettings'
own fields, read through avatar.settings_schema, so a file and Python code are refused in the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avatar import settings_schema as schema
from avatar.settings_schema import setting

MAX_PATH = 4096  # characters: Linux's PATH_MAX; a longer path cannot be opened anywhere


@dataclass(frozen=True)
class RunSection:
    """The [run] keys. A file gives some of them; the rest keep the command line's defaults (avatar.cli)."""

    source: str | None = setting(None, max_len=MAX_PATH, doc="camera, camera:N, demo, or a path")
    duration: float | None = setting(None, low=0.001, high=86_400.0, unit="s", doc="seconds a still is held")
    realtime: bool = setting(False, doc="pace a file like a camera")
    loop: bool = setting(False, doc="start a file again at its end")
    seed: int = setting(0, doc="makes every random choice reproducible")
    avatar: str | None = setting(None, max_len=MAX_PATH, doc="the avatar style, a name or a path, or portrait[:PHOTO|:self]")
    self_similarity: float | None = setting(None, low=0.0, high=1.0, doc="the visitor's face blended into the portrait by this much")
    log_dir: str | None = setting(None, max_len=MAX_PATH, doc="where session folders go")
    lang: str | None = setting(None, max_len=MAX_PATH, doc="the screens' language: a code (en, fr) or a .toml path")


def empathy_schema() -> Mapping[str, schema.Setting]:
    """The [empathy] keys: the fields of EmpathySettings declared as settings, with their types and ranges."""
    from avatar.empathy import EmpathySettings

    return schema.settings_of(EmpathySettings)


def load_run_config(path: Path) -> dict[str, dict[str, Any]]:
    """Read a run config: {"empathy": {...EmpathySettings fields...}, "run": {...}}, only the keys it gives."""
    from avatar.empathy import EmpathySettings

    doc = schema.read_toml(path)
    sections = {"empathy": EmpathySettings, "run": RunSection}
    schema.check_keys(doc.data, sections, doc.place())
    return {name: schema.check_table(sections[name], table, doc.place(name)) for name, table in doc.data.items()}
