"""Session reports: per-block statistics from the files, and report.html with its PNGs."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from avatar.contract import BASE_COLUMN_NAMES
from avatar.logs import SessionLog
from avatar.report import TIMELINE_BINS, best_lag, block_stats, build_report, command_report, load_session


def test_best_lag_finds_a_known_delay():
    fps = 30.0
    t = np.arange(0, 30, 1 / fps)
    rng = np.random.default_rng(0)
    smile = np.convolve(rng.random(len(t)) > 0.97, np.ones(20), "same").clip(0, 1)
    echo = np.concatenate([np.zeros(30), smile[:-30]]) * 0.6  # 1 s behind
    lag, r = best_lag(smile, echo, fps)
    assert lag == pytest.approx(1.0, abs=1 / fps) and r > 0.95
    assert best_lag(np.full(5, np.nan), np.zeros(5), fps) == (None, None)


@pytest.fixture
def session_dir(tmp_path):
    """A two-block session written with the project's own logger, the echo 0.5 s behind the smile."""
    log = SessionLog.create(tmp_path, "P05_demo_x", BASE_COLUMN_NAMES + ("block", "condition", "phase"))
    fps = 20.0
    log.event("session_start", 0.0)
    for name, condition, start in (("one", "mimic", 0.0), ("two", "static", 10.0)):
        log.event("block_start", start, block=name, condition=condition, position=1 if name == "one" else 2)
        for i in range(int(10 * fps)):
            t = start + i / fps
            smile = 1.0 if (t % 4) < 2 else 0.0
            echo = (1.0 if ((t - 0.5) % 4) < 2 else 0.0) * (0.5 if condition == "mimic" else 0.0)
            log.frame({"frame": int(t * fps), "t": t, "faces": 1, "smile": smile, "echo_smile": echo,
                       "block": name, "condition": condition, "phase": "block"})
            if name == "one" and i in (50, 120):
                log.event("lapse", t, channel="smile")
        log.event("block_end", start + 10.0, block=name, completed=True)
    log.event("session_end", 20.0, status="finished")
    log.write_session({"participant": "P05", "status": "finished", "block_order": ["one", "two"]})
    log.close()
    return log.folder


def test_block_stats_from_the_files(session_dir):
    stats = block_stats(load_session(session_dir))
    assert [b.name for b in stats] == ["one", "two"]
    one, two = stats
    assert one.lapses == 2 and two.lapses == 0
    assert one.mean_echo == pytest.approx(0.275, abs=0.01) and two.mean_echo == 0.0
    assert one.best_lag_s == pytest.approx(0.5, abs=0.06)
    assert two.best_lag_s is None  # a flat echo has no lag


def test_build_report_writes_private_html_and_pngs(session_dir):
    path = build_report(session_dir)
    html = path.read_text()
    assert "P05" in html and "one" in html and "timeline.png" in html
    for name in ("report.html", "timeline.png", "blocks.png", "lags.png", "blocks.json"):
        file = session_dir / name
        assert file.stat().st_size > 0 and file.stat().st_mode & 0o777 == 0o600, name
        if name.endswith(".png"):
            assert file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((session_dir / "blocks.json").read_text())[0]["lapses"] == 2


def test_report_command_and_a_cut_last_line(session_dir, capsys):
    with open(session_dir / "frames.csv", "a") as handle:
        handle.write("999,50.0,")  # a crash mid-row
    assert command_report([str(session_dir)]) == 0
    assert capsys.readouterr().out.strip().endswith("report.html")


def test_report_on_a_folder_without_logs_is_a_config_error(tmp_path):
    from avatar.errors import ConfigError

    with pytest.raises(ConfigError, match="frames.csv"):
        command_report([str(tmp_path)])


def _marker_heavy_session(tmp_path, markers: dict[str, int], lapses: int = 7):
    """Three 20 s blocks at 20 fps, with this many LSL markers inside each block (none on a boundary)."""
    log = SessionLog.create(tmp_path, "P09_flood_x", BASE_COLUMN_NAMES + ("block", "condition", "phase"))
    fps, length_s = 20.0, 20.0
    log.event("session_start", 0.0)
    for index, (name, count) in enumerate(markers.items()):
        start = index * length_s
        log.event("block_start", start, block=name, condition="mimic", position=index + 1)
        for i in range(int(length_s * fps)):
            t = start + i / fps
            smile = 1.0 if (t % 4) < 2 else 0.0
            log.frame({"frame": int(round(t * fps)), "t": t, "faces": 1, "smile": smile, "echo_smile": 0.5 * smile,
                       "block": name, "condition": "mimic", "phase": "block"})
        for k in range(count):
            log.event("marker", start + 0.5 + 19.0 * k / count, source="lsl", label=f"{name}-{k}")
        for k in range(lapses if index == 0 else 0):
            log.event("lapse", start + 1.0 + k, channel="smile")
        log.event("block_end", start + length_s, block=name, completed=True)
    log.event("session_end", length_s * len(markers), status="finished")
    log.write_session({"participant": "P09", "status": "finished", "block_order": list(markers)})
    log.close()
    return log.folder


MEMORY_BOUND_MB = 50  # the whole report, plots included, of a session with 100,000 marker events


def test_a_report_of_100k_markers_counts_them_per_block_within_a_memory_bound(tmp_path):
    markers = {"one": 50_000, "two": 30_000, "three": 20_000}
    folder = _marker_heavy_session(tmp_path, markers)
    build_report(folder)  # once untraced: matplotlib's one-time caches (fonts) are not the report's

    tracemalloc.start()
    try:
        data = load_session(folder)
        stats = block_stats(data)
        _, reading_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        build_report(folder)
        _, build_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert {b.name: b.events.get("marker") for b in stats} == markers
    assert [b.lapses for b in stats] == [7, 0, 0]
    assert [b.frames for b in stats] == [400, 400, 400]
    assert data.events.totals["marker"] == 100_000
    assert len(data.events.marks["marker"]) <= TIMELINE_BINS, "the timeline keeps bins, not events"
    assert reading_peak < 5e6, f"reading held {reading_peak / 1e6:.1f} MB: events must be counted, not kept"
    assert build_peak < MEMORY_BOUND_MB * 1e6, f"building held {build_peak / 1e6:.1f} MB"
    written = {b["name"]: b["events"]["marker"] for b in json.loads((folder / "blocks.json").read_text())}
    assert written == markers


def test_the_report_reads_past_huge_and_damaged_event_lines(session_dir):
    """A 1 MB marker (logged before markers were cut), invalid UTF-8 and a broken line: counted or skipped."""
    with open(session_dir / "events.jsonl", "ab") as handle:
        huge = {"type": "marker", "t": 3.0, "wall": 1.0, "source": "lsl", "label": "x" * 1_000_000}
        handle.write((json.dumps(huge) + "\n").encode())
        handle.write(b'{"type": "marker", "t": 4.0, "wall": 1.0, "source": "lsl", "label": "bad \xff\xfe"}\n')
        handle.write(b'{"type": "marker", "t": 5.0, "wall"\n')  # the type and time still count
        handle.write(b"not json at all\n")
    one, two = block_stats(load_session(session_dir))
    assert one.events["marker"] == 3 and "marker" not in two.events
    assert one.lapses == 2
    assert build_report(session_dir).is_file()


def test_events_at_a_boundary_count_in_both_blocks_as_before(session_dir):
    with open(session_dir / "events.jsonl", "a") as handle:
        handle.write(json.dumps({"type": "marker", "t": 10.0, "wall": 1.0, "source": "key", "n": 1}) + "\n")
    one, two = block_stats(load_session(session_dir))
    assert one.events["marker"] == 1 and two.events["marker"] == 1


def test_a_link_planted_at_a_temporary_file_is_not_followed(session_dir, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    for name in (".report.html.tmp", ".blocks.json.tmp", ".timeline.png.tmp"):
        (session_dir / name).symlink_to(outside)
    build_report(session_dir)
    assert outside.read_text() == "keep me"
    assert (session_dir / "report.html").is_file() and not (session_dir / "report.html").is_symlink()
    assert not list(session_dir.glob(".*.tmp"))


# --- questionnaire answers (issue 21) ------------------------------------------------------------------------------

RATED_PROTOCOL = """
[protocol]
name = "rated"

[[block]]
name = "one"
duration_s = 10
condition = "mimic"

[[block]]
name = "two"
duration_s = 10
condition = "static"

[[questionnaire]]
id = "rate"

[[questionnaire.item]]
id = "likeable"
text = "How likeable was the face?"
kind = "likert"
low = "not at all"
high = "very"

[[questionnaire.item]]
id = "detected"
text = "Did the face imitate you?"
kind = "yesno"
detection = true
"""


def _rated_session(tmp_path, participant: str, answers: dict[str, tuple[str, str]], status: str = "finished"):
    """A two-block session (mimic, then static) whose questionnaire after each block got these answers:
    block -> (likeable, detected)."""
    from avatar.protocol import parse_protocol_text
    from avatar.questionnaire import Rating
    from avatar.ratings import RatingsLog

    protocol = parse_protocol_text(RATED_PROTOCOL, "rated.toml")
    log = SessionLog.create(tmp_path, f"{participant}_rated_x", BASE_COLUMN_NAMES + ("block", "condition", "phase"))
    ratings = RatingsLog(log.folder)
    log.event("session_start", 0.0)
    items = {i.id: i for i in protocol.questionnaires[0].items}
    for position, (name, condition) in enumerate((("one", "mimic"), ("two", "static")), start=1):
        start = (position - 1) * 12.0
        log.event("block_start", start, block=name, condition=condition, position=position)
        for i in range(100):
            t = start + i / 10
            log.frame({"frame": int(t * 10), "t": t, "faces": 1, "smile": 0.5, "echo_smile": 0.2, "block": name,
                       "condition": condition, "phase": "block"})
        log.event("block_end", start + 10.0, block=name, completed=True)
        for order, (item, answer) in enumerate(zip(("likeable", "detected"), answers.get(name, ()), strict=False), start=1):
            ratings.write(Rating(participant, name, condition, position, "rate", item, order, items[item].kind.value,
                                 items[item].text_sha256, answer, 900.0 + order, "key", start + 10.5 + order, 1.0))
    ratings.close()
    log.event("session_end", 24.0, status=status)
    log.write_session({"participant": participant, "status": status, "block_order": ["one", "two"],
                       "protocol": protocol.to_json()})
    log.close()
    return log.folder


def test_the_report_shows_each_items_answers_by_condition_and_the_detection_question(tmp_path):
    folder = _rated_session(tmp_path, "P01", {"one": ("6", "yes"), "two": ("2", "no")})
    html = build_report(folder).read_text()
    assert "<th>item</th><th>question</th><th>kind</th><th>mimic</th><th>static</th>" in html
    assert "<td>likeable</td><td>How likeable was the face?</td><td>likert</td><td>6.00 (n = 1)</td><td>2.00 (n = 1)</td>" in html
    assert "<h2>Detection: did the participant notice the imitation?</h2>" in html
    assert "<tr><td>mimic</td><td>yes 1 of 1 (100 %)</td></tr><tr><td>static</td><td>yes 0 of 1 (0 %)</td></tr>" in html
    assert 'src="ratings.png"' in html
    png = folder / "ratings.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_mode & 0o777 == 0o600
    stats = block_stats(load_session(folder))
    assert all("item_answer" not in b.events for b in stats)  # the questionnaires have their own section


def test_a_session_without_questionnaires_has_no_ratings_section(session_dir):
    html = build_report(session_dir).read_text()
    assert "Questionnaire answers" not in html and not (session_dir / "ratings.png").exists()


def test_the_group_report_gives_mean_sd_and_n_per_item_and_condition_and_a_tidy_csv(tmp_path, capsys):
    import csv

    data = tmp_path / "data"
    _rated_session(data, "P01", {"one": ("6", "yes"), "two": ("2", "no")})
    _rated_session(data, "P02", {"one": ("4", "no"), "two": ("3", "no")})
    _rated_session(data, "P03", {"one": ("5", "yes")}, status="aborted")  # aborted during the second questionnaire
    assert command_report(["--group", str(data)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "3 sessions, 10 answers" and out[1:] == [str(data / n) for n in
                                                               ("group_report.html", "group_summary.csv", "group_ratings.csv")]
    with open(data / "group_summary.csv", newline="") as handle:
        summary = list(csv.DictReader(handle))
    cells = {(r["item"], r["condition"]): r for r in summary}
    assert list(summary[0]) == ["questionnaire", "item", "kind", "condition", "n", "mean", "sd", "counts", "text"]
    likeable_mimic = cells[("likeable", "mimic")]
    assert (likeable_mimic["n"], likeable_mimic["mean"], likeable_mimic["sd"]) == ("3", "5", "1")
    assert (cells[("likeable", "static")]["n"], cells[("likeable", "static")]["mean"]) == ("2", "2.5")
    assert cells[("likeable", "static")]["sd"] == "0.707107"
    assert (cells[("detected", "mimic")]["mean"], cells[("detected", "mimic")]["counts"]) == ("0.666667", "yes=2; no=1")
    with open(data / "group_ratings.csv", newline="") as handle:
        tidy = list(csv.DictReader(handle))
    assert len(tidy) == 10 and list(tidy[0])[:4] == ["session", "protocol", "status", "participant"]
    assert {(r["participant"], r["status"]) for r in tidy} == {("P01", "finished"), ("P02", "finished"), ("P03", "aborted")}
    assert {r["value"] for r in tidy if r["item"] == "detected"} == {"1", "0"}
    page = (data / "group_report.html").read_text()
    assert "<h2>likeable</h2>" in page and "<h2>detected (the detection question)</h2>" in page
    assert "<tr><td>mimic</td><td>3</td><td>5.000</td><td>1.000</td><td>-</td></tr>" in page
    for name in ("group_report.html", "group_summary.csv", "group_ratings.csv"):
        assert (data / name).stat().st_mode & 0o777 == 0o600


def test_the_group_report_takes_session_folders_and_an_out_folder(tmp_path, capsys):
    one = _rated_session(tmp_path / "a", "P01", {"one": ("6", "yes")})
    two = _rated_session(tmp_path / "b", "P02", {"one": ("2", "no")})
    out = tmp_path / "out"
    out.mkdir()
    assert command_report(["--group", str(one), str(two), "--out", str(out)]) == 0
    assert (out / "group_summary.csv").read_text().splitlines()[1].startswith("rate,likeable,likert,mimic,2,4,2.828427,")


def test_report_needs_a_session_or_group_and_a_bad_group_folder_is_one_line(tmp_path):
    from avatar.errors import CliError, ConfigError

    with pytest.raises(CliError, match=r"^report: give a SESSION_DIR, or --group DIR\.\.\. \(not both\)$"):
        command_report([])
    with pytest.raises(CliError):
        command_report([str(tmp_path), "--group", str(tmp_path)])
    with pytest.raises(CliError, match="--out goes with --group"):
        command_report([str(tmp_path), "--out", str(tmp_path)])
    with pytest.raises(ConfigError, match=r"^report --group: no session folders in .*empty$"):
        (tmp_path / "empty").mkdir()
        command_report(["--group", str(tmp_path / "empty")])


def test_a_session_whose_questionnaires_were_skipped_says_so(tmp_path):
    folder = _rated_session(tmp_path, "P04", {})
    html = build_report(folder).read_text()
    assert "No answers: the protocol's questionnaires were skipped" in html and not (folder / "ratings.png").exists()
