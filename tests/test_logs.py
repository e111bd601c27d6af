"""Session logs: the contract columns, no overwrite, private files, flushed rows."""

from __future__ import annotations

import json
import stat

import pytest

from avatar.contract import BASE_COLUMN_NAMES
from avatar.errors import LogError
from avatar.logs import SessionLog, format_value, make_session_dir


def test_header_is_the_contract_then_extra_columns(tmp_path):
    with SessionLog.create(tmp_path, "s", BASE_COLUMN_NAMES + ("target_smile",)) as log:
        log.frame({"frame": 0, "t": 0.0, "faces": 0})
    header = (log.folder / "frames.csv").read_text().splitlines()[0].split(",")
    assert tuple(header) == BASE_COLUMN_NAMES + ("target_smile",)


def test_rows_are_on_disk_before_close(tmp_path):
    log = SessionLog.create(tmp_path, "s", BASE_COLUMN_NAMES)
    log.frame({"frame": 0, "t": 0.5, "faces": 1, "smile": 0.25})
    log.event("face_found", 0.5, faces=1)
    assert (log.folder / "frames.csv").read_text().splitlines()[1].startswith("0,0.5,,1,0.25")
    assert json.loads((log.folder / "events.jsonl").read_text())["type"] == "face_found"
    log.close()
    log.close()


def test_a_second_session_never_overwrites_the_first(tmp_path):
    first = make_session_dir(tmp_path, "same")
    second = make_session_dir(tmp_path, "same")
    assert first != second and first.exists() and second.exists()


def test_files_are_private(tmp_path):
    with SessionLog.create(tmp_path, "s", BASE_COLUMN_NAMES) as log:
        log.write_session({"a": 1})
    assert stat.S_IMODE(log.folder.stat().st_mode) == 0o700
    for name in ("frames.csv", "events.jsonl", "session.json"):
        assert stat.S_IMODE((log.folder / name).stat().st_mode) == 0o600


def test_log_dir_under_a_file_is_refused_by_name(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LogError, match="file"):
        make_session_dir(blocker / "logs", "s")


@pytest.mark.parametrize(
    "value,text", [(None, ""), (0.1 + 0.2, "0.3"), (-0.0000001, "0"), (1.5, "1.5"), (True, "1"), (3, "3"), (float("nan"), "")]
)
def test_values_are_formatted_the_same_everywhere(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize("name,problem", [("x" * 300, "File name too long"), ("a\x00b", "NUL character")])
def test_a_log_dir_the_system_cannot_make_is_one_short_line(tmp_path, name, problem):
    with pytest.raises(LogError) as error:
        make_session_dir(tmp_path / name / "logs", "s")
    message = str(error.value)
    assert message.startswith("--log-dir ") and problem in message
    assert "\n" not in message and "\x00" not in message and len(message) < 300
