"""The presenter's recording dot: on the window whenever data is kept, never in the kept pixels."""

from __future__ import annotations

import pytest

from avatar.mode import Mode
from avatar.presenter import RECORDING_RED, Presenter, PresentSettings, draw_recording_mark, recording_mark_area
from avatar.render import AvatarRenderer
from avatar.window import Display

GREY = (90, 90, 90)


def _red_pixels(surface, area) -> int:
    return sum(1 for x in range(area.left, area.right) for y in range(area.top, area.bottom)
               if tuple(surface.get_at((x, y)))[:3] == RECORDING_RED)


# Displays are not closed here: pygame.quit() would invalidate avatar.fonts' process-wide fonts, which
# the other tests in this process go on using (a run opens one display and quits once, at its end).
@pytest.fixture
def window():
    return Display((800, 600), headless=False)  # a real window on SDL's dummy driver


def _presenter(display, recording: bool) -> Presenter:
    return Presenter(display, AvatarRenderer(), Mode(), context=None, settings=PresentSettings("test", recording=recording))


def _flipped(display, presenter) -> list:
    """What the window showed at each flip (a copy of the surface then)."""
    shown = []
    display.present = lambda: shown.append(display.surface.copy())
    presenter.present()
    return shown


@pytest.mark.parametrize("recording", [True, False])
def test_the_dot_is_on_the_window_exactly_when_data_is_kept(window, recording):
    presenter = _presenter(window, recording)
    window.surface.fill(GREY)
    (shown,) = _flipped(window, presenter)
    area = recording_mark_area(window.surface.get_size())
    assert (_red_pixels(shown, area) > 50) is recording
    assert area.right == 800 and area.top == 0  # the top right corner, away from the face


def test_the_dot_is_taken_off_again_so_the_video_and_screenshot_never_hold_it(window):
    presenter = _presenter(window, True)
    window.surface.fill(GREY)
    _flipped(window, presenter)
    area = recording_mark_area(window.surface.get_size())
    assert _red_pixels(window.surface, area) == 0
    assert tuple(window.surface.get_at((area.centerx, area.centery)))[:3] == GREY


def test_a_headless_run_draws_no_dot_nobody_would_see():
    display = Display((320, 240), headless=True)
    presenter = _presenter(display, True)
    display.surface.fill(GREY)
    presenter.present()
    assert _red_pixels(display.surface, recording_mark_area((320, 240))) == 0


@pytest.mark.parametrize("size", [(800, 600), (1920, 1080), (64, 64)])
def test_the_mark_fits_its_corner_at_any_size(size):
    import pygame

    pygame.font.init()
    surface = pygame.Surface(size)
    surface.fill(GREY)
    area = recording_mark_area(size)
    draw_recording_mark(surface, AvatarRenderer().font, area)
    assert surface.get_rect().contains(area) and _red_pixels(surface, area) > 0
    assert area.height <= max(20, size[1] // 10)  # small: a corner, not a banner
