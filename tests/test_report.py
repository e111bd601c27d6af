"""Session reports: per-block statistics from the files, and report.html with its PNGs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from avatar.contract import BASE_COLUMN_NAMES
from avatar.logs import SessionLog
from avatar.report import best_lag, block_stats, build_report, command_report, load_session


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
