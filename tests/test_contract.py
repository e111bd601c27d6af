"""The frames.csv contract table: one place for every column, the docs generated from it, values of its types."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from avatar import contract
from avatar.empathy import Echo, EchoDiagnostics
from avatar.expression import Expression
from avatar.face_data import NO_FACE, FaceReading
from avatar.modes.study import StudyFrame, StudyMode
from avatar.outcome import Frame, FrameOutcome
from avatar.rig import NEUTRAL

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import contract_table  # noqa: E402


def _outcome(present: bool, mode_frame=None) -> FrameOutcome:
    frame = Frame(index=3, t_s=0.1, capture_wall=1.8e9, capture_perf=0.0, bgr=np.zeros((2, 2, 3), np.uint8))
    expression = Expression(present=present, smile=np.float32(0.5), sad=0.25, held=0.123456)
    echo = Echo(smile=0.4, wince=0.1, familiarity=0.5, load=0.2, gain=0.7, delay_s=0.6,
                diagnostics=EchoDiagnostics(lapse=True, learned_events=2))
    outcome = FrameOutcome(frame, FaceReading(faces=int(present), primary=NO_FACE), expression, echo, NEUTRAL)
    return outcome if mode_frame is None else dataclasses.replace(outcome, mode_frame=mode_frame)


def test_the_first_twelve_columns_are_the_original_contract():
    assert contract.BASE_COLUMN_NAMES == ("frame", "t", "wall", "faces", "smile", "wince", "echo_smile", "echo_wince",
                                          "familiarity", "load", "gain", "latency_ms")


def test_a_modes_columns_go_after_the_echo_and_before_the_late_columns():
    names = [c.name for c in contract.frame_columns(StudyMode.columns)]
    assert names[names.index("smile_roll_deg") + 1:] == ["block", "condition", "phase", "sad", "distress", "talking"]


def test_a_column_name_cannot_repeat():
    with pytest.raises(ValueError, match="repeat: smile"):
        contract.frame_columns(contract.BASE_COLUMNS[4:5])


def test_every_value_is_of_its_columns_type_or_empty():
    study = StudyFrame(block="mimic", condition="mimic", phase="block", step=None, remaining_s=1.0)
    columns = contract.frame_columns(StudyMode.columns)
    for present in (True, False):
        values = contract.row(columns, _outcome(present, study), latency_ms=12.5)
        for column, value in zip(columns, values, strict=True):
            assert value is None or type(value) is column.kind, (column.name, value)
    values = dict(zip([c.name for c in columns], contract.row(columns, _outcome(True, study), 12.5), strict=True))
    assert values["smile"] == 0.5 and type(values["smile"]) is float  # a numpy float32 from the model, made plain
    assert values["lapse"] == 1 and values["learned_events"] == 2 and values["latency_ms"] == 12.5
    assert values["held"] == 0.1235 and values["block"] == "mimic"


def test_no_face_leaves_the_persons_channels_empty_and_the_answer_filled():
    values = dict(zip(contract.BASE_COLUMN_NAMES, contract.row(contract.BASE_COLUMNS, _outcome(False), 1.0), strict=True))
    assert values["smile"] is None and values["wince"] is None
    assert values["echo_smile"] == 0.4 and values["faces"] == 0


def test_every_diagnostic_of_the_echo_is_logged():
    logged = {c.name for c in contract.FRAME_COLUMNS}
    assert {f.name for f in dataclasses.fields(EchoDiagnostics)} <= logged


def test_streamed_columns_are_numbers_with_a_unit():
    streamed = contract.streamed(contract.frame_columns(StudyMode.columns))
    assert all(c.kind in (int, float) and c.unit for c in streamed)
    assert not {"wall", "block"} & {c.name for c in streamed}
    assert all(math.isfinite(float(c.kind(0))) for c in streamed)


def test_docs_hold_the_table_as_the_code_defines_it():
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert contract_table.documented(text) == contract_table.table(), "run: python tools/contract_table.py --write"


def test_the_prose_list_of_later_columns_names_every_one_the_code_defines():
    # The table is generated; the list in the prose above it is written by hand, and once missed `phase`.
    import re

    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    prose = text[text.index("Today they are, in order:"): text.index("Every column, with its unit")]
    named = set(re.findall(r"`([a-z_]+)`", prose))
    later = [c.name for c in contract.frame_columns(StudyMode.columns)][12:]
    assert [name for name in later if name not in named] == []
