"""The portrait avatar: a real photograph warped in real time by the rig's Controls (`--avatar portrait[:PATH]`).

A renderer like render.AvatarRenderer (draw, draw_overlays, layout, font), so every mode, the video
and the contact sheet take it unchanged. At start the photo's landmarks are read once (portrait_face.py,
through the face stage) and, per control, the warp of the photo at that control's full strength is
rendered once at the photo's own resolution (portrait_warp.FaceWarper: piecewise-affine on the face
mesh, a fixed ring and border, the rest filled harmonically) and kept as a displacement field on its
support (a Basis). Each frame is then cheap: the face region's field is the weighted sum of the bases,
resized to the screen's scale, and ONE cv2.remap samples the photo; a mouth-interior layer (a dark gap
and a band of teeth) is painted where the lips have parted, and the result is blitted over the cached
scaled photo. Head turn, tilt and breathing are bases too, so nothing outside the ring ever moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from avatar._pygame import pygame
from avatar.errors import ConfigError
from avatar.portrait_face import BUNDLED_PORTRAIT, PortraitFace, read_portrait_face
from avatar.portrait_warp import (
    BROW_LOWER_L,
    BROW_LOWER_R,
    BROW_UPPER_L,
    BROW_UPPER_R,
    CHEEK_L,
    CHEEK_R,
    CHIN,
    EYE_CORNERS_L,
    EYE_CORNERS_R,
    EYE_LOWER_L,
    EYE_LOWER_R,
    EYE_UPPER_L,
    EYE_UPPER_R,
    FACE_OVAL,
    LID_FOLD_LOWER_L,
    LID_FOLD_LOWER_R,
    LID_FOLD_UPPER_L,
    LID_FOLD_UPPER_R,
    LOWER_INNER_L,
    LOWER_INNER_R,
    LOWER_OUTER_L,
    LOWER_OUTER_R,
    NOSE,
    UPPER_INNER_L,
    UPPER_INNER_R,
    UPPER_OUTER_L,
    UPPER_OUTER_R,
    CloseGap,
    FaceWarper,
    _both,
    pose_offsets,
)
from avatar.render import AvatarRenderer, FaceLayout
from avatar.rig import NEUTRAL, Controls

SPEC = "portrait"
RING_SCALE = 1.55  # the fixed ring around the face outline: room for the jaw and a head turn to move into
SMOOTH_PX = 1.2  # blur on each field (not the image): hides the creases along mesh edges
# The photo turns, nods and tilts less than a cartoon: a photo has no far side to show.
HEAD_SHARE = 0.4  # of the rig's angle
YAW_DEG, PITCH_DEG, ROLL_DEG = 8.0, 6.0, 8.0  # each basis' angle: the most the photo turns
BREATH_FACE_UNITS = 0.035
LID_LAYER_FROM, LID_LAYER_FULL = 0.4, 0.8  # the painted lid fades in over this range of the lids' weight

# The inner lip contour, round the mouth: its warped outline is where the mouth-interior layer goes.
MOUTH_GAP = UPPER_INNER_R + UPPER_INNER_L[-2::-1] + LOWER_INNER_L[1:] + LOWER_INNER_R[-2:0:-1]
UPPER_GAP = UPPER_INNER_R + UPPER_INNER_L[-2::-1]  # corner to corner, along the upper lip
LOWER_GAP = LOWER_INNER_R + LOWER_INNER_L[-2::-1]
# Each eye's closing lid: its outer corner, the fold above the lid, its inner corner, then the lash line
# back (inner -> outer). The first EYE_LID_FOLD points outline the lid skin; the rest is the lash line.
EYE_LID_R = (33, *LID_FOLD_UPPER_R, 133, *EYE_UPPER_R[::-1])
EYE_LID_L = (263, *LID_FOLD_UPPER_L, 362, *EYE_UPPER_L[::-1])
TRACKED = MOUTH_GAP + EYE_LID_R + EYE_LID_L  # landmarks whose warped places the painted layers follow
MOUTH_DARK = np.array((52, 22, 26), dtype=np.float32)
TEETH = np.array((243, 238, 226), dtype=np.float32)
LASHES = np.array((34, 24, 22), dtype=np.float32)

_EYES = _both(EYE_CORNERS_R, EYE_CORNERS_L, 0.0, 0.0)
_BROWS_STILL = [*_both(BROW_UPPER_R, BROW_UPPER_L, 0.0, 0.0), *_both(BROW_LOWER_R, BROW_LOWER_L, 0.0, 0.0)]
_NOSE_STILL = [(NOSE, 0.0, 0.0)]


def _lips(outer_in, outer_down, inner_in, inner_down, lower_outer_down=None, lower_inner_down=None) -> list:
    lod = outer_down if lower_outer_down is None else lower_outer_down
    lid = inner_down if lower_inner_down is None else lower_inner_down
    return [
        *_both(UPPER_OUTER_R, UPPER_OUTER_L, outer_in, outer_down),
        *_both(LOWER_OUTER_R, LOWER_OUTER_L, outer_in, lod),
        *_both(UPPER_INNER_R, UPPER_INNER_L, inner_in, inner_down),
        *_both(LOWER_INNER_R, LOWER_INNER_L, inner_in, lid),
    ]


# Each basis: the landmark moves (face units, as in portrait_warp's poses) at the control's full strength.
# Named landmarks are pinned where a basis does not move them, so each stays in its own region.
BASIS_MOVES: dict[str, list] = {
    # AU12: the corners up and out, the lips stretched; the lower lip follows the corners less.
    "smile": [*_lips((-0.13, -0.02, 0.0), (-0.16, -0.05, -0.02), (-0.13, -0.02, 0.0), (-0.15, -0.05, -0.015),
                     (-0.13, -0.03, 0.02), (-0.13, -0.03, 0.015)),
              *_NOSE_STILL, *_EYES, (CHIN, 0.0, 0.0)],
    "corners_down": [*_lips((0.03, 0.0), (0.06, 0.0), (0.03, 0.0), (0.06, 0.0), (0.05, 0.0), (0.05, 0.0)),
                     *_NOSE_STILL, (CHIN, 0.0, 0.0)],
    # The lips part: the upper lip rises (AU10), the lower drops (AU16); the jaw drops the chin with it (AU26).
    "upper_lip": [*_lips(0.0, (0.0, -0.01, -0.015, -0.02, -0.02, -0.02), 0.0, (0.0, -0.04, -0.06, -0.07, -0.07, -0.07), 0.0, 0.0),
                  *_NOSE_STILL],
    "lower_lip": [*_lips(0.0, 0.0, 0.0, 0.0, (0.0, 0.035, 0.05, 0.06, 0.06, 0.06), (0.0, 0.05, 0.08, 0.09, 0.09, 0.09)),
                  (CHIN, 0.0, 0.03), *_NOSE_STILL],
    "jaw": [*_lips(0.0, 0.0, 0.0, 0.0, (0.02, 0.14, 0.2, 0.23, 0.24, 0.24), (0.02, 0.13, 0.19, 0.21, 0.22, 0.22)),
            (CHIN, 0.0, 0.26), *_NOSE_STILL, *_EYES,
            (FACE_OVAL[10:27], 0.0, (0.0, 0.1, 0.22, 0.26, 0.22, 0.1, 0.0))],
    # AU24: the lips pressed thin toward their line, the corners a little in.
    "lip_press": [*_lips(0.03, 0.035, 0.03, 0.0, -0.035, 0.0), *_NOSE_STILL, (CHIN, 0.0, 0.0)],
    # AU1 / AU4 at the inner ends, AU2 at the outer; the lid fold follows the brow a little.
    "brow_inner_up": [*_both(BROW_UPPER_R, BROW_UPPER_L, 0.0, (-0.03, -0.06, -0.10, -0.14, -0.16)),
                      *_both(BROW_LOWER_R, BROW_LOWER_L, 0.0, (-0.03, -0.06, -0.10, -0.14, -0.16)),
                      *_both(LID_FOLD_UPPER_R, LID_FOLD_UPPER_L, 0.0, (0.0, -0.01, -0.02, -0.03, -0.03, -0.02, 0.0)),
                      *_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, 0.0), *_EYES, *_NOSE_STILL],
    "brow_inner_down": [*_both(BROW_UPPER_R, BROW_UPPER_L, (0.0, 0.04), (0.01, 0.03, 0.05, 0.07, 0.08)),
                        *_both(BROW_LOWER_R, BROW_LOWER_L, (0.0, 0.04), (0.01, 0.03, 0.05, 0.07, 0.08)),
                        *_both(LID_FOLD_UPPER_R, LID_FOLD_UPPER_L, 0.0, (0.0, 0.01, 0.02, 0.03, 0.03, 0.02, 0.0)),
                        *_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, 0.0), *_EYES, *_NOSE_STILL],
    "brow_outer_up": [*_both(BROW_UPPER_R, BROW_UPPER_L, 0.0, (-0.09, -0.07, -0.04, -0.02, 0.0)),
                      *_both(BROW_LOWER_R, BROW_LOWER_L, 0.0, (-0.09, -0.07, -0.04, -0.02, 0.0)),
                      *_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, 0.0), *_EYES, *_NOSE_STILL],
    "brow_outer_down": [*_both(BROW_UPPER_R, BROW_UPPER_L, 0.0, (0.06, 0.045, 0.025, 0.01, 0.0)),
                        *_both(BROW_LOWER_R, BROW_LOWER_L, 0.0, (0.06, 0.045, 0.025, 0.01, 0.0)),
                        *_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, 0.0), *_EYES, *_NOSE_STILL],
    # A blink: the upper lid is drawn down onto the lower one, and the skin of the fold above follows it,
    # so the closed eye is covered by lid skin (not squashed); the brows and the lower lid stay.
    # The closed line sits a hair below the open lower lid, so no white shows under the lashes.
    "lids": [*_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, 0.03), *_both(EYE_LOWER_R, EYE_LOWER_L, 0.0, 0.03),
             CloseGap(EYE_UPPER_R + EYE_UPPER_L, EYE_LOWER_R + EYE_LOWER_L, fraction=0.97, upper_share=1.0),
             *_both(LID_FOLD_UPPER_R, LID_FOLD_UPPER_L, 0.0, (0.01, 0.05, 0.07, 0.07, 0.07, 0.05, 0.01)),
             *_EYES, *_BROWS_STILL, *_both(LID_FOLD_LOWER_R, LID_FOLD_LOWER_L, 0.0, 0.0), *_NOSE_STILL],
    # AU6: the cheeks rise and push the lower lids up (the Duchenne narrowing from below).
    "cheeks": [*_both(CHEEK_R, CHEEK_L, 0.0, -0.09), *_both(LID_FOLD_LOWER_R, LID_FOLD_LOWER_L, 0.0, (0.0, -0.04, 0.0)),
               *_both(EYE_LOWER_R, EYE_LOWER_L, 0.0, (0.0, -0.03, 0.0)), *_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, 0.0),
               *_EYES, *_NOSE_STILL, *_BROWS_STILL],
}
SIGNED = {  # control name -> (basis for +, basis for -)
    "corners": ("smile", "corners_down"),
    "brow_inner": ("brow_inner_up", "brow_inner_down"),
    "brow_outer": ("brow_outer_up", "brow_outer_down"),
    "yaw": ("yaw+", "yaw-"),
    "pitch": ("pitch+", "pitch-"),
    "roll": ("roll+", "roll-"),
    "breath": ("breath+", "breath-"),
    "gaze_x": ("gaze_x+", "gaze_x-"),
    "gaze_y": ("gaze_y+", "gaze_y-"),
}


@dataclass(frozen=True, eq=False)
class Basis:
    """One control's warp at full strength: a destination -> source offset field on its support (y0, x0 on)."""

    y0: int
    x0: int
    field: np.ndarray  # (h, w, 2) float32, pixels of the photo
    moves: np.ndarray  # (len(TRACKED), 2): where the tracked landmarks go, pixels


def _rigid_moves(face: PortraitFace, kind: str, sign: float) -> np.ndarray:
    """Per-landmark pixel moves of a head turn (yaw), nod (pitch), tilt (roll) or breath, for the 468 mesh points."""
    lm = face.landmarks[:468].astype(np.float64)
    f = face.frame
    if kind == "roll":
        pivot = lm[152, :2] + f.y_axis * 0.3 * f.iod  # about the neck, not the nose
        a = math.radians(sign * ROLL_DEG)
        r = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
        return (lm[:, :2] - pivot) @ r.T + pivot - lm[:, :2]
    if kind == "breath":
        return np.tile(-sign * BREATH_FACE_UNITS * f.iod * f.y_axis, (len(lm), 1))
    # Yaw and pitch: features move by their depth in front of the face's rim (MediaPipe z: nearer is smaller).
    rim = lm[list(FACE_OVAL), 2].mean()
    depth = np.clip(rim - lm[:, 2], 0.0, None)
    if kind == "yaw":
        return np.outer(depth * math.sin(math.radians(sign * YAW_DEG)), f.x_axis)
    return np.outer(-depth * math.sin(math.radians(sign * PITCH_DEG)), f.y_axis)


class PortraitModel:
    """Everything precomputed for one PortraitFace: the photo, its face region and a Basis per control direction."""

    def __init__(self, face: PortraitFace, region: tuple[int, int, int, int], bases: dict[str, Basis], lips: np.ndarray):
        self.face = face
        self.region = region  # (y0, y1, x0, x1) in the photo: outside it nothing ever moves
        self.bases = bases
        self.tracked = lips  # (len(TRACKED), 2) the tracked landmarks at rest
        self.lips = lips[: len(MOUTH_GAP)]  # the inner lips at rest
        self.lid_skin = _lid_skin(face)  # (2, 3) RGB of each eye's lid skin, for the closed lid
        self.iod = face.frame.iod

    @classmethod
    def from_face(cls, face: PortraitFace) -> PortraitModel:
        lm = face.landmarks[:, :2].astype(np.float64)
        h, w = face.image.shape[:2]
        oval = lm[list(FACE_OVAL)]
        centre = oval.mean(axis=0)
        ring = centre + RING_SCALE * (oval - centre)
        margin = 4
        x0, y0 = (max(0, int(v) - margin) for v in ring.min(axis=0))
        x1, y1 = (min(n, int(math.ceil(v)) + margin + 1) for v, n in zip(ring.max(axis=0), (w, h), strict=True))
        local = lm - (x0, y0)
        warper = FaceWarper((y1 - y0, x1 - x0), local, ring_scale=RING_SCALE, border_step=32)
        frame = warper.frame
        grid = np.dstack([warper._grid_x, warper._grid_y])
        bases: dict[str, Basis] = {}

        def add(name: str, moves: dict[int, np.ndarray]) -> None:
            map_x, map_y = warper.maps(moves, SMOOTH_PX if name != "lids" else 0.5)
            field = np.dstack([map_x, map_y]) - grid
            vertex = warper.dense_displacements(moves)
            support = np.abs(field).max(axis=2) > 0.02
            ys, xs = np.nonzero(support)
            if len(ys) == 0:
                return
            sy, sx = ys.min(), xs.min()
            sl = (slice(sy, ys.max() + 1), slice(sx, xs.max() + 1))
            bases[name] = Basis(int(sy + y0), int(sx + x0), np.ascontiguousarray(field[sl], dtype=np.float32),
                                vertex[list(TRACKED)].astype(np.float32))

        for name, moves in BASIS_MOVES.items():
            add(name, pose_offsets(frame, local, moves))
        for kind in ("yaw", "pitch", "roll", "breath"):
            for sign, suffix in ((1.0, "+"), (-1.0, "-")):
                moved = _rigid_moves(face, kind, sign)
                add(kind + suffix, {i: moved[i] for i in range(468)})
        model = cls(face, (y0, y1, x0, x1), bases, lm[list(TRACKED)].astype(np.float32))
        for sign, suffix in ((1.0, "+"), (-1.0, "-")):
            bases["gaze_x" + suffix] = model._gaze_basis(sign, 0.0)
            bases["gaze_y" + suffix] = model._gaze_basis(0.0, sign)
        return model

    def _gaze_basis(self, gx: float, gy: float) -> Basis:
        """The irises slide inside the eye openings; the lids and the skin do not move (a field only there)."""
        lm = self.face.landmarks[:, :2].astype(np.float64)
        fields, corners = [], []
        for upper, lower, iris in ((EYE_UPPER_R, EYE_LOWER_R, 468), (EYE_UPPER_L, EYE_LOWER_L, 473)):
            contour = lm[[33 if iris == 468 else 263, *upper, 133 if iris == 468 else 362, *lower[::-1]]]
            (ex0, ey0), (ex1, ey1) = np.floor(contour.min(axis=0)) - 2, np.ceil(contour.max(axis=0)) + 3
            ex0, ey0, ex1, ey1 = int(ex0), int(ey0), int(ex1), int(ey1)
            mask = np.zeros((ey1 - ey0, ex1 - ex0), np.float32)
            cv2.fillPoly(mask, [np.round((contour - (ex0, ey0)) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
            mask = cv2.erode(mask, np.ones((2, 2), np.uint8))
            mask = cv2.GaussianBlur(mask, (0, 0), 0.8)
            radius = max(1.5, float(np.hypot(*(lm[iris + 1] - lm[iris + 3])) / 2))
            yy, xx = np.mgrid[ey0:ey1, ex0:ex1].astype(np.float32)
            d = np.hypot(xx - lm[iris, 0], yy - lm[iris, 1]) / (2.2 * radius)
            bump = np.clip(1.0 - d * d, 0.0, 1.0) ** 2 * mask
            shift = 0.45 * radius  # how far the iris slides, pixels; the bump's slope keeps the map unfolded
            fields.append((ey0, ex0, np.dstack([-gx * shift * bump, -gy * shift * bump])))
            corners.append((ey0, ex0, ey1, ex1))
        y0, x0 = min(c[0] for c in corners), min(c[1] for c in corners)
        y1, x1 = max(c[2] for c in corners), max(c[3] for c in corners)
        field = np.zeros((y1 - y0, x1 - x0, 2), np.float32)
        for fy, fx, f in fields:
            field[fy - y0 : fy - y0 + f.shape[0], fx - x0 : fx - x0 + f.shape[1]] += f
        return Basis(y0, x0, field, np.zeros_like(self.tracked))

    def weights(self, c: Controls) -> dict[str, float]:
        """The rig's Controls as basis weights, each in 0..1 (left and right are averaged: the bases are symmetric)."""
        def clip(v: float) -> float:
            return 0.0 if v != v else min(1.0, max(0.0, v))

        signed = {
            "corners": (c.mouth_corner_left + c.mouth_corner_right) / 2,
            "brow_inner": (c.brow_inner_left + c.brow_inner_right) / 2,
            "brow_outer": (c.brow_outer_left + c.brow_outer_right) / 2,
            "yaw": c.head_yaw_deg * HEAD_SHARE / YAW_DEG,
            "pitch": c.head_pitch_deg * HEAD_SHARE / PITCH_DEG,
            "roll": c.head_roll_deg * HEAD_SHARE / ROLL_DEG,
            "breath": c.breath,
            "gaze_x": c.gaze_x,
            "gaze_y": c.gaze_y,
        }
        out = {
            "upper_lip": clip(c.upper_lip),
            "lower_lip": clip(c.lower_lip),
            "jaw": clip(c.jaw_open),
            "lip_press": clip(c.lip_press),
            "lids": clip((c.lid_left + c.lid_right) / 2),
            "cheeks": clip((c.cheek_left + c.cheek_right) / 2),
        }
        # A closing lid covers the iris: the gaze field would fight the lid's inside the eye, so it fades out.
        open_eye = 1.0 - out["lids"]
        signed["gaze_x"] *= open_eye
        signed["gaze_y"] *= open_eye
        for name, value in signed.items():
            plus, minus = SIGNED[name]
            out[plus], out[minus] = clip(value), clip(-value)
        return {name: w for name, w in out.items() if w > 1e-3 and name in self.bases}

    def field(self, weights: dict[str, float], out: np.ndarray | None = None) -> np.ndarray:
        """The face region's destination -> source offsets (h, w, 2) for these weights: the sum of the bases."""
        y0, y1, x0, x1 = self.region
        if out is None:
            out = np.zeros((y1 - y0, x1 - x0, 2), np.float32)
        else:
            out.fill(0.0)
        for name, w in weights.items():
            b = self.bases[name]
            h, wd = b.field.shape[:2]
            target = out[b.y0 - y0 : b.y0 - y0 + h, b.x0 - x0 : b.x0 - x0 + wd]
            target += np.float32(w) * b.field
        if len(weights) > 1:
            _unfold(out)
        return out

    def tracked_at(self, weights: dict[str, float]) -> np.ndarray:
        """The TRACKED landmarks (inner lips, lids) in photo pixels for these weights."""
        points = self.tracked.copy()
        for name, w in weights.items():
            points += np.float32(w) * self.bases[name].moves
        return points


@dataclass(frozen=True)
class _Placement:
    """The photo on a surface of one size: display pixel (u, v) samples photo (a*u + bx, a*v + by)."""

    size: tuple[int, int]
    a: float
    bx: float
    by: float
    u0: int  # the face region on the surface
    v0: int
    du: int
    dv: int
    base_map: np.ndarray  # (dv, du, 2) float32: the region's photo coordinates at rest
    background: object  # pygame.Surface: the whole frame at rest


class PortraitRenderer:
    """Draws a warped photo for the Controls; same calls as AvatarRenderer. `use_face` swaps the photo at run time."""

    def __init__(self, spec: str | None = SPEC, model_file=None, face: PortraitFace | None = None):
        self.spec = spec or SPEC
        if face is None:
            face = load_portrait_face(self.spec, model_file)
        self._bundled = PortraitModel.from_face(face)
        self.model = self._bundled
        self._text = AvatarRenderer(None)  # captions, bubbles and the status line, as the cartoon draws them
        self.style = self._text.style
        self._placements: dict[tuple[int, int], _Placement] = {}
        self._backgrounds: dict[tuple, object] = {}  # the placement's background in each target surface's pixel format
        self._field: np.ndarray | None = None

    def use_face(self, model: PortraitModel | PortraitFace | None) -> None:
        """Show another face from the next frame on (a PortraitModel, or a PortraitFace to build one); None: the first again."""
        if isinstance(model, PortraitFace):
            model = PortraitModel.from_face(model)
        self.model = model or self._bundled
        self._placements.clear()
        self._backgrounds.clear()
        self._field = None

    def font(self, size_px: int):
        return self._text.font(size_px)

    def layout(self, size: tuple[int, int]) -> FaceLayout:
        p = self._placement(size)
        f = self.model.face.frame
        centre = f.origin + f.y_axis * 0.6 * f.iod
        return FaceLayout(centre_x=(centre[0] - p.bx) / p.a, centre_y=(centre[1] - p.by) / p.a,
                          unit_px=1.2 * f.iod / p.a, aspect=1.25)

    def draw_overlays(self, surface, status: str | None = None, bubble: str | None = None, caption: str | None = None,
                      **overlay) -> None:
        """The text over the picture, drawn exactly as the cartoon renderer draws it (any of its overlay keywords)."""
        self._text.draw_overlays(surface, status=status, bubble=bubble, caption=caption, **overlay)

    def draw(self, surface, controls: Controls = NEUTRAL, status: str | None = None, bubble: str | None = None,
             caption: str | None = None, **overlay) -> None:
        """Clear `surface` to the photo and draw the face warped for `controls`, plus the optional text overlays."""
        w, h = surface.get_size()
        if w < 4 or h < 4:
            return
        p = self._placement((w, h))
        # In the target's own pixel format the per-frame blit is a plain copy (a 24 to 32 bit blit costs twice that).
        key = ((w, h), surface.get_bitsize(), surface.get_masks())
        background = self._backgrounds.get(key)
        if background is None:
            if len(self._backgrounds) > 4:
                self._backgrounds.clear()
            background = self._backgrounds[key] = pygame.Surface((w, h), 0, surface)
            background.blit(p.background, (0, 0))
        surface.blit(background, (0, 0))
        if p.du > 0 and p.dv > 0:
            region = self.render_region(controls, p)
            surface.blit(pygame.image.frombuffer(region, (p.du, p.dv), "RGB"), (p.u0, p.v0))
        self.draw_overlays(surface, status=status, bubble=bubble, caption=caption, **overlay)

    def render_region(self, controls: Controls, p: _Placement) -> np.ndarray:
        """The face region on screen (dv, du, 3) RGB for `controls`: one remap of the photo, then the mouth layer."""
        model = self.model
        weights = model.weights(controls)
        y0, y1, x0, x1 = model.region
        if self._field is None:
            self._field = np.zeros((y1 - y0, x1 - x0, 2), np.float32)
        field = model.field(weights, self._field)
        screen_map = cv2.resize(field, (p.du, p.dv), interpolation=cv2.INTER_LINEAR)
        screen_map += p.base_map
        region = cv2.remap(model.face.image, screen_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        tracked = model.tracked_at(weights)
        self._paint_mouth(region, tracked[: len(MOUTH_GAP)], p)
        lid = weights.get("lids", 0.0)
        if lid > LID_LAYER_FROM:
            at = len(MOUTH_GAP)
            for eye, chain in enumerate((EYE_LID_R, EYE_LID_L)):
                self._paint_lid(region, tracked[at : at + len(chain)], model.lid_skin[eye], lid, p)
                at += len(chain)
        return region

    def _paint_mouth(self, region: np.ndarray, lips: np.ndarray, p: _Placement) -> None:
        """Where the lips have parted beyond the photo's own gap: a dark mouth, the upper teeth under the upper
        lip and a hint of the lower ones; faded in with the opening, so a closed mouth stays the photo's own."""
        iod_px = self.model.iod / p.a
        opening = (_gap(lips) - _gap(self.model.lips)) / p.a
        strength = float(np.clip((opening - 0.5) / max(1.0, 0.05 * iod_px), 0.0, 1.0))
        if strength <= 0.0:
            return
        pts = np.column_stack([(lips[:, 0] - p.bx) / p.a - p.u0, (lips[:, 1] - p.by) / p.a - p.v0])
        n_up = len(UPPER_GAP)
        upper, lower = pts[:n_up], np.vstack([pts[:1], pts[n_up:][::-1], pts[n_up - 1 : n_up]])
        gap = float(lower[:, 1].max() - upper[:, 1].min())
        x_lo, y_lo = np.floor(pts.min(axis=0)).astype(int) - 2
        x_hi, y_hi = np.ceil(pts.max(axis=0)).astype(int) + 3
        x_lo, y_lo = max(0, x_lo), max(0, y_lo)
        x_hi, y_hi = min(region.shape[1], x_hi), min(region.shape[0], y_hi)
        if x_hi - x_lo < 2 or y_hi - y_lo < 2:
            return
        off = np.array([x_lo, y_lo], dtype=np.float32)
        mask = np.zeros((y_hi - y_lo, x_hi - x_lo), np.float32)
        cv2.fillPoly(mask, [np.round((pts - off) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
        # Upper teeth: a band hanging from the upper lip, as deep as teeth are (or most of the gap, if less).
        depth = min(0.17 * iod_px, 0.7 * gap)
        teeth = np.zeros_like(mask)
        # From a little above the lip line, so the feathered rim of the mouth is enamel, not a dark outline.
        band = np.vstack([upper - off - (0.0, 0.012 * iod_px), (upper - off)[::-1] + (0.0, depth)])
        cv2.fillPoly(teeth, [np.round(band * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
        low_band = np.vstack([lower - off, (lower - off)[::-1] - (0.0, min(0.05 * iod_px, 0.2 * gap))])
        lower_teeth = np.zeros_like(mask)
        cv2.fillPoly(lower_teeth, [np.round(low_band * 16).astype(np.int32)], 0.55, cv2.LINE_AA, shift=4)
        teeth = np.maximum(teeth, lower_teeth)
        # Teeth darken toward the corners and away from the lip, with faint gaps between the front teeth.
        width = max(1.0, float(pts[:, 0].max() - pts[:, 0].min()))
        xs = (np.arange(mask.shape[1], dtype=np.float32) + x_lo - float(pts[:, 0].mean())) / (width / 2)
        tooth = 0.13 * iod_px / max(1.0, width / 2)  # a front tooth's width, in half mouth widths
        seams = 1.0 - 0.05 * np.exp(-(((np.abs(xs) + tooth / 2) % tooth - tooth / 2) / (0.1 * tooth)) ** 2)
        # The side teeth fall back into the mouth's shadow (the dark corridors of a real smile).
        across = np.clip(1.15 - 0.85 * xs * xs, 0.15, 1.0) * seams
        top = float(upper[:, 1].min())
        down = np.clip(1.0 - 0.3 * (np.arange(mask.shape[0], dtype=np.float32) + y_lo - top) / max(1.0, depth), 0.7, 1.0)
        shade = down[:, None] * across[None, :]
        soft = max(0.6, 0.012 * iod_px)
        mask = cv2.GaussianBlur(cv2.dilate(mask, np.ones((3, 3), np.uint8)), (0, 0), soft)[..., None] * strength
        teeth = cv2.GaussianBlur(teeth, (0, 0), soft)[..., None]
        inside = MOUTH_DARK + (TEETH * shade[..., None] - MOUTH_DARK) * teeth
        patch = region[y_lo:y_hi, x_lo:x_hi].astype(np.float32)
        region[y_lo:y_hi, x_lo:x_hi] = np.clip(patch + (inside - patch) * mask + 0.5, 0, 255).astype(np.uint8)

    def _paint_lid(self, region: np.ndarray, lid: np.ndarray, skin: np.ndarray, weight: float, p: _Placement) -> None:
        """A closing lid as skin, not stretched streaks: a photo has only a few pixels of lid above the lashes,
        so past half-closed the lid between the fold and the lash line is painted in the lid's own colour,
        shaded toward a soft lash line that follows the lid down."""
        strength = min(1.0, (weight - LID_LAYER_FROM) / (LID_LAYER_FULL - LID_LAYER_FROM))
        iod_px = self.model.iod / p.a
        pts = np.column_stack([(lid[:, 0] - p.bx) / p.a - p.u0, (lid[:, 1] - p.by) / p.a - p.v0])
        lashes = pts[len(LID_FOLD_UPPER_R) + 1 :]  # inner corner -> outer, along the lash line
        lashes = np.vstack([lashes, pts[:1]])
        # Past the lash line by a hair: the closed line's last slivers of white are under the lid too.
        pts = np.vstack([pts[: len(LID_FOLD_UPPER_R) + 2], lashes[1:-1] + (0.0, 0.02 * iod_px)])
        soft = max(0.7, 0.02 * iod_px)
        reach = int(6 * soft) + 3  # the blurred edges fade out inside the patch, never at its border
        x_lo, y_lo = np.floor(pts.min(axis=0)).astype(int) - reach
        x_hi, y_hi = np.ceil(pts.max(axis=0)).astype(int) + reach + 1
        x_lo, y_lo = max(0, x_lo), max(0, y_lo)
        x_hi, y_hi = min(region.shape[1], x_hi), min(region.shape[0], y_hi)
        if x_hi - x_lo < 2 or y_hi - y_lo < 2:
            return
        off = np.array([x_lo, y_lo], dtype=np.float32)
        mask = np.zeros((y_hi - y_lo, x_hi - x_lo), np.float32)
        cv2.fillPoly(mask, [np.round((pts - off) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
        mask = cv2.GaussianBlur(mask, (0, 0), 2.0 * soft)  # the lid's edge at the fold melts into the skin
        shadow = np.zeros_like(mask)
        line = [np.round((lashes - off) * 16).astype(np.int32)]
        cv2.polylines(shadow, line, False, 1.0, max(1, round(0.09 * iod_px)), cv2.LINE_AA, shift=4)
        shadow = cv2.GaussianBlur(shadow, (0, 0), 2 * soft)
        lash = np.zeros_like(mask)
        cv2.polylines(lash, line, False, 1.0, max(1, round(0.02 * iod_px)), cv2.LINE_AA, shift=4)
        lash = cv2.GaussianBlur(lash, (0, 0), 0.6 * soft)
        colour = skin * (0.95 - 0.2 * shadow[..., None])  # a lid is a shade darker than the skin under the brow
        colour = colour + (LASHES - colour) * (0.8 * lash[..., None])
        alpha = (np.maximum(mask, lash) * strength)[..., None]
        patch = region[y_lo:y_hi, x_lo:x_hi].astype(np.float32)
        region[y_lo:y_hi, x_lo:x_hi] = np.clip(patch + (colour - patch) * alpha + 0.5, 0, 255).astype(np.uint8)

    def _placement(self, size: tuple[int, int]) -> _Placement:
        p = self._placements.get(size)
        if p is None:
            if len(self._placements) > 4:
                self._placements.clear()
            p = self._placements[size] = _place(self.model, size)
        return p


MIN_SLOPE = 0.05  # the least a screen pixel may advance in the photo per pixel across, after summing the bases


def _unfold(field: np.ndarray) -> None:
    """Make a summed field fold-free in place: x + dx rises along each row and y + dy down each column.

    Each basis alone is a fold-free warp, but two that both squeeze the same place (the jaw and the lower
    lip both stretch the photo's closed lip line into the open mouth; a closing lid and a rising brow)
    add up to more than all of it, which would turn the picture over there. A running maximum keeps the
    map moving forward by at least MIN_SLOPE, so such a place samples one line of the photo instead.
    """
    h, w = field.shape[:2]
    ramp_x = np.arange(w, dtype=np.float32) * (1.0 - MIN_SLOPE)
    ramp_y = np.arange(h, dtype=np.float32)[:, None] * (1.0 - MIN_SLOPE)
    gx = field[..., 0] + ramp_x
    np.maximum.accumulate(gx, axis=1, out=gx)
    field[..., 0] = gx - ramp_x
    gy = field[..., 1] + ramp_y
    np.maximum.accumulate(gy, axis=0, out=gy)
    field[..., 1] = gy - ramp_y


def _lid_skin(face: PortraitFace) -> np.ndarray:
    """Each eye's lid colour: the median of the skin just above its lid fold (below the brow), (2, 3) RGB."""
    lm = face.landmarks[:, :2].astype(np.float64)
    f = face.frame
    out = []
    for fold in (LID_FOLD_UPPER_R, LID_FOLD_UPPER_L):
        samples = []
        for i in fold[1:-1]:
            for up in (0.03, 0.05):
                x, y = np.round(lm[i] - f.y_axis * up * f.iod).astype(int)
                y = int(np.clip(y, 0, face.image.shape[0] - 1))
                x = int(np.clip(x, 0, face.image.shape[1] - 1))
                samples.append(face.image[y, x])
        out.append(np.median(np.asarray(samples, dtype=np.float32), axis=0))
    return np.asarray(out, dtype=np.float32)


def _gap(lips: np.ndarray) -> float:
    """How far apart the inner lips are at the middle of the mouth (pixels of the photo)."""
    n_up = len(UPPER_GAP)
    upper_mid = lips[n_up // 2, 1]  # landmark 13
    lower_mid = lips[n_up + (len(lips) - n_up) // 2, 1]  # landmark 14
    return float(lower_mid - upper_mid)


def _place(model: PortraitModel, size: tuple[int, int]) -> _Placement:
    """Fit the photo inside the surface (centred); the margins show the same photo, blurred and darkened."""
    w, h = size
    image = model.face.image
    ih, iw = image.shape[:2]
    a = max(iw / w, ih / h)  # photo pixels per screen pixel: the whole photo fits
    bx, by = (iw - a * w) / 2, (ih - a * h) / 2
    # Pixel centres on both sides: screen (u + 0.5) sits at photo (x + 0.5).
    bx, by = bx + 0.5 * a - 0.5, by + 0.5 * a - 0.5
    uu, vv = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    full = np.dstack([a * uu + bx, a * vv + by]).astype(np.float32)
    sharp = cv2.remap(image, full, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    cover = min(iw / w, ih / h)
    cmap = np.dstack([cover * uu + (iw - cover * w) / 2, cover * vv + (ih - cover * h) / 2]).astype(np.float32)
    blurred = cv2.GaussianBlur(cv2.remap(image, cmap, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT), (0, 0), 0.02 * max(w, h) + 1)
    inside = ((full[..., 0] >= -0.5) & (full[..., 0] <= iw - 0.5) & (full[..., 1] >= -0.5) & (full[..., 1] <= ih - 0.5))[..., None]
    frame = np.where(inside, sharp, (blurred * 0.45).astype(np.uint8))
    y0, y1, x0, x1 = model.region
    u0, v0 = max(0, int(math.floor((x0 - bx) / a))), max(0, int(math.floor((y0 - by) / a)))
    u1, v1 = min(w, int(math.ceil((x1 - 1 - bx) / a)) + 1), min(h, int(math.ceil((y1 - 1 - by) / a)) + 1)
    base_map = np.ascontiguousarray(full[v0:v1, u0:u1])
    background = pygame.image.frombuffer(np.ascontiguousarray(frame), (w, h), "RGB").copy()
    if pygame.display.get_init() and pygame.display.get_surface() is not None:
        background = background.convert()
    return _Placement(size, a, bx, by, u0, v0, max(0, u1 - u0), max(0, v1 - v0), base_map, background)


def is_portrait_spec(spec: str | None) -> bool:
    """`--avatar portrait` or `--avatar portrait:PATH`."""
    return spec is not None and (spec == SPEC or spec.startswith(SPEC + ":"))


def load_portrait_face(spec: str = SPEC, model_file=None) -> PortraitFace:
    """The PortraitFace a spec names: the bundled astronaut, or the one face of the photo at PATH."""
    if spec == SPEC:
        return read_portrait_face(BUNDLED_PORTRAIT, model_file, source="bundled")
    path = spec[len(SPEC) + 1 :]
    if not path:
        raise ConfigError("--avatar portrait: needs a photo's path after the colon, e.g. portrait:me.jpg")
    return read_portrait_face(path, model_file)


def make_renderer(spec: str | None, model_file=None):
    """The renderer `--avatar` names: the portrait, or a cartoon style (render.AvatarRenderer)."""
    if is_portrait_spec(spec):
        return PortraitRenderer(spec, model_file)
    return AvatarRenderer(spec)


def portrait_benchmark(size: tuple[int, int] = (1920, 1080), frames: int = 120, chunk: int = 10) -> dict:
    """The portrait's drawing speed at `size` over render.sweep_controls (smiles, concern, blinks, head turns).

    As render_benchmark: the headline is the best chunk of `chunk` frames (a shared machine's other work does not
    decide it), "_mean" the plain average; the model's build (landmarks read, bases rendered) is timed apart.
    """
    import time

    from avatar.render import sweep_controls

    t0 = time.perf_counter()
    renderer = PortraitRenderer(SPEC)
    build_s = time.perf_counter() - t0
    surface = pygame.Surface(size)
    sweep = sweep_controls(frames)
    renderer.draw(surface, sweep[0])  # the placement and background are cached, as on the first live frame
    chunk_s, total_s = [], 0.0
    for start in range(0, len(sweep), chunk):
        part = sweep[start : start + chunk]
        t = time.perf_counter()
        for c in part:
            renderer.draw(surface, c)
        dt = time.perf_counter() - t
        total_s += dt
        chunk_s.append(dt / len(part))
    w, h = size
    return {"render_fps_1080p_portrait" if h == 1080 else f"render_fps_{w}x{h}_portrait": round(1.0 / min(chunk_s), 1),
            "portrait": {f"{w}x{h}": round(1.0 / min(chunk_s), 1), f"{w}x{h}_mean": round(len(sweep) / total_s, 1),
                         "build_s": round(build_s, 2)}}
