"""Classroom mode: a projector view that shows the whole pipeline at once, with live controls.

Sits on top of the loop through avatar.mode.Mode hooks: the camera with the face mesh, the channels,
the empathy model's state, a scrolling smile-vs-echo plot, all 52 blendshapes and the avatar.
Keys change the model live; each change is shown, explained in a caption and logged as a `control` event.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import Enum

import numpy as np

from avatar.empathy import FAMILIARITY_PRESETS, Condition, Configure, EchoDiagnostics, Mapping, ResetPerson
from avatar.events import ControlChanged
from avatar.face import mesh_edges
from avatar.face_data import Blendshape
from avatar.mode import KeyPress, Mode, ModeContext, PointerPress
from avatar.modes.screens import TextPainter
from avatar.outcome import FrameOutcome, ModeFrame
from avatar.strings import say
from avatar.ui_scale import ui_scale

PLOT_WINDOW_S = 10.0
TOAST_S = 2.5  # how long a changed control is shown large (wall time: it is for the room, not the data)
EXPLAIN_CHANGE_S = 6.0  # a change's caption is preferred for this long (source time)
HIGH_LOAD = 0.6
DELAY_CHOICES_S = (1.0, 2.0, 4.0)


@dataclass(frozen=True)
class Palette:
    """Projector-friendly: a near-black ground, white text, saturated colours that survive a washed-out beam."""

    background: tuple = (12, 16, 28)
    panel: tuple = (30, 38, 58)
    text: tuple = (255, 255, 255)
    dim: tuple = (175, 185, 205)
    smile: tuple = (255, 205, 40)  # the person's smile: yellow
    echo: tuple = (60, 200, 255)  # the avatar's echo: cyan
    wince: tuple = (255, 110, 80)  # wince: orange-red
    sad: tuple = (90, 150, 255)  # sadness: blue
    distress: tuple = (255, 90, 170)  # distress (wince or sadness): pink, what concern answers
    concern: tuple = (200, 140, 255)  # concern: violet
    good: tuple = (90, 230, 120)
    grid: tuple = (70, 82, 110)
    mesh: tuple = (120, 255, 170)


# The bars, in the order they are drawn: (on-screen string, palette colour); the panel keeps the first ones
# of CHANNEL_PRIORITY when big text leaves room for fewer rows (wince and sadness are inside distress).
CHANNELS = (
    ("classroom.channel_smile", "smile"),
    ("classroom.channel_wince", "wince"),
    ("classroom.channel_sad", "sad"),
    ("classroom.channel_distress", "distress"),
    ("classroom.channel_echo_smile", "echo"),
    ("classroom.channel_echo_concern", "concern"),
)
CHANNEL_PRIORITY = (0, 4, 3, 5, 1, 2)

# Text sizes at a 1080-pixel-high window, as the painter is asked for them: the screens' font draws its
# em square at 0.6 of that (avatar.fonts.SIZE_SCALE), so SMALL_PX gives letters of a 24-pixel em, the
# least that is read from the back of a classroom. A screen of another height scales them with it, and
# --ui-scale multiplies them (avatar.ui_scale).
SMALL_PX = 40  # blendshape names, the plot's legend, the key hints, the camera's label: a 24 px em
BODY_PX = 46  # the state and the channel bars: 28 px
CAPTION_PX = 58  # 35 px
BANNER_PX = 72  # 43 px
SLIDER_HIT_PX = 60  # a slider's track takes a finger or a click anywhere in this height (>= 48 px)
SLIDER_STEP = 0.05  # a dragged slider moves in these steps: every step is a model command and a logged event


@dataclass(frozen=True)
class Snapshot(ModeFrame):
    """What one frame shows, made where the frame is answered and drawn in the presenting thread."""

    t_s: float
    faces: int
    smile: float | None
    wince: float | None
    sad: float | None
    distress: float | None
    echo_smile: float
    echo_concern: float
    familiarity: float
    load: float
    gain: float
    delay_s: float
    lapse: bool
    p_lapse: float
    lapses: int
    condition: str
    mapping: str
    guard: bool
    familiarity_fixed: bool
    blendshapes: np.ndarray | None
    box: tuple[float, float, float, float] | None  # centre x, centre y, width, height (0-1)
    landmarks: np.ndarray | None
    history: np.ndarray  # (n, 3): t, smile (NaN with no face), echo smile; the last 10 s
    caption: str
    learned: str = ""  # what the avatar has learned from this visitor's smiles, in a few words


DISTRESS_CAPTION = 0.35  # distress this high is explained before anything else but a changed control


def caption_for(s: Snapshot, changed: str | None = None) -> str:
    """One plain-language line about what the room sees now; a just-changed control comes first."""
    condition_lines = {
        "static": say("classroom.caption_static"),
        "delayed": say("classroom.caption_delayed", delay=f"{s.delay_s:.0f}"),
        "sham": say("classroom.caption_sham"),
    }
    if changed == "condition":
        return condition_lines.get(s.condition, say("classroom.caption_mimic"))
    if changed == "mapping":
        return say("classroom.caption_mirror" if s.mapping == "mirror" else "classroom.caption_anatomical")
    if changed == "guard":
        return say("classroom.caption_guard_on" if s.guard else "classroom.caption_guard_off")
    if changed == "load":
        return _load_line(s)
    if changed == "familiarity":
        return _familiarity_line(s)
    if s.faces == 0:
        return say("classroom.caption_no_face")
    if s.distress is not None and s.distress >= DISTRESS_CAPTION:
        return say("classroom.caption_distress")
    if s.lapse:
        return say("classroom.caption_lapse")
    if s.condition in condition_lines:
        return condition_lines[s.condition]
    if s.load >= HIGH_LOAD:
        return _load_line(s)
    if s.familiarity < 0.3 or s.familiarity >= 0.7:
        return _familiarity_line(s)
    if s.smile is not None and s.smile > 0.4:
        return say("classroom.caption_smiling", delay=f"{s.delay_s:.1f}")
    return say("classroom.caption_invite", delay=f"{s.delay_s:.1f}")


def _load_line(s: Snapshot) -> str:
    if s.load >= HIGH_LOAD:
        return say("classroom.caption_load_high")
    if s.load <= 0.25:
        return say("classroom.caption_load_low")
    return say("classroom.caption_load_medium")


def _familiarity_line(s: Snapshot) -> str:
    if s.familiarity >= 0.7:
        return say("classroom.caption_friend")
    if s.familiarity < 0.3:
        return say("classroom.caption_stranger")
    return say("classroom.caption_acquaintance")


def learned_summary(why: EchoDiagnostics) -> str:
    """The model's per-visitor learning (empathy.py) in a few words for the class."""
    events = why.learned_events
    if events == 0:
        return say("classroom.learned_nothing")
    return say("classroom.learned_one" if events == 1 else "classroom.learned", n=events,
               size=f"{why.learned_smile_peak:.2f}", rise=f"{why.learned_smile_rise_s:.1f}")


Rect = tuple[int, int, int, int]  # x, y, width, height in pixels


@dataclass(frozen=True)
class Slider:
    """An on-screen slider for a model setting: where it takes a click or a finger, and the value there."""

    name: str  # the model setting it changes: familiarity | load
    hit: Rect  # the whole band that takes the pointer (>= SLIDER_HIT_PX tall at 1080p)
    track: tuple[int, int]  # the x of 0 and of 1

    def holds(self, x: float, y: float) -> bool:
        hx, hy, hw, hh = self.hit
        return hx <= x < hx + hw and hy <= y < hy + hh

    def value_at(self, x: float) -> float:
        x0, x1 = self.track
        value = min(1.0, max(0.0, (x - x0) / max(1, x1 - x0)))
        return round(round(value / SLIDER_STEP) * SLIDER_STEP, 2)


@dataclass(frozen=True)
class ClassroomLayout:
    """Where each panel goes on a window of `size`, with the text sizes the current --ui-scale makes.
    The drawing and the pointer share it, so a finger lands on the slider that is shown."""

    size: tuple[int, int]
    unit: float  # window height / 1080: text sizes are SMALL_PX etc. times this (and then --ui-scale)
    pad: int
    camera: Rect
    channels: Rect
    avatar: Rect
    state: Rect  # the familiarity and load sliders, under the avatar
    settings: Rect  # the model's state in words (condition, delay, lapses, ...), above the blendshapes
    blendshapes: Rect
    plot: Rect
    caption: Rect
    sliders: tuple[Slider, ...]
    state_rows: int  # how many of the settings' rows fit

    def panels(self) -> dict[str, Rect]:
        return {"camera": self.camera, "channels": self.channels, "avatar": self.avatar, "state": self.state,
                "settings": self.settings, "blendshapes": self.blendshapes, "plot": self.plot, "caption": self.caption}


STATE_ROWS = 6  # condition, delay, lapses, gain, mapping / guard, learned: dropped from the end when they do not fit


class ClassroomMode(Mode):
    name = "classroom"
    needs_landmarks = True  # the mesh is drawn over the camera image

    def __init__(self, camera_image: bool = True, captions: bool = True, palette: Palette | None = None):
        self.camera_image = camera_image
        self.captions = captions
        self.palette = palette or Palette()
        self._painter = TextPainter(limit=1024)
        self._history: deque = deque()
        self._lock = threading.Lock()
        self._lapses = 0
        self._was_lapse = False
        self._last_t = 0.0
        self._familiarity = 0.5  # the model's familiarity on the last answered frame (it grows)
        self._changed: tuple[str, float] | None = None  # (name, source time) of the last control change
        self._toast: tuple[str, float] | None = None  # (text, wall time)
        self._edges = None
        self._avatar_surface = None
        self._layout: ClassroomLayout | None = None  # the last one drawn: where the pointer finds the sliders
        self._layout_scale = 0.0  # the --ui-scale the layout was made for
        self._dragging: str | None = None  # the slider a button or finger went down on

    # -- hooks ------------------------------------------------------------------------------------

    def on_start(self, context: ModeContext) -> None:
        self._edges = mesh_edges()

    def session_info(self) -> dict:
        return {"classroom": {"camera_image": self.camera_image, "captions": self.captions}}

    def after_frame(self, context: ModeContext, outcome: FrameOutcome) -> FrameOutcome:
        t = outcome.frame.t_s
        self._last_t = t
        x, e = outcome.expression, outcome.echo
        present = x.present
        lapse = e.diagnostics.lapse
        self._familiarity = e.familiarity
        if lapse and not self._was_lapse:
            self._lapses += 1
        self._was_lapse = lapse
        with self._lock:
            self._history.append((t, x.smile if present else math.nan, e.smile,
                                  x.distress if present else math.nan, e.concern))
            while self._history and self._history[0][0] < t - PLOT_WINDOW_S:
                self._history.popleft()
            history = np.array(self._history, dtype=float)
        model = context.model_settings()
        face = outcome.reading.primary if outcome.reading.present else None
        snap = Snapshot(
            t_s=t, faces=outcome.faces, smile=x.smile if present else None, wince=x.wince if present else None,
            sad=x.sad if present else None, distress=x.distress if present else None,
            echo_smile=e.smile, echo_concern=e.concern, familiarity=e.familiarity, load=e.load,
            gain=e.gain, delay_s=e.delay_s, lapse=lapse, p_lapse=e.diagnostics.p_lapse,
            lapses=self._lapses, condition=model.condition.value, mapping=model.mapping.value,
            guard=model.guard, familiarity_fixed=model.familiarity is not None,
            learned=learned_summary(e.diagnostics),
            blendshapes=None if face is None else face.blendshapes,
            box=None if face is None else (face.center_x, face.center_y, face.width, face.height),
            landmarks=None if face is None else face.landmarks,
            history=history, caption="",
        )
        changed = self._changed[0] if self._changed and t - self._changed[1] < EXPLAIN_CHANGE_S else None
        return dataclasses.replace(outcome, mode_frame=dataclasses.replace(snap, caption=caption_for(snap, changed)))

    # -- live controls ------------------------------------------------------------------------------

    def on_key(self, context: ModeContext, press: KeyPress) -> bool:
        import pygame

        s = context.model_settings()
        key = press.key
        if key in (pygame.K_UP, pygame.K_DOWN):
            current = s.familiarity if s.familiarity is not None else self._familiarity
            step = 0.1 if key == pygame.K_UP else -0.1
            return self._set(context, "familiarity", round(min(1.0, max(0.0, current + step)), 2))
        presets = {pygame.K_1: "stranger", pygame.K_2: "acquaintance", pygame.K_3: "friend"}
        if key in presets:
            return self._set(context, "familiarity", FAMILIARITY_PRESETS[presets[key]], label=say(f"classroom.preset_{presets[key]}"))
        if key == pygame.K_0:
            return self._set(context, "familiarity", None, label=say("classroom.preset_grows"))
        if key in (pygame.K_LEFT, pygame.K_RIGHT):
            step = 0.1 if key == pygame.K_RIGHT else -0.1
            return self._set(context, "load", round(min(1.0, max(0.0, s.load + step)), 2))
        if key == pygame.K_c:
            members = list(Condition)
            return self._set(context, "condition", members[(members.index(s.condition) + 1) % len(members)])
        if key == pygame.K_m:
            return self._set(context, "mapping", Mapping.ANATOMICAL if s.mapping is Mapping.MIRROR else Mapping.MIRROR)
        if key == pygame.K_g:
            return self._set(context, "guard", not s.guard)
        if key == pygame.K_d:
            later = [d for d in DELAY_CHOICES_S if d > s.delay_s + 1e-9]
            return self._set(context, "delay_s", later[0] if later else DELAY_CHOICES_S[0])
        if key == pygame.K_r:
            context.send(ResetPerson())
            return self._note(context, "new_person", True, say("classroom.toast_new_person"))
        if key == pygame.K_t:
            self.captions = not self.captions
            return self._note(context, "captions", self.captions, say("classroom.toast_captions_on" if self.captions else "classroom.toast_captions_off"))
        if key == pygame.K_i:
            self.camera_image = not self.camera_image
            return self._note(context, "camera_image", self.camera_image,
                              say("classroom.toast_camera_on" if self.camera_image else "classroom.toast_camera_off"))
        return False

    def on_pointer(self, context: ModeContext, press: PointerPress) -> bool:
        """A click or a touch on a slider's band sets it there and holds it for a drag."""
        x, y = self._pixels(press)
        for slider in self._layout.sliders if self._layout is not None else ():
            if slider.holds(x, y):
                self._dragging = slider.name
                self._slide(context, slider, x)
                return True
        self._dragging = None
        return False

    def on_pointer_drag(self, context: ModeContext, press: PointerPress) -> bool:
        """The held slider follows the pointer along its track, wherever it is vertically."""
        slider = self._held()
        if slider is None:
            return False
        self._slide(context, slider, self._pixels(press)[0])
        return True

    def on_pointer_release(self, context: ModeContext, press: PointerPress) -> bool:
        slider = self._held()
        self._dragging = None
        if slider is None:
            return False
        self._slide(context, slider, self._pixels(press)[0])
        return True

    def _pixels(self, press: PointerPress) -> tuple[float, float]:
        w, h = self._layout.size if self._layout is not None else (1, 1)
        return press.x_frac * w, press.y_frac * h

    def _held(self) -> Slider | None:
        if self._dragging is None or self._layout is None:
            return None
        return next((s for s in self._layout.sliders if s.name == self._dragging), None)

    def _slide(self, context: ModeContext, slider: Slider, x: float) -> None:
        """The same command and `control` event as the keys, once per step the value really moves."""
        value = slider.value_at(x)
        settings = context.model_settings()
        current = settings.familiarity if slider.name == "familiarity" else settings.load
        if current is None or abs(current - value) > 1e-9:
            self._set(context, slider.name, value)

    def _set(self, context: ModeContext, name: str, value, label: str | None = None) -> bool:
        """Change the model before its next frame, then show and log the change."""
        context.send(Configure.of(**{name: value}))
        if label is not None:
            shown = label
        elif name == "delay_s":
            shown = f"{value:g} s"
        elif isinstance(value, Enum):
            shown = say(f"classroom.name_{value.value}")
        elif isinstance(value, bool):
            shown = say("classroom.on" if value else "classroom.off")
        else:
            shown = f"{value:.2f}"
        self._changed = (name if name != "delay_s" else "condition", self._last_t)
        setting = say(f"classroom.setting_{name}")
        return self._note(context, name, value, say("classroom.toast_setting", setting=setting[:1].upper() + setting[1:], value=shown))

    def _note(self, context: ModeContext, name: str, value, text: str) -> bool:
        context.emit(self._last_t, ControlChanged(name, value.value if isinstance(value, Enum) else value))
        self._toast = (text, time.monotonic())
        return True

    # -- layout ------------------------------------------------------------------------------------

    def _px(self, design_px: float, unit: float) -> int:
        """A design size (at 1080 px high) for this window, before the painter's --ui-scale."""
        return max(1, round(design_px * unit))

    def _line(self, design_px: float, unit: float) -> int:
        """The height of a line of text at a design size, as the painter will draw it."""
        return self._painter.font(self._px(design_px, unit)).get_linesize()

    def help_lines(self, width: int, unit: float) -> list[str]:
        return self._painter.wrap(say("classroom.help"), self._px(SMALL_PX, unit), width)

    def layout(self, size: tuple[int, int]) -> ClassroomLayout:
        """Panels for a window of `size`. Text keeps its size; what does not fit is left out (fewer state
        rows, blendshapes and bars), never drawn smaller or past its panel."""
        w, h = size
        u = h / 1080
        pad = max(4, round(16 * u))
        caption_h = 2 * self._line(CAPTION_PX, u) + len(self.help_lines(w - 2 * pad, u)) * self._line(SMALL_PX, u) + 2 * pad
        plot_h = max(round(170 * u), 4 * self._line(SMALL_PX + 2, u) + self._line(SMALL_PX, u) + 2 * pad)
        top = pad
        body_h = max(1, h - caption_h - plot_h - 3 * pad - top)
        if body_h < 0.4 * h:  # very large text on a small window: the avatar before the plot
            plot_h = 0
            body_h = max(1, h - caption_h - 2 * pad - top)
        col_w = (w - 4 * pad) // 3
        cx, rx = 2 * pad + col_w, 3 * pad + 2 * col_w
        cam_h = round(min(body_h * 0.55, col_w * 0.75))
        camera = (pad, top, col_w, cam_h)
        channels = (pad, top + cam_h + pad, col_w, body_h - cam_h - pad)
        # The centre: the avatar, as large as the sliders under it leave (it is what the class watches).
        body_line = self._line(BODY_PX, u)
        slider_h = body_line + self._px(SLIDER_HIT_PX, u)
        state_h = 2 * slider_h + 2 * pad
        state = (cx, top + body_h - state_h, col_w, state_h)
        avatar = (cx, top, col_w, body_h - state_h - pad)
        sliders = []
        inner_x, inner_w = cx + pad, col_w - 2 * pad
        knob = self._px(SLIDER_HIT_PX, u) // 3
        for i, name in enumerate(("familiarity", "load")):
            band_y = state[1] + pad + i * slider_h + body_line
            sliders.append(Slider(name, (cx, band_y, col_w, self._px(SLIDER_HIT_PX, u)), (inner_x + knob, inner_x + inner_w - knob)))
        # The right: the model's state in words on top, the strongest blendshapes under it.
        row_pitch = round(body_line * 1.2)
        settings_h = min(round(body_h * 0.45), (STATE_ROWS - 1) * row_pitch + body_line + 2 * pad)
        rows = max(0, min(STATE_ROWS, (settings_h - 2 * pad - body_line) // max(1, row_pitch) + 1))
        right_w = w - pad - rx
        settings = (rx, top, right_w, settings_h)
        blendshapes = (rx, top + settings_h + pad, right_w, body_h - settings_h - pad)
        return ClassroomLayout(
            size=(w, h), unit=u, pad=pad, camera=camera, channels=channels, avatar=avatar, state=state,
            settings=settings, blendshapes=blendshapes, plot=(pad, top + body_h + pad, w - 2 * pad, plot_h),
            caption=(0, h - caption_h, w, caption_h), sliders=tuple(sliders), state_rows=rows)

    def banner_rect(self, text: str, lay: ClassroomLayout) -> tuple[Rect, list[str]]:
        """A changed control's banner: across the top of the avatar's panel, wrapped to its width, so it
        never covers the camera, the bars, the blendshapes or the sliders."""
        ax, ay, aw, ah = lay.avatar
        size, margin = self.banner_px(lay), lay.pad
        lines = self._painter.wrap(text, size, aw - 4 * margin)
        line_h = self._painter.font(size).get_linesize()
        lines = lines[: max(1, (ah - 2 * margin) // max(1, line_h))]
        box_h = min(ah - margin, len(lines) * line_h + 2 * margin)
        return (ax + margin, ay + margin // 2, aw - 2 * margin, box_h), lines

    def banner_px(self, lay: ClassroomLayout) -> int:
        """The banner's text size: BANNER_PX, or less when a large --ui-scale on a small window leaves the
        avatar's panel lower than one line of it (the banner stays on the avatar, whatever the scale)."""
        size = self._px(BANNER_PX, lay.unit)
        while size > 8 and self._painter.font(size).get_linesize() > lay.avatar[3] - 2 * lay.pad:
            size -= 2
        return size

    # -- drawing -----------------------------------------------------------------------------------

    def draw(self, context: ModeContext, surface, outcome: FrameOutcome | None, controls) -> bool:
        import pygame

        frame = outcome.mode_frame if outcome is not None else None
        snap = frame if isinstance(frame, Snapshot) else None
        size = surface.get_size()
        if self._layout is None or self._layout.size != size or self._layout_scale != ui_scale():
            self._layout, self._layout_scale = self.layout(size), ui_scale()
        lay = self._layout
        surface.fill(self.palette.background)
        self._draw_camera(surface, snap, outcome, lay)
        self._draw_channels(surface, snap, lay)
        ax, ay, aw, ah = lay.avatar
        if self._avatar_surface is None or self._avatar_surface.get_size() != (aw, ah):
            self._avatar_surface = pygame.Surface((max(1, aw), max(1, ah)))
        context.painter.draw(self._avatar_surface, controls)
        surface.blit(self._avatar_surface, (ax, ay))
        self._draw_state(surface, snap, lay)
        self._draw_blendshapes(surface, snap, lay)
        self._draw_plot(surface, snap, lay)
        self._draw_caption(surface, snap, lay)
        self._draw_toast(surface, lay)
        return True

    def _panel(self, surface, rect, unit: float) -> None:
        import pygame

        pygame.draw.rect(surface, self.palette.panel, rect, border_radius=max(2, round(10 * unit)))

    def _fit(self, text: str, size: int, width: float) -> str:
        """`text`, cut with '...' to fit `width` pixels: a long value loses its end, never its panel."""
        font = self._painter.font(size)
        if font.size(text)[0] <= width:
            return text
        while text and font.size(text + "...")[0] > width:
            text = text[:-1]
        return text + "..." if text else ""

    def _draw_camera(self, surface, snap, outcome, lay: ClassroomLayout) -> None:
        import cv2
        import pygame

        x0, y0, rw, rh = rect = lay.camera
        u = lay.unit
        pygame.draw.rect(surface, (0, 0, 0), rect)
        frame = outcome.frame.bgr if outcome is not None else None
        if frame is not None:
            fh, fw = frame.shape[:2]
            scale = min(rw / fw, rh / fh)
            tw, th = max(1, int(fw * scale)), max(1, int(fh * scale))
            ox, oy = x0 + (rw - tw) // 2, y0 + (rh - th) // 2
            if self.camera_image:
                # A mirror view (flipped), as people expect to see themselves; resize makes our own copy.
                image = cv2.cvtColor(cv2.flip(cv2.resize(frame, (tw, th), interpolation=cv2.INTER_AREA), 1), cv2.COLOR_BGR2RGB)
            else:
                image = np.zeros((th, tw, 3), dtype=np.uint8)
                image[:] = (20, 24, 36)
            if snap is not None and snap.landmarks is not None and self._edges is not None and len(self._edges[0]):
                pts = snap.landmarks[:, :2] * (tw, th)
                pts[:, 0] = tw - 1 - pts[:, 0]
                mesh, contours = self._edges
                # The fine mesh at a third of its strength, so the face shows through; the contours in full.
                overlay = image.copy()
                cv2.polylines(overlay, list(pts[mesh].astype(np.int32)), False, self.palette.mesh, 1, cv2.LINE_AA)
                image = cv2.addWeighted(overlay, 0.35, image, 0.65, 0.0)
                cv2.polylines(image, list(pts[contours].astype(np.int32)), False, self.palette.mesh, max(1, round(3 * u)), cv2.LINE_AA)
            elif snap is not None and snap.box is not None:
                cx, cy, bw, bh = snap.box
                p0 = (int((1 - cx - bw / 2) * tw), int((cy - bh / 2) * th))
                p1 = (int((1 - cx + bw / 2) * tw), int((cy + bh / 2) * th))
                cv2.rectangle(image, p0, p1, self.palette.mesh, 2)
            surface.blit(pygame.image.frombuffer(np.ascontiguousarray(image).tobytes(), (tw, th), "RGB"), (ox, oy))
        label = say("classroom.camera_mesh" if self.camera_image else "classroom.camera_hidden")
        if snap is not None and snap.faces == 0:
            label = say("classroom.camera_no_face")
        size = self._px(SMALL_PX, u)
        text = self._fit(label, size, rw - 2 * lay.pad)
        img = self._painter.render(text, size, self.palette.text)
        box = img.get_rect(bottomleft=(x0 + lay.pad, y0 + rh - lay.pad // 2))
        pygame.draw.rect(surface, (0, 0, 0), box.inflate(lay.pad, lay.pad // 2).clip(pygame.Rect(rect)))  # legible over any image
        surface.blit(img, box)

    def _bar(self, surface, rect, value: float | None, color, unit: float) -> None:
        import pygame

        x, y, w, h = rect
        radius = max(1, round(4 * unit))
        pygame.draw.rect(surface, (8, 10, 18), rect, border_radius=radius)
        if value is not None:
            pygame.draw.rect(surface, color, (x, y, max(0, round(w * min(1.0, max(0.0, value)))), h), border_radius=radius)
        pygame.draw.rect(surface, self.palette.grid, rect, 1, border_radius=radius)

    def _draw_channels(self, surface, snap, lay: ClassroomLayout) -> None:
        p, u, pad = self.palette, lay.unit, lay.pad
        x, y, w, h = lay.channels
        self._panel(surface, lay.channels, u)
        values = ((None, None, None, None, 0.0, 0.0) if snap is None
                  else (snap.smile, snap.wince, snap.sad, snap.distress, snap.echo_smile, snap.echo_concern))
        size = self._px(BODY_PX, u)
        line = self._line(BODY_PX, u)
        bar_h = max(3, round(12 * u))
        row_need = line + bar_h + max(2, round(6 * u))
        fits = max(0, min(len(CHANNELS), (h - pad) // row_need))
        shown = sorted(CHANNEL_PRIORITY[:fits])
        row_h = (h - pad) / max(1, fits)
        value_w = self._painter.font(size).size("0.00")[0]
        colours = {"smile": p.smile, "wince": p.wince, "sad": p.sad, "distress": p.distress, "echo": p.echo, "concern": p.concern}
        for row, i in enumerate(shown):
            key, colour_name = CHANNELS[i]
            color = colours[colour_name]
            ry = y + pad / 2 + row * row_h + (row_h - row_need) / 2
            self._painter.blit(surface, self._fit(say(key), size, w - 3 * pad - value_w), size, color, (x + pad, ry))
            value = values[i]
            self._painter.blit(surface, "-" if value is None else f"{value:.2f}", size, p.text, (x + w - pad, ry), "topright")
            self._bar(surface, (x + pad, round(ry + line), w - 2 * pad, bar_h), value, color, u)

    def _state_rows(self, snap: Snapshot) -> list[tuple[str, str, tuple]]:
        p = self.palette
        nothing = say("classroom.learned_nothing")
        return [
            (say("classroom.state_condition"), say(f"classroom.name_{snap.condition}").upper(), p.smile if snap.condition != "mimic" else p.text),
            (say("classroom.state_delay"), f"{snap.delay_s:.2f} s", p.text),
            (say("classroom.state_lapses"), say("classroom.lapses_value", n=snap.lapses, percent=f"{100 * snap.p_lapse:.0f}"),
             p.concern if snap.lapse else p.text),
            (say("classroom.state_gain"), f"{snap.gain:.2f}", p.text),
            (say("classroom.state_mapping_guard"),
             f"{say(f'classroom.name_{snap.mapping}')} / {say('classroom.on' if snap.guard else 'classroom.off')}", p.text),
            (say("classroom.state_learned"), snap.learned or nothing, p.echo if snap.learned not in ("", nothing) else p.dim),
        ]

    def _draw_state(self, surface, snap, lay: ClassroomLayout) -> None:
        import pygame

        p, u, pad = self.palette, lay.unit, lay.pad
        x, y, w, h = lay.state
        self._panel(surface, lay.state, u)
        size, line = self._px(BODY_PX, u), self._line(BODY_PX, u)
        labels = [say("classroom.setting_familiarity"), say("classroom.setting_load")]
        value_x = x + pad + min(w * 0.55, max(self._painter.font(size).size(t)[0] for t in labels) + pad)
        value_w = x + w - pad - value_x
        for slider in lay.sliders:
            if snap is None:
                value, shown = None, "-"
            elif slider.name == "familiarity":
                value = snap.familiarity
                shown = f"{value:.2f}" + ("" if snap.familiarity_fixed else " " + say("classroom.value_grows"))
            else:
                value, shown = snap.load, f"{snap.load:.2f}"
            held = self._dragging == slider.name
            label_y = slider.hit[1] - line
            self._painter.blit(surface, say(f"classroom.setting_{slider.name}"), size, p.text if held else p.dim, (x + pad, label_y))
            self._painter.blit(surface, self._fit(shown, size, value_w), size,
                               p.wince if slider.name == "load" and value is not None and value >= HIGH_LOAD else p.text, (value_x, label_y))
            x0, x1 = slider.track
            mid = slider.hit[1] + slider.hit[3] // 2
            knob = slider.hit[3] // 3
            thick = max(4, round(slider.hit[3] * 0.22))
            pygame.draw.rect(surface, (8, 10, 18), (x0, mid - thick // 2, x1 - x0, thick), border_radius=thick // 2)
            if value is not None:
                kx = round(x0 + (x1 - x0) * min(1.0, max(0.0, value)))
                colour = p.echo if slider.name == "familiarity" else p.wince
                pygame.draw.rect(surface, colour, (x0, mid - thick // 2, kx - x0, thick), border_radius=thick // 2)
                pygame.draw.circle(surface, p.text if held else colour, (kx, mid), knob)
                pygame.draw.circle(surface, p.background, (kx, mid), knob, max(2, round(3 * u)))
        self._draw_settings(surface, snap, lay)

    def _draw_settings(self, surface, snap, lay: ClassroomLayout) -> None:
        p, u, pad = self.palette, lay.unit, lay.pad
        x, y, w, h = lay.settings
        self._panel(surface, lay.settings, u)
        size, line = self._px(BODY_PX, u), self._line(BODY_PX, u)
        rows = self._state_rows(snap)[: lay.state_rows] if snap is not None else []
        if not rows:
            return
        value_x = x + pad + min(w * 0.55, max(self._painter.font(size).size(name)[0] for name, _, _ in rows) + pad)
        value_w = x + w - pad - value_x
        ry = y + pad
        pitch = min(line * 1.3, (y + h - pad - line - ry) / max(1, len(rows) - 1))  # the rows spread over what is left
        for name, value, color in rows:
            self._painter.blit(surface, name, size, p.dim, (x + pad, ry))
            self._painter.blit(surface, self._fit(value, size, value_w), size, color, (value_x, ry))
            ry += pitch

    def _draw_blendshapes(self, surface, snap, lay: ClassroomLayout) -> None:
        """All 52 by name where they fit; with bigger text, the strongest ones, strongest first."""
        import pygame

        p, u, pad = self.palette, lay.unit, lay.pad
        x, y, w, h = lay.blendshapes
        self._panel(surface, lay.blendshapes, u)
        names = list(Blendshape)
        size, line = self._px(SMALL_PX, u), self._line(SMALL_PX, u)
        row_h = line + max(1, round(3 * u))
        widest = max(self._painter.font(size).size(shape.name)[0] for shape in names)
        columns = 2 if widest + 3 * pad <= (w - pad) / 2 else 1
        col_w = (w - pad) / columns
        per_col = max(0, (h - 2 * pad - line) // row_h)  # the first line is the panel's title
        capacity = per_col * columns
        values = snap.blendshapes if snap is not None else None
        if capacity >= len(names):
            shown = names
            title = say("classroom.blendshapes_all", n=len(names))
            row_h = min(line * 1.5, (h - 2 * pad - line) / math.ceil(len(names) / columns))  # spread over the panel
        else:
            ranked = sorted(names, key=lambda b: -float(values[b]) if values is not None else 0.0)
            shown = ranked[:capacity]
            title = say("classroom.blendshapes_top", shown=len(shown), n=len(names))
        self._painter.blit(surface, self._fit(title, size, w - 2 * pad), size, p.dim, (x + pad, y + pad / 2))
        per_col = max(1, math.ceil(len(shown) / columns))
        for i, shape in enumerate(shown):
            cx = x + pad / 2 + (i // per_col) * col_w
            ry = y + pad / 2 + line + pad / 2 + (i % per_col) * row_h
            value = float(values[shape]) if values is not None else 0.0
            bar_w = (col_w - pad) * min(1.0, max(0.0, value))
            if bar_w >= 1:
                pygame.draw.rect(surface, (70, 60, 20) if value < 0.4 else (150, 115, 10), (cx, ry + 1, bar_w, row_h - 2))
            color = p.smile if value >= 0.4 else (p.text if value >= 0.1 else p.dim)
            self._painter.blit(surface, self._fit(shape.name, size, col_w - pad), size, color, (cx + pad / 4, ry + (row_h - line) / 2))

    def _draw_plot(self, surface, snap, lay: ClassroomLayout) -> None:
        import pygame

        p, u, pad = self.palette, lay.unit, lay.pad
        x, y, w, h = lay.plot
        if h <= 0:
            return
        self._panel(surface, lay.plot, u)
        legend = ((say("classroom.plot_smile"), p.smile), (say("classroom.plot_echo"), p.echo),
                  (say("classroom.plot_distress"), p.distress), (say("classroom.plot_concern"), p.concern))
        size, line = self._px(SMALL_PX + 2, u), self._line(SMALL_PX + 2, u)
        label_w = max(self._painter.font(size).size(text)[0] for text, _ in legend) + 2 * pad
        ly = y + pad
        for text, color in legend:
            self._painter.blit(surface, text, size, color, (x + pad, ly))
            ly += line
        self._painter.blit(surface, say("classroom.plot_window", seconds=f"{PLOT_WINDOW_S:.0f}"), self._px(SMALL_PX, u), p.dim, (x + pad, ly))
        px, py, pw, ph = x + label_w, y + pad, w - label_w - pad, h - 2 * pad
        for level in (0.0, 0.5, 1.0):
            gy = py + ph * (1 - level)
            pygame.draw.line(surface, p.grid, (px, gy), (px + pw, gy), 1)
        if snap is None or len(snap.history) < 2:
            return
        hist = snap.history
        now = snap.t_s

        def to_xy(t, v):
            return px + pw * (1 - (now - t) / PLOT_WINDOW_S), py + ph * (1 - v)

        width = max(2, round(4 * u))
        for column, color in ((3, p.distress), (4, p.concern), (1, p.smile), (2, p.echo)):
            run: list = []
            for t, v in zip(hist[:, 0], hist[:, column], strict=True):
                if t > now:
                    continue  # drawn behind perception: points newer than this frame are not shown yet
                if math.isnan(v):
                    if len(run) > 1:
                        pygame.draw.lines(surface, color, False, run, width)
                    run = []
                else:
                    run.append(to_xy(t, min(1.0, max(0.0, v))))
            if len(run) > 1:
                pygame.draw.lines(surface, color, False, run, width)

    def _draw_caption(self, surface, snap, lay: ClassroomLayout) -> None:
        """The caption in up to two lines of large type, then the key hints (wrapped, never shrunk)."""
        import pygame

        p, u, pad = self.palette, lay.unit, lay.pad
        x, y, w, h = lay.caption
        pygame.draw.rect(surface, (0, 0, 0), lay.caption)
        size, line = self._px(CAPTION_PX, u), self._line(CAPTION_PX, u)
        text = snap.caption if (snap is not None and self.captions) else ""
        lines = self._painter.wrap(text, size, w - 2 * pad) if text else []
        if len(lines) > 2:
            lines = [lines[0], self._fit(" ".join(lines[1:]), size, w - 2 * pad)]
        ty = y + pad + (2 - len(lines)) * line / 2
        for text_line in lines:
            self._painter.blit(surface, text_line, size, p.text, (x + w / 2, ty), "midtop")
            ty += line
        small, small_line = self._px(SMALL_PX, u), self._line(SMALL_PX, u)
        hy = y + pad + 2 * line
        for hint in self.help_lines(w - 2 * pad, u):
            self._painter.blit(surface, hint, small, p.dim, (x + w / 2, hy), "midtop")
            hy += small_line

    def _draw_toast(self, surface, lay: ClassroomLayout) -> None:
        import pygame

        if self._toast is None:
            return
        text, since = self._toast
        if time.monotonic() - since > TOAST_S:
            self._toast = None
            return
        rect, lines = self.banner_rect(text, lay)
        pygame.draw.rect(surface, self.palette.smile, rect, border_radius=max(2, round(12 * lay.unit)))
        size = self.banner_px(lay)
        line = self._painter.font(size).get_linesize()
        ty = rect[1] + (rect[3] - len(lines) * line) / 2
        for text_line in lines:
            self._painter.blit(surface, text_line, size, self.palette.background, (rect[0] + rect[2] / 2, ty), "midtop")
            ty += line
