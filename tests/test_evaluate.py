"""`python -m avatar evaluate`: labels, the class mapping, the confusion table and its JSON."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, run_cli

from avatar.errors import ConfigError
from avatar.evaluate import classify, format_report, load_labels, summarize

EXPRESSIONS = FIXTURES / "expressions"


def channels(**kw):
    base = dict(smile=0.0, duchenne=0.0, wince=0.0, sad=0.0, distress=0.0, surprise=0.0, frown=0.0, mouth_open=0.0,
                blink_left=0.0, blink_right=0.0)
    return {**base, **kw}


def test_classify_reads_sadness_but_never_over_a_stronger_wince():
    assert classify(channels(sad=0.6, distress=0.6)) == "sad"
    assert classify(channels(sad=0.4, wince=0.7, distress=0.7)) == "pain"


def test_classify_prefers_a_smile_over_a_wince():
    assert classify(channels(smile=0.8, wince=0.6)) == "happy"
    assert classify(channels(wince=0.7)) == "pain"
    assert classify(channels(wince=0.4)) == "anger"
    assert classify(channels(surprise=0.9, mouth_open=0.5)) == "surprise"
    assert classify(channels()) == "neutral"
    assert classify({"smile": None}) == "neutral"


def test_labels_are_checked(tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text("path,label\na.png,happy\nb.png,joy\n")
    with pytest.raises(ConfigError, match="line 3"):
        load_labels(bad, tmp_path)
    (tmp_path / "nohead.csv").write_text("a.png,happy\n")
    with pytest.raises(ConfigError, match="path,label"):
        load_labels(tmp_path / "nohead.csv", tmp_path)
    rows = load_labels(EXPRESSIONS / "labels.csv", EXPRESSIONS)
    assert len(rows) >= 20 and all(p.exists() for p, _ in rows)


def test_summary_counts_and_stats():
    records = [
        {"path": "a", "label": "happy", "faces": 1, "predicted": "happy", **channels(smile=0.9)},
        {"path": "b", "label": "happy", "faces": 1, "predicted": "neutral", **channels(smile=0.3)},
        {"path": "c", "label": "pain", "faces": 0, "predicted": "no face", **{k: None for k in channels()}},
        {"path": "d", "label": "sad", "error": "image not found: d"},
    ]
    ev = summarize(records)
    assert ev.confusion["happy"]["happy"] == 1 and ev.confusion["happy"]["neutral"] == 1
    assert ev.confusion["pain"]["no face"] == 1 and ev.confusion["sad"]["error"] == 1
    assert ev.errors == 1 and ev.accuracy == pytest.approx(1 / 3)
    assert ev.stats["happy"]["smile"].mean == pytest.approx(0.6) and ev.stats["happy"]["smile"].n == 2
    assert "confusion" in format_report(ev)
    json.dumps(ev.to_json())


def test_evaluate_command_on_the_warped_set():
    result = run_cli("evaluate", str(EXPRESSIONS), "--labels", str(EXPRESSIONS / "labels.csv"), "--json", timeout=180)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    confusion = report["confusion"]
    assert confusion["happy"]["happy"] == sum(confusion["happy"].values())
    assert confusion["pain"]["pain"] >= 3 and confusion["surprise"]["surprise"] >= 3
    assert confusion["neutral"]["neutral"] >= 1
    assert report["stats"]["happy"]["wince"]["max"] <= 0.25
    assert report["stats"]["surprise"]["wince"]["max"] <= 0.25
    assert report["accuracy"] >= 0.75
    assert "evaluate" in result.stderr  # the progress bar
