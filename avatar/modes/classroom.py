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
from avatar.mode import KeyPress, Mode, ModeContext
from avatar.modes.screens import TextPainter
from avatar.outcome import FrameOutcome, ModeFrame

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


CHANNELS = (  # the bars' labels; each has the palette's colour of the same name
    "smile (you)",
    "wince (you)",
    "sad (you)",
    "distress (you)",
    "echo smile (avatar)",
    "echo concern (avatar)",
)


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
    learned: str = "nothing yet"  # what the avatar has learned from this visitor's smiles, in a few words


DISTRESS_CAPTION = 0.35  # distress this high is explained before anything else but a changed control


def caption_for(s: Snapshot, changed: str | None = None) -> str:
    """One plain-language line about what the room sees now; a just-changed control comes first."""
    condition_lines = {
        "static": "Static: the avatar does not echo you at all. Does it feel cold?",
        "delayed": f"Delayed: the avatar copies you {s.delay_s:.0f} s late. Does that still feel like an echo?",
        "sham": "Sham: the avatar smiles on its own timetable, not in answer to you.",
    }
    if changed == "condition":
        return condition_lines.get(s.condition, "Mimic: the avatar echoes your expression after a human delay.")
    if changed == "mapping":
        return ("Mirror mapping: the avatar moves like your reflection." if s.mapping == "mirror"
                else "Anatomical mapping: its left is its own left, not like a mirror. Which feels better?")
    if changed == "guard":
        return ("Guard on: the echo always stays a little smaller than your expression." if s.guard
                else "Guard off: the echo can be as big as your own expression. Too much?")
    if changed == "load":
        return _load_line(s)
    if changed == "familiarity":
        return _familiarity_line(s)
    if s.faces == 0:
        return "No face in view: the avatar waits, and its echo fades away."
    if s.distress is not None and s.distress >= DISTRESS_CAPTION:
        return "You look upset or in pain: the avatar answers with concern, never with a smile."
    if s.lapse:
        return "A lapse: the avatar missed that one. Busy people miss some expressions too."
    if s.condition in condition_lines:
        return condition_lines[s.condition]
    if s.load >= HIGH_LOAD:
        return _load_line(s)
    if s.familiarity < 0.3 or s.familiarity >= 0.7:
        return _familiarity_line(s)
    if s.smile is not None and s.smile > 0.4:
        return f"You are smiling: the avatar answers about {s.delay_s:.1f} s later, a little smaller."
    return f"Smile at the avatar: it echoes you after about {s.delay_s:.1f} s."


def _load_line(s: Snapshot) -> str:
    if s.load >= HIGH_LOAD:
        return "Load is high: the echo is weaker and slower, and it sometimes lapses."
    if s.load <= 0.25:
        return "Load is low: the avatar has full attention for you."
    return "Load is medium: the echo is a little weaker and slower."


def _familiarity_line(s: Snapshot) -> str:
    if s.familiarity >= 0.7:
        return "A friend: the echo is stronger and faster, and it answers pain or tears with concern."
    if s.familiarity < 0.3:
        return "A stranger: the avatar echoes smiles politely, and shows only a little concern."
    return "An acquaintance: a moderate echo, a little faster than for a stranger."


def learned_summary(why: EchoDiagnostics) -> str:
    """The model's per-visitor learning (empathy.py) in a few words for the class."""
    events = why.learned_events
    if events == 0:
        return "nothing yet"
    return f"{events} smile{'s' if events != 1 else ''}: size {why.learned_smile_peak:.2f}, rise {why.learned_smile_rise_s:.1f} s"


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
            return self._set(context, "familiarity", FAMILIARITY_PRESETS[presets[key]], label=presets[key])
        if key == pygame.K_0:
            return self._set(context, "familiarity", None, label="grows")
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
            return self._note(context, "new_person", True, "New person: starting again as a stranger")
        if key == pygame.K_t:
            self.captions = not self.captions
            return self._note(context, "captions", self.captions, f"Captions {'on' if self.captions else 'off'}")
        if key == pygame.K_i:
            self.camera_image = not self.camera_image
            return self._note(context, "camera_image", self.camera_image, f"Camera image {'on' if self.camera_image else 'off'}")
        return False

    def _set(self, context: ModeContext, name: str, value, label: str | None = None) -> bool:
        """Change the model before its next frame, then show and log the change."""
        context.send(Configure.of(**{name: value}))
        shown = label or (value.value if isinstance(value, Enum) else ("on" if value is True else "off" if value is False else value))
        pretty = {"delay_s": "delay", "familiarity": "familiarity"}.get(name, name)
        if name == "delay_s":
            shown = f"{value:g} s"
        self._changed = (name if name != "delay_s" else "condition", self._last_t)
        return self._note(context, name, value, f"{pretty.capitalize()}: {shown}")

    def _note(self, context: ModeContext, name: str, value, text: str) -> bool:
        context.emit(self._last_t, ControlChanged(name, value.value if isinstance(value, Enum) else value))
        self._toast = (text, time.monotonic())
        return True

    # -- drawing -----------------------------------------------------------------------------------

    def draw(self, context: ModeContext, surface, outcome: FrameOutcome | None, controls) -> bool:
        frame = outcome.mode_frame if outcome is not None else None
        snap = frame if isinstance(frame, Snapshot) else None
        p = self.palette
        w, h = surface.get_size()
        k = min(w / 1280, h / 720)
        surface.fill(p.background)
        pad = round(14 * k)
        caption_h = round(62 * k)
        plot_h = round(150 * k)
        top = pad
        body_bottom = h - caption_h - plot_h - 2 * pad
        col_w = (w - 4 * pad) // 3
        left = (pad, top, col_w, body_bottom - top)
        centre = (2 * pad + col_w, top, col_w, body_bottom - top)
        right = (3 * pad + 2 * col_w, top, w - 4 * pad - 2 * col_w, body_bottom - top)

        # Left: the camera (or the mesh alone), then the channel bars.
        cam_h = round(min(left[3] * 0.55, col_w * 0.75))
        self._draw_camera(surface, snap, outcome, (left[0], left[1], col_w, cam_h), k)
        self._draw_channels(surface, snap, (left[0], left[1] + cam_h + pad, col_w, left[3] - cam_h - pad), k)

        # Centre: the avatar, then the model's state.
        avatar_h = round(centre[3] * 0.6)
        if self._avatar_surface is None or self._avatar_surface.get_size() != (centre[2], avatar_h):
            import pygame

            self._avatar_surface = pygame.Surface((centre[2], avatar_h))
        context.painter.draw(self._avatar_surface, controls)
        surface.blit(self._avatar_surface, centre[:2])
        self._draw_state(surface, snap, (centre[0], centre[1] + avatar_h + pad, centre[2], centre[3] - avatar_h - pad), k)

        # Right: all 52 blendshapes.
        self._draw_blendshapes(surface, snap, right, k)

        # Bottom: the 10 s plot, then the caption line.
        self._draw_plot(surface, snap, (pad, body_bottom + pad, w - 2 * pad, plot_h), k)
        self._draw_caption(surface, snap, (0, h - caption_h, w, caption_h), k)
        self._draw_toast(surface, k)
        return True

    def _panel(self, surface, rect, title: str, k: float):
        import pygame

        pygame.draw.rect(surface, self.palette.panel, rect, border_radius=round(8 * k))
        if title:
            self._painter.blit(surface, title, round(22 * k), self.palette.dim, (rect[0] + 10 * k, rect[1] + 6 * k))

    def _draw_camera(self, surface, snap, outcome, rect, k: float) -> None:
        import cv2
        import pygame

        x0, y0, rw, rh = rect
        pygame.draw.rect(surface, (0, 0, 0), rect)
        frame = outcome.frame.bgr if outcome is not None else None
        if frame is None:
            return
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
            cv2.polylines(image, list(pts[contours].astype(np.int32)), False, self.palette.mesh, max(1, round(2 * k)), cv2.LINE_AA)
        elif snap is not None and snap.box is not None:
            cx, cy, bw, bh = snap.box
            p0 = (int((1 - cx - bw / 2) * tw), int((cy - bh / 2) * th))
            p1 = (int((1 - cx + bw / 2) * tw), int((cy + bh / 2) * th))
            cv2.rectangle(image, p0, p1, self.palette.mesh, 2)
        surf = pygame.image.frombuffer(np.ascontiguousarray(image).tobytes(), (tw, th), "RGB")
        surface.blit(surf, (ox, oy))
        label = "camera + face mesh" if self.camera_image else "face mesh (camera image hidden)"
        if snap is not None and snap.faces == 0:
            label = "no face seen"
        self._painter.blit(surface, label, round(20 * k), self.palette.text, (x0 + 8 * k, y0 + rh - 6 * k), "bottomleft")

    def _bar(self, surface, rect, value: float | None, color, k: float) -> None:
        import pygame

        x, y, w, h = rect
        pygame.draw.rect(surface, (8, 10, 18), rect, border_radius=round(4 * k))
        if value is not None:
            pygame.draw.rect(surface, color, (x, y, max(0, round(w * min(1.0, max(0.0, value)))), h), border_radius=round(4 * k))
        pygame.draw.rect(surface, self.palette.grid, rect, 1, border_radius=round(4 * k))

    def _draw_channels(self, surface, snap, rect, k: float) -> None:
        p = self.palette
        self._panel(surface, rect, "", k)
        x, y, w, h = rect
        values = ((None, None, None, None, 0.0, 0.0) if snap is None
                  else (snap.smile, snap.wince, snap.sad, snap.distress, snap.echo_smile, snap.echo_concern))
        colours = (p.smile, p.wince, p.sad, p.distress, p.echo, p.concern)  # in CHANNELS' order
        row_h = h / len(CHANNELS)
        size = round(min(26 * k, row_h * 0.48))
        for i, (label, color, value) in enumerate(zip(CHANNELS, colours, values, strict=True)):
            ry = y + i * row_h + 6 * k
            self._painter.blit(surface, label, size, color, (x + 10 * k, ry))
            shown = "-" if value is None else f"{value:.2f}"
            self._painter.blit(surface, shown, size, p.text, (x + w - 10 * k, ry), "topright")
            self._bar(surface, (round(x + 10 * k), round(ry + size + 2 * k), round(w - 20 * k), round(row_h * 0.3)), value, color, k)

    def _draw_state(self, surface, snap, rect, k: float) -> None:
        p = self.palette
        self._panel(surface, rect, "", k)
        x, y, w, h = rect
        if snap is None:
            return
        fam = f"{snap.familiarity:.2f}" + ("" if snap.familiarity_fixed else " (grows)")
        rows = (
            ("condition", snap.condition.upper(), p.smile if snap.condition != "mimic" else p.text),
            ("familiarity", fam, p.text),
            ("load", f"{snap.load:.2f}", p.wince if snap.load >= HIGH_LOAD else p.text),
            ("gain", f"{snap.gain:.2f}", p.text),
            ("delay", f"{snap.delay_s:.2f} s", p.text),
            ("lapses", f"{snap.lapses}   (chance {100 * snap.p_lapse:.0f} %)", p.concern if snap.lapse else p.text),
            ("mapping / guard", f"{snap.mapping} / {'on' if snap.guard else 'off'}", p.text),
            ("learned", snap.learned, p.echo if snap.learned != "nothing yet" else p.dim),
        )
        row_h = (h - 8 * k) / len(rows)
        size = round(min(27 * k, row_h * 0.8))
        for i, (name, value, color) in enumerate(rows):
            ry = y + 4 * k + i * row_h + (row_h - size * 0.7) / 2
            self._painter.blit(surface, name, size, p.dim, (x + 10 * k, ry))
            self._painter.blit(surface, value, size, color, (x + w * 0.45, ry))

    def _draw_blendshapes(self, surface, snap, rect, k: float) -> None:
        import pygame

        p = self.palette
        self._panel(surface, rect, "", k)
        x, y, w, h = rect
        names = list(Blendshape)
        per_col = math.ceil(len(names) / 2)
        row_h = (h - 8 * k) / per_col
        col_w = w / 2
        size = round(min(19 * k, row_h * 0.95))
        values = snap.blendshapes if snap is not None else None
        for i, shape in enumerate(names):
            cx = x + (i // per_col) * col_w + 6 * k
            ry = y + 4 * k + (i % per_col) * row_h
            value = float(values[shape]) if values is not None else 0.0
            bar_w = (col_w - 12 * k) * min(1.0, max(0.0, value))
            if bar_w >= 1:
                pygame.draw.rect(surface, (70, 60, 20) if value < 0.4 else (150, 115, 10), (cx, ry + 1, bar_w, row_h - 2))
            color = p.smile if value >= 0.4 else (p.text if value >= 0.1 else p.dim)
            self._painter.blit(surface, shape.name, size, color, (cx + 3 * k, ry + (row_h - size * 0.7) / 2))

    def _draw_plot(self, surface, snap, rect, k: float) -> None:
        import pygame

        p = self.palette
        self._panel(surface, rect, "", k)
        x, y, w, h = rect
        label_w = round(150 * k)
        px, py, pw, ph = x + label_w, y + 10 * k, w - label_w - 14 * k, h - 20 * k
        for level in (0.0, 0.5, 1.0):
            ly = py + ph * (1 - level)
            pygame.draw.line(surface, p.grid, (px, ly), (px + pw, ly), 1)
        size = round(24 * k)
        self._painter.blit(surface, "smile (you)", size, p.smile, (x + 10 * k, y + h * 0.06))
        self._painter.blit(surface, "echo (avatar)", size, p.echo, (x + 10 * k, y + h * 0.24))
        self._painter.blit(surface, "distress (you)", size, p.distress, (x + 10 * k, y + h * 0.42))
        self._painter.blit(surface, "concern (avatar)", size, p.concern, (x + 10 * k, y + h * 0.60))
        self._painter.blit(surface, f"last {PLOT_WINDOW_S:.0f} s", round(18 * k), p.dim, (x + 10 * k, y + h * 0.8))
        if snap is None or len(snap.history) < 2:
            return
        hist = snap.history
        now = snap.t_s

        def to_xy(t, v):
            return px + pw * (1 - (now - t) / PLOT_WINDOW_S), py + ph * (1 - v)

        width = max(2, round(3 * k))
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

    def _draw_caption(self, surface, snap, rect, k: float) -> None:
        import pygame

        p = self.palette
        x, y, w, h = rect
        pygame.draw.rect(surface, (0, 0, 0), rect)
        text = snap.caption if (snap is not None and self.captions) else ""
        help_line = "1-3/0 familiarity  arrows: familiarity, load  C condition  M mapping  G guard  D delay  R new person  T captions  I camera"
        if text:
            size = round(34 * k)
            while size > 12 and self._painter.font(size).size(text)[0] > w - 20 * k:
                size -= 2
            self._painter.blit(surface, text, size, p.text, (x + w / 2, y + h * 0.38), "center")
            self._painter.blit(surface, help_line, round(16 * k), p.dim, (x + w / 2, y + h - 3 * k), "midbottom")
        else:
            self._painter.blit(surface, help_line, round(20 * k), p.dim, (x + w / 2, y + h / 2), "center")

    def _draw_toast(self, surface, k: float) -> None:
        import pygame

        if self._toast is None:
            return
        text, since = self._toast
        if time.monotonic() - since > TOAST_S:
            self._toast = None
            return
        w, _ = surface.get_size()
        img = self._painter.render(text, round(44 * k), self.palette.background)
        box = img.get_rect(midtop=(w // 2, round(24 * k))).inflate(round(36 * k), round(18 * k))
        pygame.draw.rect(surface, self.palette.smile, box, border_radius=round(10 * k))
        surface.blit(img, img.get_rect(center=box.center))
