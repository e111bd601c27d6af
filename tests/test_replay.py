"""replay: the empathy model again over a recorded session's logged channels reproduces the live echo exactly."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import only_session, real_media, run_cli

from avatar.empathy import Condition, EmpathySettings
from avatar.errors import CliError
from avatar.replay import ReplayTask, Sweep, combination_name, find_sessions, replay_session, session_settings


def _clip_with_a_dropout(path: Path) -> Path:
    """A real clip (one person) with its face gone for 40 frames: the reader holds, fades, then loses it."""
    import cv2

    capture = cv2.VideoCapture(str(real_media("real/single_face.mp4")))
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (frames[0].shape[1], frames[0].shape[0]))
    for i, image in enumerate(frames):
        writer.write(image if not 20 <= i < 60 else image * 0 + 128)
    writer.release()
    return path


@pytest.fixture(scope="module")
def live_sessions(tmp_path_factory) -> dict[str, Path]:
    """Two live headless runs of the clip: familiarity growing (the default), and fixed at 0.5 with load 0.6."""
    root = tmp_path_factory.mktemp("replay")
    clip = _clip_with_a_dropout(root / "dropout.mp4")
    sessions = {}
    for name, flags in (("growing", ("--seed", "7")), ("fixed", ("--familiarity", "0.5", "--load", "0.6"))):
        result = run_cli("--headless", "--source", str(clip), "--log-dir", str(root / name), *flags)
        assert result.returncode == 0, result.stderr
        sessions[name] = only_session(root / name)
    return sessions


def _replayed(session: Path, out: Path, **changes) -> Path:
    result = replay_session(ReplayTask(str(session), "s", tuple(changes.items()), (), str(out)))
    assert result.error == ""
    return out / "s" / combination_name(changes) / "frames.csv"


@pytest.mark.slow
def test_the_replay_with_the_live_settings_is_the_live_run_to_the_last_digit(live_sessions, tmp_path):
    live = live_sessions["growing"] / "frames.csv"
    rows = list(csv.DictReader(live.open()))
    assert any(r["smile"] == "" and float(r["held"]) > 0 for r in rows), "the clip should hold a lost face"
    assert any(r["smile"] == "" and float(r["held"]) == 0 for r in rows), "and then lose it"
    assert _replayed(live_sessions["growing"], tmp_path).read_bytes() == live.read_bytes()


@pytest.mark.slow
def test_a_swept_setting_equal_to_the_live_one_gives_the_live_echo(live_sessions, tmp_path):
    live = live_sessions["fixed"] / "frames.csv"
    assert _replayed(live_sessions["fixed"], tmp_path, familiarity=0.5).read_bytes() == live.read_bytes()
    assert _replayed(live_sessions["fixed"], tmp_path, familiarity=0.9).read_bytes() != live.read_bytes()


@pytest.mark.slow
def test_the_echo_rises_with_familiarity_and_only_the_echo_changes(live_sessions, tmp_path):
    means = []
    live = list(csv.DictReader((live_sessions["growing"] / "frames.csv").open()))
    for value in (0.1, 0.5, 0.9):
        rows = list(csv.DictReader(_replayed(live_sessions["growing"], tmp_path, familiarity=value).open()))
        assert [r["smile"] for r in rows] == [r["smile"] for r in live]  # the person's channels are copied
        assert {r["familiarity"] for r in rows} == {str(value)}
        # The person in the clip is sad, not smiling: the echo is concern, and it grows with familiarity.
        means.append(sum(float(r["echo_wince"]) for r in rows) / len(rows))
    assert 0 < means[0] < means[1] < means[2]
    record = json.loads((tmp_path / "s" / "familiarity-0.9" / "session.json").read_text())
    assert record["empathy"]["familiarity"] == 0.9 and record["seed"] == 7 and record["changes"] == {"familiarity": 0.9}


@pytest.mark.slow
def test_the_command_sweeps_every_combination_on_a_local_cluster(live_sessions, tmp_path):
    result = run_cli("replay", str(live_sessions["fixed"].parent), "--familiarity", "0.1,0.9", "--condition", "mimic,static",
                     "--out", str(tmp_path), "--workers", "1")
    assert result.returncode == 0, result.stderr
    summary = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert [(r["familiarity"], r["condition"]) for r in summary] == [("0.1", "mimic"), ("0.1", "static"), ("0.9", "mimic"), ("0.9", "static")]
    assert all(r["error"] == "" and int(r["frames"]) == 72 for r in summary)
    static = [r for r in summary if r["condition"] == "static"]
    assert all(float(r["peak_echo_smile"]) == 0 for r in static)
    assert all((tmp_path / r["output"] / "frames.csv").is_file() for r in summary)
    with pytest.raises(CliError, match="no session folders"):  # a replay's outputs are not taken for sessions
        find_sessions([tmp_path])


def test_settings_lists_are_checked_as_the_live_flags_are():
    sweep = Sweep.parse({"familiarity": "0.1, friend,0.1", "load": None, "condition": "mimic,sham"})
    assert sweep.combinations()[0] == {"familiarity": 0.1, "condition": Condition.MIMIC}
    assert len(sweep.combinations()) == 4  # 0.1 given twice counts once
    assert Sweep.parse({}).combinations() == [{}]
    for bad, words in (({"load": "0.2,1.5"}, "out of range"), ({"condition": "mimick"}, "did you mean mimic"),
                       ({"familiarity": ","}, "give one or more")):
        with pytest.raises(CliError, match=words):
            Sweep.parse(bad)
    assert combination_name({"familiarity": 0.5, "condition": Condition.STATIC}) == "familiarity-0.5_condition-static"


def test_the_session_settings_come_back_as_they_were_written():
    from avatar.app import RunSettings

    settings = EmpathySettings(familiarity=0.3, condition=Condition.DELAYED, delay_s=2.0)
    info = json.loads(json.dumps({"settings": RunSettings(empathy=settings, seed=5).to_json(), "seed": 5}))
    assert session_settings(info) == EmpathySettings(familiarity=0.3, condition=Condition.DELAYED, delay_s=2.0, seed=5)


def test_folders_without_sessions_are_refused(tmp_path):
    with pytest.raises(CliError, match="no session folders"):
        find_sessions([tmp_path])
    with pytest.raises(CliError, match="not a folder"):
        find_sessions([tmp_path / "missing"])
