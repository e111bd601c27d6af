"""`python -m avatar read`: every channel per still, bad files as errors, small faces in group photos."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from conftest import ASTRONAUT, FIXTURES, run_cli

from avatar.expression import CHANNEL_NAMES
from avatar.reading import find_faces, frame_count, read_images, read_still, still_reader


@pytest.fixture(scope="module")
def reader(model_file):
    with still_reader(model_file) as r:
        yield r


def test_group_photo_counts_several_faces(reader, group_photo):
    # MediaPipe finds none of these six faces in the full 1280x886 frame; the tiled search does.
    reading = find_faces(reader, read_still(group_photo))
    assert 2 <= reading.faces <= 7
    sizes = [f.size for f in (reading.primary, *reading.others)]
    assert reading.primary.size == max(sizes)


def test_astronaut_is_one_face(reader):
    assert find_faces(reader, read_still(ASTRONAUT)).faces == 1


def test_images_without_faces_read_zero(reader):
    h, w = 480, 640
    gradient = np.dstack([np.tile(np.linspace(0, 255, w, dtype=np.uint8), (h, 1))] * 3)
    noise = np.random.default_rng(1).integers(0, 256, (h, w, 3), dtype=np.uint8)
    landscape = np.zeros((h, w, 3), np.uint8)
    landscape[:] = (150, 190, 230)
    cv2.fillPoly(landscape, [np.array([[0, 300], [160, 150], [330, 260], [470, 120], [640, 280], [640, 480], [0, 480]], np.int32)], (70, 90, 60))
    for image in (gradient, noise, landscape):
        assert find_faces(reader, image).faces == 0


def test_every_channel_and_errors_in_json_lines(model_file, tmp_path):
    from PIL import Image

    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    frames = [Image.fromarray(np.full((32, 32, 3), v, np.uint8)) for v in (0, 120, 240)]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    still_gif = tmp_path / "still.gif"
    frames[0].save(still_gif)
    paths = [ASTRONAUT, tmp_path / "missing.png", empty, text, gif, still_gif]
    lines = list(read_images(paths, model_file=model_file))
    assert [line["path"] for line in lines] == [str(p) for p in paths]
    good = lines[0]
    assert good["faces"] == 1 and set(CHANNEL_NAMES) <= set(good)
    assert good["smile"] >= 0.6 and good["wince"] <= 0.25 and good["duchenne"] >= 0.6
    assert all("error" in line for line in lines[1:5])
    assert "animation" in lines[4]["error"] and "0 bytes" in lines[2]["error"]
    assert lines[5]["faces"] == 0 and lines[5]["smile"] is None


def test_frame_count_sees_animations(tmp_path):
    from PIL import Image

    frames = [Image.fromarray(np.full((16, 16, 3), v, np.uint8)) for v in (0, 200)]
    frames[0].save(tmp_path / "a.png", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "a.webp", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "s.png")
    assert frame_count(tmp_path / "a.png") > 1 and frame_count(tmp_path / "a.webp") > 1
    assert frame_count(tmp_path / "s.png") == 1


def test_read_command_exits_non_zero_after_reading_the_rest(tmp_path):
    result = run_cli("read", str(FIXTURES / "expressions" / "wince.png"), str(tmp_path / "missing.png"), timeout=120)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1
    assert lines[0]["faces"] == 1 and lines[0]["wince"] >= 0.5 and "error" in lines[1]


def test_read_command_refuses_an_image_bomb_and_reads_the_next(tmp_path):
    from test_sources import write_png_bomb

    bomb = write_png_bomb(tmp_path / "bomb.png")
    good = FIXTURES / "expressions" / "wince.png"
    result = run_cli("read", str(bomb), str(good), timeout=120)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert lines[0]["path"] == str(bomb) and "30000 x 30000 pixels" in lines[0]["error"]
    assert lines[1]["path"] == str(good) and lines[1]["faces"] == 1


def test_any_error_in_one_file_is_its_line_and_the_next_file_is_read(model_file, monkeypatch):
    import avatar.reading as reading

    real = reading.find_faces
    calls = []

    def fails_once(reader, rgb, search):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the model choked\nsecond line " + "x" * 1000)
        return real(reader, rgb, search)

    monkeypatch.setattr(reading, "find_faces", fails_once)
    lines = list(read_images([ASTRONAUT, ASTRONAUT], model_file=model_file))
    assert lines[0] == {"path": str(ASTRONAUT), "error": f"cannot read {ASTRONAUT}: RuntimeError: the model choked"}
    assert lines[1]["faces"] == 1
