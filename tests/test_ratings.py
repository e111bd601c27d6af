"""ratings.csv: written a row per answer, private, never through a link, and read back past a cut last row."""

from __future__ import annotations

import os

import pytest

from avatar.errors import LogError
from avatar.questionnaire import Rating
from avatar.ratings import HEADER, RATINGS_NAME, RatingsLog, read_ratings


def _rating(item: str = "likeable", answer: str = "6", **changes) -> Rating:
    values = dict(participant="P01", block="one", condition="mimic", position=1, questionnaire="rate", item=item, order=1,
                  kind="likert", item_sha256="53d72431311b", answer=answer, rt_ms=812.5, device="key", t_s=12.3,
                  wall=1_700_000_000.25)
    values.update(changes)
    return Rating(**values)


def test_each_answer_is_a_row_on_disk_as_soon_as_it_is_written(tmp_path):
    with RatingsLog(tmp_path) as log:
        path = tmp_path / RATINGS_NAME
        assert path.read_text() == ",".join(HEADER) + "\n"  # the header at once
        log.write(_rating())
        assert path.read_text().splitlines()[1] == "P01,one,mimic,1,rate,likeable,1,likert,53d72431311b,6,812.5,key,12.3,1700000000.25"
        log.write(_rating("sure", "Fairly sure, I think", kind="choice", block="", condition="", position=None))
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text().splitlines()[0] == (
        "participant,block,condition,position,questionnaire,item,order,kind,item_sha256,answer,rt_ms,input,t,wall")
    back = read_ratings(tmp_path)
    assert back == (_rating(), _rating("sure", "Fairly sure, I think", kind="choice", block="", condition="", position=None))
    assert back[0].number == 6.0 and back[1].number is None


def test_a_second_log_or_a_planted_link_is_refused(tmp_path):
    RatingsLog(tmp_path).close()
    with pytest.raises(LogError, match="cannot create"):
        RatingsLog(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    target = tmp_path / "elsewhere.csv"
    target.write_text("keep me")
    os.symlink(target, other / RATINGS_NAME)
    with pytest.raises(LogError):
        RatingsLog(other)
    assert target.read_text() == "keep me"


def test_a_cut_last_row_is_skipped_and_the_rest_kept(tmp_path):
    with RatingsLog(tmp_path) as log:
        log.write(_rating())
        log.write(_rating("warm", "3"))
    with open(tmp_path / RATINGS_NAME, "a") as handle:
        handle.write("P01,two,static,2,rate")  # a crash mid-row
    assert [r.item for r in read_ratings(tmp_path)] == ["likeable", "warm"]
    assert read_ratings(tmp_path / "nowhere") == ()


def test_writing_after_close_is_a_no_op(tmp_path):
    log = RatingsLog(tmp_path)
    log.close()
    log.close()
    log.write(_rating())
    assert read_ratings(tmp_path) == ()
