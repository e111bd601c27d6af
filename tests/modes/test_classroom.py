"""Classroom mode: the whole view is recorded, and keys change the model at once and are logged."""

from __future__ import annotations

import cv2
import numpy as np
import pygame
import pytest
from conftest import FIXTURES, run_cli
from harness import ModeRecorder

from avatar.empathy import Condition, Mapping
from avatar.face_data import Blendshape
from avatar.mode import KeyPress
from avatar.modes.classroom import ClassroomMode, Snapshot, caption_for


@pytest.mark.slow
def test_save_video_records_a_changing_classroom_view(tmp_path):
    video = tmp_path / "class.mp4"
    shot = tmp_path / "shot.png"
    result = run_cli("--mode", "classroom", "--source", str(FIXTURES / "smile_on_off.mp4"), "--headless", "--max-frames", "90",
                     "--save-video", str(video), "--screenshot", str(shot), "--screenshot-at", "2")
    assert result.returncode == 0, result.stderr
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image.astype(np.int16))
    assert len(frames) == 90
    assert frames[0].shape[:2] == (720, 1280)
    assert np.abs(frames[-1] - frames[0]).mean() > 1.0
    assert shot.is_file()


def test_keys_change_the_model_before_its_next_frame_and_log_a_control_event():
    mode, context = ClassroomMode(), ModeRecorder()
    assert mode.on_key(context, KeyPress(pygame.K_c))
    assert mode.on_key(context, KeyPress(pygame.K_m))
    assert mode.on_key(context, KeyPress(pygame.K_g))
    mode.on_key(context, KeyPress(pygame.K_RIGHT))
    mode.on_key(context, KeyPress(pygame.K_RIGHT))  # two presses before a frame: each builds on the last
    mode.on_key(context, KeyPress(pygame.K_3))
    assert context.model.settings.condition is Condition.MIMIC  # nothing changes under a frame being answered
    settings = context.apply().settings
    assert settings.condition is Condition.DELAYED and settings.mapping is Mapping.ANATOMICAL and settings.guard is False
    assert settings.load == pytest.approx(0.4) and settings.familiarity == pytest.approx(0.9)
    controls = [(e[2]["name"], e[2]["value"]) for e in context.events if e[0] == "control"]
    assert controls == [("condition", "delayed"), ("mapping", "anatomical"), ("guard", False), ("load", 0.3), ("load", 0.4),
                        ("familiarity", 0.9)]
    assert not mode.on_key(context, KeyPress(pygame.K_q))  # quitting stays the runner's


def test_captions_explain_in_plain_language():
    base = dict(t_s=1.0, faces=1, smile=0.1, wince=0.0, sad=0.0, distress=0.0, echo_smile=0.0, echo_concern=0.0, familiarity=0.5, load=0.2,
                gain=0.5, delay_s=0.6, lapse=False, p_lapse=0.0, lapses=0, condition="mimic", mapping="mirror", guard=True,
                familiarity_fixed=True, blendshapes=None, box=None, landmarks=None, history=np.zeros((0, 3)), caption="")
    assert caption_for(Snapshot(**{**base, "load": 0.8})).startswith("Load is high: the echo is weaker and slower")
    assert "never with a smile" in caption_for(Snapshot(**{**base, "smile": 0.8, "sad": 0.7, "distress": 0.7}))
    assert "No face" in caption_for(Snapshot(**{**base, "faces": 0}))
    assert "late" in caption_for(Snapshot(**{**base, "condition": "delayed", "delay_s": 4.0}))
    assert "Guard off" in caption_for(Snapshot(**{**base, "guard": False}), changed="guard")


# --- issue 19: text for the back of the room, a banner beside the panels, sliders for a mouse or a finger ---

LARGE_ROOM = (1920, 1080)
PROJECTOR = (1280, 720)


@pytest.fixture
def scale():
    """Set --ui-scale for one test, and back to 1 after it."""
    from avatar.ui_scale import set_ui_scale

    yield set_ui_scale
    set_ui_scale(1.0)


@pytest.fixture(scope="module")
def smiling_outcomes(model_file):
    """Real readings of a real smiling face (tests/.media), answered by the real pipeline."""
    from conftest import real_media

    from avatar.outcome import Frame
    from avatar.pipeline import Pipeline, PipelineSettings

    image = cv2.imread(str(real_media("real/obama_smile.jpg")))
    pipeline = Pipeline(model_file, PipelineSettings(keep_landmarks=True), emit=lambda t, e: None)
    outcomes = []
    for i in range(6):
        frame = Frame(index=i, t_s=i / 30, capture_wall=0.0, capture_perf=0.0, bgr=image)
        outcomes.append(pipeline.respond(frame, pipeline.perceive(frame)))
    pipeline.close()
    assert outcomes[-1].reading.present
    return outcomes


class DrawingRecorder(ModeRecorder):
    """A mode context whose avatar is drawn by the real renderer."""

    @property
    def painter(self):
        from avatar.render import AvatarRenderer

        self.__dict__.setdefault("_renderer", AvatarRenderer())
        return self.__dict__["_renderer"]


def drawn_classroom(outcomes, size, new_person=False):
    """A classroom mode that answered the outcomes and drew one frame of `size`, with every text it drew:
    (text, the em size in pixels its letters were drawn at, its rect)."""
    mode, context = ClassroomMode(), DrawingRecorder()
    mode.on_start(context)
    answered = [mode.after_frame(context, outcome) for outcome in outcomes]
    if new_person:
        mode.on_key(context, KeyPress(pygame.K_r))
    texts = []
    painter = mode._painter
    render = painter.render

    def recording_render(text, size_px, color):
        img = render(text, size_px, color)
        texts.append([text, painter.font(size_px).em_px, None, img.get_size()])
        return img

    blit = painter.blit

    def recording_blit(surface, text, size_px, color, pos, anchor="topleft"):
        rect = blit(surface, text, size_px, color, pos, anchor)
        texts[-1][2] = rect
        return rect

    painter.render, painter.blit = recording_render, recording_blit
    surface = pygame.Surface(size)
    assert mode.draw(context, surface, answered[-1], answered[-1].controls)
    return mode, context, surface, texts


def test_no_classroom_text_is_smaller_than_24_px_at_1080p(smiling_outcomes):
    _, _, _, texts = drawn_classroom(smiling_outcomes, LARGE_ROOM, new_person=True)
    sizes = [size for _, size, _, _ in texts]
    assert len(texts) > 40  # the state, the bars, the strongest blendshapes, the plot's legend, the caption, the banner
    assert min(sizes) >= 24, sorted({(size, text) for text, size, _, _ in texts})[:5]
    assert max(sizes) >= 40  # the banner


@pytest.mark.parametrize("ui_scale", [1.0, 1.5, 2.0])
def test_nothing_overflows_a_720p_window_however_large_the_text(smiling_outcomes, scale, ui_scale):
    scale(ui_scale)
    mode, _, surface, texts = drawn_classroom(smiling_outcomes, PROJECTOR, new_person=True)
    window = pygame.Rect((0, 0), PROJECTOR)
    panels = [pygame.Rect(rect) for rect in mode.layout(PROJECTOR).panels().values()]
    for rect in mode.layout(PROJECTOR).panels().values():
        assert window.contains(pygame.Rect(rect))
    for text, _, rect, _ in texts:
        if rect is None:  # rendered to be measured or placed by hand (the banner, the camera's label)
            continue
        assert any(panel.contains(rect) for panel in panels), (text, rect)
    shown = {text for text, _, rect, _ in texts if text in {b.name for b in Blendshape}}
    blendshapes = smiling_outcomes[-1].reading.primary.blendshapes
    # Text a room can read leaves room for the strongest blendshapes only: fewer rows, never smaller type.
    ranked = sorted(Blendshape, key=lambda b: -float(blendshapes[b]))
    assert (8 if ui_scale == 1.0 else 3) <= len(shown) < len(Blendshape)
    assert shown == {b.name for b in ranked[: len(shown)]}


@pytest.mark.parametrize("size", [PROJECTOR, LARGE_ROOM])
@pytest.mark.parametrize("ui_scale", [1.0, 2.0])
def test_the_new_person_banner_covers_no_panel_but_the_avatar(size, ui_scale, scale):
    from avatar.strings import say

    scale(ui_scale)
    mode = ClassroomMode()
    layout = mode.layout(size)
    banner, lines = mode.banner_rect(say("classroom.toast_new_person"), layout)
    banner = pygame.Rect(banner)
    assert lines and pygame.Rect(layout.avatar).contains(banner)
    for name in ("camera", "channels", "state", "blendshapes", "plot", "caption"):
        assert not banner.colliderect(pygame.Rect(layout.panels()[name])), name
    for slider in layout.sliders:
        assert not banner.colliderect(pygame.Rect(slider.hit))


def drawn_for_pointer(size=PROJECTOR):
    mode, context = ClassroomMode(), ModeRecorder()
    mode.draw(context, pygame.Surface(size), None, None)  # lays the sliders out where the pointer finds them
    return mode, context, {s.name: s for s in mode.layout(size).sliders}


def at(slider, value: float, size=PROJECTOR):
    """The pointer on `slider` at `value`, as a PointerPress (fractions of the window)."""
    from avatar.mode import PointerPress

    x0, x1 = slider.track
    return PointerPress((x0 + value * (x1 - x0)) / size[0], (slider.hit[1] + slider.hit[3] / 2) / size[1])


def test_sliders_are_big_enough_for_a_finger():
    for name, slider in drawn_for_pointer(LARGE_ROOM)[2].items():
        assert slider.hit[3] >= 48, name
        assert slider.track[1] - slider.track[0] >= 400, name


def test_a_click_and_a_drag_on_the_sliders_send_what_the_keys_send():
    from avatar.mode import PointerPress

    mode, context, sliders = drawn_for_pointer()
    assert mode.on_pointer(context, at(sliders["familiarity"], 0.25))
    assert mode.on_pointer_drag(context, at(sliders["familiarity"], 0.8))
    assert mode.on_pointer_drag(context, at(sliders["familiarity"], 0.81))  # within a step: nothing new is sent
    assert mode.on_pointer_release(context, at(sliders["familiarity"], 0.81))
    assert not mode.on_pointer_drag(context, at(sliders["familiarity"], 0.1))  # released: a hover moves nothing
    assert mode.on_pointer(context, at(sliders["load"], 0.9))
    assert mode.on_pointer_release(context, at(sliders["load"], 0.9))
    assert not mode.on_pointer(context, PointerPress(0.05, 0.05))  # the camera: not a control
    settings = context.apply().settings
    assert settings.familiarity == pytest.approx(0.8) and settings.load == pytest.approx(0.9)
    controls = [(e[2]["name"], e[2]["value"]) for e in context.events if e[0] == "control"]
    assert controls == [("familiarity", 0.25), ("familiarity", 0.8), ("load", 0.9)]
    # The keys send the same command and log the same event.
    mode.on_key(context, KeyPress(pygame.K_UP))
    assert (context.events[-1][0], context.events[-1][2]["name"], context.events[-1][2]["value"]) == ("control", "familiarity", 0.9)


def test_a_touch_is_applied_once_though_sdl_sends_it_as_a_mouse_too():
    from types import SimpleNamespace

    from avatar.runners import WindowRunner

    mode, context, sliders = drawn_for_pointer()
    surface = pygame.Surface(PROJECTOR)
    runner = WindowRunner(SimpleNamespace(mode=mode, context=context,
                                          presenter=SimpleNamespace(display=SimpleNamespace(pygame=pygame, surface=surface))))

    def finger_and_mouse(finger_type, mouse_type, press, **mouse):
        pos = (round(press.x_frac * PROJECTOR[0]), round(press.y_frac * PROJECTOR[1]))
        runner._pointer_event(pygame.event.Event(finger_type, x=press.x_frac, y=press.y_frac, finger_id=0, touch_id=1))
        runner._pointer_event(pygame.event.Event(mouse_type, pos=pos, touch=True, **mouse))

    slider = sliders["load"]
    finger_and_mouse(pygame.FINGERDOWN, pygame.MOUSEBUTTONDOWN, at(slider, 0.3), button=1)
    finger_and_mouse(pygame.FINGERMOTION, pygame.MOUSEMOTION, at(slider, 0.5), buttons=(1, 0, 0), rel=(1, 0))
    finger_and_mouse(pygame.FINGERUP, pygame.MOUSEBUTTONUP, at(slider, 0.5), button=1)
    # A real mouse: the same path without `touch`.
    press = at(sliders["familiarity"], 0.6)
    pos = (round(press.x_frac * PROJECTOR[0]), round(press.y_frac * PROJECTOR[1]))
    runner._pointer_event(pygame.event.Event(pygame.MOUSEMOTION, pos=pos, buttons=(0, 0, 0), rel=(1, 0), touch=False))  # a hover
    runner._pointer_event(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1, touch=False))
    runner._pointer_event(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=1, touch=False))
    controls = [(e[2]["name"], e[2]["value"]) for e in context.events if e[0] == "control"]
    assert controls == [("load", 0.3), ("load", 0.5), ("familiarity", 0.6)]


def test_ui_scale_is_checked_on_the_command_line():
    from avatar.cli import build_run_parser
    from avatar.errors import CliError

    assert build_run_parser().parse_args(["--ui-scale", "1.5"]).ui_scale == 1.5
    assert build_run_parser().parse_args([]).ui_scale == 1.0
    for bad in ("0", "9", "big"):
        with pytest.raises(CliError, match="--ui-scale"):
            build_run_parser().parse_args(["--ui-scale", bad])


def test_the_classroom_speaks_french():
    from avatar.strings import say, use_language

    try:
        use_language("fr")
        assert say("classroom.toast_new_person").startswith("Nouvelle personne")
        base = dict(t_s=1.0, faces=0, smile=None, wince=None, sad=None, distress=None, echo_smile=0.0, echo_concern=0.0,
                    familiarity=0.5, load=0.2, gain=0.5, delay_s=0.6, lapse=False, p_lapse=0.0, lapses=0, condition="mimic",
                    mapping="mirror", guard=True, familiarity_fixed=True, blendshapes=None, box=None, landmarks=None,
                    history=np.zeros((0, 3)), caption="")
        assert caption_for(Snapshot(**base)).startswith("Aucun visage")
    finally:
        use_language("en")
