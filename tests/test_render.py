"""The renderer (last stage): pixel tests on headless renders of the face, at several sizes and styles."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import time  # noqa: E402

import numpy as np  # noqa: E402
import pygame  # noqa: E402
import pytest  # noqa: E402

from avatar.empathy import Echo  # noqa: E402
from avatar.render import AvatarRenderer, render_benchmark, safe_text  # noqa: E402
from avatar.rig import NEUTRAL, IdleState, controls_from_echo  # noqa: E402
from avatar.styles import list_styles  # noqa: E402

REST = IdleState(blink=0.0, breath=0.0, gaze_x=0.0, gaze_y=0.0)
STYLES = [name for name, _, _ in list_styles()]


def face(smile=0.0, wince=0.0, idle=REST, **head):
    e = Echo(smile=smile, wince=0.5 * wince, concern=wince, familiarity=0.5, load=0.2, gain=1.0, delay_s=0.5)
    return controls_from_echo(e, idle, **head)


def render(style, controls=NEUTRAL, size=(640, 480), **overlays):
    r = AvatarRenderer(style)
    surface = pygame.Surface(size)
    r.draw(surface, controls, **overlays)
    return r, pygame.surfarray.array3d(surface).transpose(1, 0, 2).astype(int)  # rows, cols, rgb


def near(pixels, color, tol):
    return np.abs(pixels - np.array(color)).sum(axis=2) <= tol


def mouth_corner_y(style, controls):
    """Mean row of the mouth line's leftmost pixels (the viewer's-left corner)."""
    r, px = render(style, controls)
    lay, sh = r.layout((640, 480)), r.style.shape
    u = lay.unit_px
    y0, y1 = int(lay.centre_y + (sh.mouth_y - 0.2) * u), int(lay.centre_y + (sh.mouth_y + 0.4) * u)
    x0, x1 = int(lay.centre_x - 1.5 * sh.mouth_width * u), int(lay.centre_x)
    ink = near(px[y0:y1, x0:x1], r.style.colors.outline, 60)
    cols = np.where(ink.any(axis=0))[0]
    left = cols[: max(2, len(cols) // 12)]
    rows = [np.where(ink[:, c])[0].mean() for c in left]
    return y0 + float(np.mean(rows)), u


def inner_brow_top(style, controls):
    """Top row of the viewer's-left brow, near its inner end."""
    r, px = render(style, controls)
    lay, sh = r.layout((640, 480)), r.style.shape
    u = lay.unit_px
    x = int(lay.centre_x - (sh.eye_spacing - sh.brow_length * 0.4) * u)
    y0, y1 = int(lay.centre_y + (sh.brow_y - 0.25) * u), int(lay.centre_y + (sh.eye_y - sh.eye_height) * u)
    ink = near(px[y0:y1, x - 1 : x + 2], r.style.colors.brow, 30).any(axis=1)
    return y0 + int(np.where(ink)[0][0]), u


@pytest.mark.parametrize("style", STYLES)
def test_mouth_corners_move_up_for_a_smile(style):
    neutral, u = mouth_corner_y(style, face())
    half, _ = mouth_corner_y(style, face(smile=0.45))
    full, _ = mouth_corner_y(style, face(smile=1.0))
    assert half < neutral - 0.03 * u
    assert full < half - 0.03 * u


@pytest.mark.parametrize("style", STYLES)
def test_inner_brows_rise_for_concern(style):
    neutral, u = inner_brow_top(style, face())
    worried, _ = inner_brow_top(style, face(wince=1.0))
    assert worried < neutral - 0.08 * u


@pytest.mark.parametrize("style", ["friendly", "contrast"])
def test_eyes_narrow_for_a_smile_and_close_for_a_blink(style):
    r = AvatarRenderer(style)
    white, sh, lay = r.style.colors.eye_white, r.style.shape, r.layout((640, 480))
    eye_rows = slice(0, int(lay.centre_y + (sh.eye_y + sh.eye_height + 0.05) * lay.unit_px))  # not the teeth

    def white_count(controls):
        return int(near(render(style, controls)[1][eye_rows], white, 30).sum())

    neutral = white_count(face())
    assert white_count(face(smile=1.0)) < 0.6 * neutral
    assert white_count(face(idle=IdleState(blink=1.0, breath=0.0, gaze_x=0.0, gaze_y=0.0))) < 0.05 * neutral


@pytest.mark.parametrize("size", [(640, 480), (1280, 720), (480, 800), (160, 120), (300, 1000)])
@pytest.mark.parametrize("style", ["friendly", "contrast"])
def test_face_is_centred_and_fills_the_window(style, size):
    r, px = render(style, face(smile=0.3), size)
    w, h = size
    skin = near(px, r.style.colors.skin, 24)
    rows, cols = np.where(skin.any(axis=1))[0], np.where(skin.any(axis=0))[0]
    top, bottom, left, right = rows[0], rows[-1], cols[0], cols[-1]
    assert abs((left + right) / 2 - w / 2) <= 0.03 * w + 1
    assert abs((top + bottom) / 2 - h / 2) <= 0.12 * h + 1
    assert max((bottom - top) / h, (right - left) / w) >= 0.6
    assert top > 0 and left > 0 and bottom < h - 1 and right < w - 1  # whole face in view


def test_head_turn_moves_the_features_toward_the_turn():
    iris = AvatarRenderer("friendly").style.colors.iris

    def iris_x(controls):
        return np.where(near(render("friendly", controls)[1], iris, 30))[1].mean()

    straight = iris_x(face())
    assert iris_x(face(head_yaw_deg=-25.0)) > straight + 10  # mirrored: the person's left is the viewer's right
    assert iris_x(face(head_yaw_deg=25.0)) < straight - 10


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("size", [(160, 120), (1280, 720), (720, 1280)])
def test_each_style_renders_at_three_sizes(style, size):
    _, px = render(style, face(smile=0.7, wince=0.3, head_yaw_deg=10.0, head_roll_deg=5.0), size)
    assert px.shape == (size[1], size[0], 3)
    packed = (px[..., 0] << 16) | (px[..., 1] << 8) | px[..., 2]
    assert len(np.unique(packed)) > 8  # a face, not a blank fill


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (0, 0)])
def test_degenerate_sizes_do_not_crash(size):
    AvatarRenderer("friendly").draw(pygame.Surface(size), face(smile=1.0), status="s", bubble="b", caption="c")


def test_rendering_depends_only_on_the_controls():
    c = face(smile=0.6, head_yaw_deg=12.0)
    r = AvatarRenderer("friendly")
    a, b = pygame.Surface((320, 240)), pygame.Surface((320, 240))
    r.draw(a, c)
    r.draw(b, face(wince=1.0))
    r.draw(b, c)
    assert (pygame.surfarray.array3d(a) == pygame.surfarray.array3d(b)).all()


def test_overlays_draw_where_they_belong():
    _, plain = render("friendly", size=(640, 360))
    _, status = render("friendly", size=(640, 360), status="webcam 0 | 1 face | 60 fps")
    _, caption = render("friendly", size=(640, 360), caption="Come closer and smile!")
    _, bubble = render("friendly", size=(640, 360), bubble="Hello! It is lovely to see you smiling.")
    changed = lambda a: np.where((a != plain).any(axis=2))  # noqa: E731
    ys, xs = changed(status)
    assert ys.min() > 300 and xs.max() < 320
    ys, xs = changed(caption)
    assert ys.max() < 60
    ys, xs = changed(bubble)
    assert xs.min() > 380  # in the free space right of the face (landscape)


def test_fonts_are_created_once_per_size():
    r = AvatarRenderer("line")
    assert r.font(20) is r.font(20)
    surface = pygame.Surface((320, 240))
    created = []
    real_font = pygame.font.Font
    pygame.font.Font = lambda *args: created.append(args) or real_font(*args)
    try:
        for i in range(5):
            r.draw(surface, NEUTRAL, status=f"frame {i}", caption="hi")
    finally:
        pygame.font.Font = real_font
    assert len(created) <= 2  # the status line's size and the caption's, once each


def test_a_1080p_frame_is_well_inside_the_60_fps_budget():
    r = AvatarRenderer("friendly")
    surface = pygame.Surface((1920, 1080))
    frames = [face(smile=s / 10, head_yaw_deg=s) for s in range(10)]
    r.draw(surface, frames[0])
    t0 = time.perf_counter()
    for c in frames:
        r.draw(surface, c)
    assert (time.perf_counter() - t0) / len(frames) < 0.012


def test_benchmark_reports_the_keys_the_cli_prints():
    result = render_benchmark(["line"], frames=2)
    assert result["render_fps_1080p"] > 0 and result["render_fps_720p"] > 0
    assert {"1920x1080", "1280x720"} <= set(result["per_style"]["line"])
    assert result["rig_map_us"] > 0


# --- text from the world: chat replies and protocol files may hold anything -------------------------------


@pytest.mark.parametrize(
    "text,one_line,paragraphs",
    [
        ("plain text", "plain text", "plain text"),
        ("a\x00b", "ab", "ab"),
        ("a\ud800b", "a\ufffdb", "a\ufffdb"),  # a lone surrogate, as a bad decoder leaves it
        ("one\r\ntwo\rthree\u2028four", "one two three four", "one\ntwo\nthree\nfour"),
        ("esc\x1b[2J tab\tdel\x7f c1\x85", "esc[2J tab del c1 ", "esc[2J tab del c1\n"),
        ("😀 👩\u200d💻 ünïcode, 日本語", "😀 👩\u200d💻 ünïcode, 日本語", "😀 👩\u200d💻 ünïcode, 日本語"),
    ],
)
def test_safe_text_drops_control_characters_and_keeps_real_unicode(text, one_line, paragraphs):
    assert safe_text(text) == one_line
    assert safe_text(text, newlines=True) == paragraphs


HOSTILE_TEXT = "Hello\x00 there\ud800\x1b[31m\r\nsecond line\u2028third"


def test_text_with_nul_and_surrogates_is_drawn_not_raised():
    _, plain = render("friendly", size=(640, 360))
    _, drawn = render("friendly", size=(640, 360), status=HOSTILE_TEXT, caption=HOSTILE_TEXT, bubble=HOSTILE_TEXT)
    assert (drawn != plain).any()


def test_the_modes_text_painter_draws_hostile_text():
    from avatar.modes.screens import TextPainter, draw_message_screen

    surface = pygame.Surface((320, 240))
    painter = TextPainter()
    assert painter.render(HOSTILE_TEXT, 20, (255, 255, 255)).get_width() > 0
    draw_message_screen(surface, painter, HOSTILE_TEXT, body=HOSTILE_TEXT, footer=HOSTILE_TEXT)
    assert painter.wrap(HOSTILE_TEXT, 20, 300)[0].startswith("Hello there")
