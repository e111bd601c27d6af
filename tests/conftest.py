"""Shared test set-up: headless SDL, the repo's paths, and the real face model once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # tests use the repo's tools/ (clip warping, synthetic series)
    sys.path.insert(0, str(ROOT))
FIXTURES = ROOT / "tests" / "fixtures"
MEDIA = ROOT / "tests" / ".media"
ASTRONAUT = ROOT / "assets" / "media" / "astronaut.png"
DEMO = ROOT / "assets" / "demo.mp4"


@pytest.fixture(scope="session")
def model_file():
    from avatar.face import resolve_model

    return resolve_model()


@pytest.fixture(scope="session")
def group_photo() -> Path:
    path = MEDIA / "group.jpg"
    if not path.exists():
        pytest.fail("tests/.media/group.jpg is missing: run `make media` (make test does it)")
    return path


def real_media(name: str) -> Path:
    """A photo or clip of real people fetched by `make media` (tools/fetch_test_media.py)."""
    path = MEDIA / name
    if not path.exists():
        pytest.fail(f"tests/.media/{name} is missing: run `make media` (make test does it)")
    return path


def run_cli(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python run.py ARGS` as a user would, from the repo root."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=full_env
    )


def read_frames(session_dir: Path) -> list[dict]:
    import csv

    with open(session_dir / "frames.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def only_session(log_dir: Path) -> Path:
    (session,) = [p for p in Path(log_dir).iterdir() if p.is_dir()]
    return session


def decoded_frames(path: Path) -> int:
    """How many frames OpenCV decodes from a video, read to its end."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count
