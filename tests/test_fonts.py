"""The screens' font: accents and other scripts drawn from real font files, runs side by side, wrapping that measures
the same way. Latin always runs; Japanese needs a CJK font on the machine (apt install fonts-noto-cjk)."""

from __future__ import annotations

import pytest

from avatar import fonts
from avatar._pygame import pygame
from avatar.render import AvatarRenderer, wrap_text

LATIN = "très àéîõü ñ ß ç Ωλ Привет"
JAPANESE = "日本語"
NO_GLYPH = "\U0010fffd"  # a private-use character no font draws: the primary's box


def _ink(surface) -> bytes:
    return pygame.image.tostring(surface, "RGBA")


def _box_of(font: fonts.Font):
    return _ink(font.render(NO_GLYPH, True, (255, 255, 255)))


def test_the_primary_face_is_matplotlibs_dejavu_and_has_every_accent():
    assert fonts.primary_font_path() is not None and fonts.primary_font_path().name == fonts.PRIMARY_FILE
    font = fonts.font(40)
    assert font.runs(LATIN) == [(0, LATIN)]  # one run, in the primary face
    box = _box_of(font)
    for char in "èéàçßΩП":
        assert _ink(font.render(char, True, (255, 255, 255))) != box, char


def test_sizes_match_pygames_default_font_so_layouts_stay_as_they_were():
    pygame.font.init()
    for px in (20, 40, 80):
        old = pygame.font.Font(None, px).size("Hello world")
        new = fonts.font(px).size("Hello world")
        assert abs(new[0] - old[0]) <= 0.08 * old[0] and abs(new[1] - old[1]) <= 0.15 * old[1], (px, old, new)


def test_a_typed_accent_keeps_its_letter_through_the_renderer():
    renderer = AvatarRenderer()
    accented, plain = renderer._text("très", 40, (255, 255, 255)), renderer._text("trs", 40, (255, 255, 255))
    assert accented.get_width() > plain.get_width()
    assert renderer.font(40).size("très") == accented.get_size()  # measured as it is drawn


needs_cjk = pytest.mark.skipif(not fonts.covers(JAPANESE), reason="no CJK font on this machine (apt install fonts-noto-cjk)")


@needs_cjk
def test_japanese_is_drawn_from_a_fallback_face_not_as_boxes():
    font = fonts.font(40)
    runs = font.runs(f"{JAPANESE} ok")
    assert [owner != 0 for owner, _ in runs] == [True, False] and runs[0][1].strip() == JAPANESE
    box = _box_of(font)
    glyphs = {_ink(font.render(char, True, (255, 255, 255))) for char in JAPANESE}
    assert box not in glyphs and len(glyphs) == 3  # three different real glyphs
    mixed = font.render(f"très {JAPANESE}", True, (255, 255, 255))
    assert mixed.get_size() == font.size(f"très {JAPANESE}")
    assert mixed.get_width() == font.size("très ")[0] + font.size(JAPANESE)[0]  # the runs side by side


@needs_cjk
def test_wrapping_breaks_a_line_without_spaces_and_measures_with_the_fallback():
    font = fonts.font(30)
    text = JAPANESE * 8
    lines = wrap_text(font, text, 200)
    assert len(lines) > 1 and "".join(lines) == text
    assert all(font.size(line)[0] <= 200 for line in lines)


def test_wrapping_keeps_words_whole_when_they_fit():
    font = fonts.font(30)
    assert wrap_text(font, "très bien merci", 10_000) == ["très bien merci"]
    lines = wrap_text(font, "très bien merci beaucoup", font.size("très bien")[0] + 2)
    assert lines[0] == "très bien"


def test_text_is_drawn_again_after_pygame_quit_and_init():
    """pygame.quit() frees the faces under their objects: a kept one drew into freed memory and crashed."""
    import subprocess
    import sys

    code = (
        "import os; os.environ['SDL_VIDEODRIVER'] = 'dummy'\n"
        "from avatar import fonts\nfrom avatar.render import AvatarRenderer\nfrom avatar._pygame import pygame\n"
        "renderer = AvatarRenderer()\n"
        "for _ in range(3):\n"
        "    pygame.init(); renderer.font(30).render('très', True, (255, 255, 255)); fonts.font(24).size('x'); pygame.quit()\n"
        "print('drawn')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "drawn" in result.stdout, result.stderr[-500:]
