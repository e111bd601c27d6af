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
from avatar.portrait_face import BUNDLED_PORTRAIT, MouthTexture, PortraitFace, read_portrait_face
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
HEAD_SHARE = 0.35  # of the rig's angle
YAW_DEG, PITCH_DEG, ROLL_DEG = 15.0, 9.0, 12.0  # each basis' angle: the most the photo turns
HEAD_BASES = ("yaw", "pitch", "roll", "breath")  # the bases composed over the expression's, not summed with them
HEAD_AXIS_IOD = 0.9  # how far behind the face's rim the head turns about, face units (the neck, roughly)
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
MOUTH_DARK = np.array((66, 30, 28), dtype=np.float32)  # a warm dark red-brown: the inside of a mouth in daylight
TEETH = np.array((236, 226, 206), dtype=np.float32)  # warm off-white enamel
TONGUE = np.array((150, 66, 66), dtype=np.float32)
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
    # AU24: the lips pressed thin toward their line, the corners a little in and down (a worried mouth).
    "lip_press": [*_lips(0.03, (0.05, 0.035), 0.03, (0.04, 0.0), (0.0, -0.035), (0.04, 0.0)), *_NOSE_STILL, (CHIN, 0.0, 0.0)],
    # AU1 (with AU4's pull together: the worried brow) / AU4 at the inner ends, AU2 at the outer; the lid
    # fold follows the brow a little.
    "brow_inner_up": [*_both(BROW_UPPER_R, BROW_UPPER_L, (0.0, 0.05), (-0.03, -0.07, -0.12, -0.17, -0.2)),
                      *_both(BROW_LOWER_R, BROW_LOWER_L, (0.0, 0.05), (-0.03, -0.07, -0.12, -0.17, -0.2)),
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
    # About an axis behind the face, so the whole face swings (not only the nose), and it narrows a little.
    axis = depth + HEAD_AXIS_IOD * f.iod
    if kind == "yaw":
        a = math.radians(sign * YAW_DEG)
        across = (lm[:, :2] - lm[list(FACE_OVAL), :2].mean(axis=0)) @ f.x_axis
        return np.outer(axis * math.sin(a) - across * (1.0 - math.cos(a)), f.x_axis)
    return np.outer(-axis * math.sin(math.radians(sign * PITCH_DEG)), f.y_axis)


class PortraitModel:
    """Everything precomputed for one PortraitFace: the photo, its face region and a Basis per control direction."""

    def __init__(self, face: PortraitFace, region: tuple[int, int, int, int], bases: dict[str, Basis], lips: np.ndarray):
        self.face = face
        self.region = region  # (y0, y1, x0, x1) in the photo: outside it nothing ever moves
        self.bases = bases
        self.tracked = lips  # (len(TRACKED), 2) the tracked landmarks at rest
        self.lips = lips[: len(MOUTH_GAP)]  # the inner lips at rest
        self.lid_skin = _lid_skin(face)  # (2, 3) RGB of each eye's lid skin, for the closed lid
        self.interior = _interior(face.mouth)  # the face's own photographed mouth inside, or None (painted)
        self.enamel = _enamel(self.lid_skin)  # painted teeth in this photo's light, for a face without its own
        self._head: np.ndarray | None = None  # the head's summed field, then composed over the expression's
        self._grid: np.ndarray | None = None
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

        corners = (c.mouth_corner_left + c.mouth_corner_right) / 2
        signed = {
            # Eased out: a small smile must read as one at a glance, a broad one stays the basis at full.
            "corners": corners * (2.0 - abs(corners)),
            "brow_inner": (c.brow_inner_left + c.brow_inner_right) / 2,
            "brow_outer": (c.brow_outer_left + c.brow_outer_right) / 2,
            "yaw": c.head_yaw_deg * HEAD_SHARE / YAW_DEG,
            "pitch": c.head_pitch_deg * HEAD_SHARE / PITCH_DEG,
            "roll": c.head_roll_deg * HEAD_SHARE / ROLL_DEG,
            "breath": c.breath,
            "gaze_x": c.gaze_x,
            "gaze_y": c.gaze_y,
        }
        # A photographed smile parts the lips gradually (the rig opens the mouth only for a broad one): the
        # upper teeth show from a moderate smile on, so the mouth changes with the smile all the way up.
        parted = clip((signed["corners"] - 0.3) / 0.7)
        out = {
            "upper_lip": max(clip(c.upper_lip), 0.45 * parted),
            "lower_lip": max(clip(c.lower_lip), 0.35 * parted),
            "jaw": clip(c.jaw_open),
            "lip_press": clip(c.lip_press),
            "lids": clip((c.lid_left + c.lid_right) / 2),
            "cheeks": clip(_ease((c.cheek_left + c.cheek_right) / 2)),
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
        """The face region's destination -> source offsets (h, w, 2) for these weights.

        The expression's bases are summed (and kept fold-free), and so are the head's (turn, nod, tilt,
        breath); the head's warp is then composed over the expression's, not added to it: a tilt of a
        squeezed place would shear it over, while a composition of two fold-free warps never folds.
        """
        y0, y1, x0, x1 = self.region
        if out is None:
            out = np.zeros((y1 - y0, x1 - x0, 2), np.float32)
        face = {n: w for n, w in weights.items() if not n.startswith(HEAD_BASES)}
        head = {n: w for n, w in weights.items() if n.startswith(HEAD_BASES)}
        if not face or not head:
            return self._summed(weights, out)
        if self._head is None or self._head.shape != out.shape:
            self._head = np.empty_like(out)
            self._grid = np.dstack(np.meshgrid(np.arange(x1 - x0, dtype=np.float32), np.arange(y1 - y0, dtype=np.float32)))
        expression = self._summed(face, out)
        turn = self._summed(head, self._head)
        at = self._grid + turn
        out[:] = turn + cv2.remap(expression, at, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        return out

    def _summed(self, weights: dict[str, float], out: np.ndarray) -> np.ndarray:
        y0, x0 = self.region[0], self.region[2]
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
        self._paint_mouth(region, tracked[: len(MOUTH_GAP)], weights.get("smile", 0.0), p)
        lid = weights.get("lids", 0.0)
        if lid > LID_LAYER_FROM:
            at = len(MOUTH_GAP)
            for eye, chain in enumerate((EYE_LID_R, EYE_LID_L)):
                self._paint_lid(region, tracked[at : at + len(chain)], model.lid_skin[eye], lid, p)
                at += len(chain)
        return region

    def _paint_mouth(self, region: np.ndarray, lips: np.ndarray, smile: float, p: _Placement) -> None:
        """Where the lips have parted beyond the photo's own gap, the mouth's inside, under the lips (they keep
        their own edge): the face's own photographed teeth when it has them (MouthTexture), else a painted one;
        faded in with the opening, so a closed mouth stays the photo's own."""
        iod_px = self.model.iod / p.a
        opening = (_gap(lips) - _gap(self.model.lips)) / p.a
        strength = float(np.clip((opening - 0.5) / max(1.0, 0.05 * iod_px), 0.0, 1.0))
        if strength <= 0.0:
            return
        pts = np.column_stack([(lips[:, 0] - p.bx) / p.a - p.u0, (lips[:, 1] - p.by) / p.a - p.v0])
        x_lo, y_lo = np.floor(pts.min(axis=0)).astype(int) - 2
        x_hi, y_hi = np.ceil(pts.max(axis=0)).astype(int) + 3
        x_lo, y_lo = max(0, x_lo), max(0, y_lo)
        x_hi, y_hi = min(region.shape[1], x_hi), min(region.shape[0], y_hi)
        if x_hi - x_lo < 2 or y_hi - y_lo < 2:
            return
        pts = pts - np.array([x_lo, y_lo], dtype=np.float32)
        shape = (y_hi - y_lo, x_hi - x_lo)
        upper, lower = _lip_curves(pts, shape[1])
        across = _across(pts, shape[1])
        cavity = _cavity(upper, lower, across, shape)
        if self.model.interior is not None:
            inside = _photographed_inside(self.model.interior, pts, upper, lower, cavity, smile, p.a)
        else:
            inside = _painted_inside(pts, upper, lower, across, cavity, smile, iod_px, self.model.enamel)
        # The lips stay the photo's: the inside is confined to the inner-lip contour, its edge feathered inward,
        # and it thins out into the corners, where the lips meet.
        mask = np.zeros(shape, np.float32)
        cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
        taper = np.clip((1.0 - np.abs(across)) / 0.15, 0.0, 1.0)[None, :]
        mask = cv2.GaussianBlur(mask, (0, 0), max(0.5, 0.012 * iod_px)) * np.sqrt(mask) * taper * strength
        patch = region[y_lo:y_hi, x_lo:x_hi].astype(np.float32)
        region[y_lo:y_hi, x_lo:x_hi] = np.clip(patch + (inside - patch) * mask[..., None] + 0.5, 0, 255).astype(np.uint8)

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


MIN_SLOPE = 0.15  # the least a screen pixel may advance in the photo per pixel across, after summing the bases


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


@dataclass(frozen=True, eq=False)
class Interior:
    """A MouthTexture ready to sample: RGB and a cover (1 inside her parted lips, 0 on her lips and beyond)."""

    texture: np.ndarray  # (h, w, 4) float32: RGB, cover
    upper: tuple[np.ndarray, np.ndarray]  # the upper inner lip, x increasing, and its y: pixels of `texture`
    gap: float  # her lips' gap at the middle of the mouth, pixels: the height of her upper teeth there


def _interior(mouth: MouthTexture | None) -> Interior | None:
    if mouth is None or len(mouth.lips) != len(MOUTH_GAP):
        return None
    lips = mouth.lips.astype(np.float64)
    upper, lower = _upper_lower(lips)
    h, w = mouth.image.shape[:2]
    xs = np.arange(w, dtype=np.float64)
    ux, uy = _monotone(upper)
    lx, ly = _monotone(lower)
    rows = np.arange(h, dtype=np.float64)[:, None]
    # Her lower lip and the skin below it are not inside the mouth: from half a pixel above its inner edge, nothing.
    cover = np.clip(np.interp(xs, lx, ly)[None, :] - 0.6 - rows, 0.0, 1.0) * ((xs >= ux[0]) & (xs <= ux[-1]))[None, :]
    texture = np.dstack([mouth.image.astype(np.float32), cover.astype(np.float32)])
    mid = lips[len(UPPER_GAP) // 2, 0]
    gap = float(np.interp(mid, lx, ly) - np.interp(mid, ux, uy))
    return Interior(texture, (ux.astype(np.float32), uy.astype(np.float32)), max(1.0, gap))


def _upper_lower(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MOUTH_GAP's points as the upper and the lower inner lip, each corner to corner."""
    n_up = len(UPPER_GAP)
    return pts[:n_up], np.vstack([pts[:1], pts[n_up:][::-1], pts[n_up - 1 : n_up]])


def _monotone(chain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A lip chain as x (strictly increasing, for np.interp) and y."""
    x = np.maximum.accumulate(chain[:, 0]) + np.arange(len(chain)) * 1e-3
    return x, chain[:, 1]


def _lip_curves(pts: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The upper and lower inner lips' y at each column of a patch (pts in patch pixels, MOUTH_GAP order)."""
    upper, lower = _upper_lower(pts)
    xs = np.arange(width, dtype=np.float32)
    return (np.interp(xs, *_monotone(upper)).astype(np.float32), np.interp(xs, *_monotone(lower)).astype(np.float32))


def _across(pts: np.ndarray, width: int) -> np.ndarray:
    """Each column's place across the mouth: -1 at one corner, 0 in the middle, 1 at the other."""
    right, left = float(pts[0, 0]), float(pts[len(UPPER_GAP) - 1, 0])
    return (np.arange(width, dtype=np.float32) - (left + right) / 2) / max(1.0, (left - right) / 2)


def _cavity(upper: np.ndarray, lower: np.ndarray, across: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The dark inside of a mouth: warm, darker deep and into the corners, the tongue's lighter red low in the middle."""
    rows = np.arange(shape[0], dtype=np.float32)[:, None]
    gap = np.maximum(1.0, lower - upper)[None, :]
    depth = np.clip((rows - upper[None, :]) / gap, 0.0, 1.0)
    corridor = np.clip(1.1 - 0.75 * across * across, 0.25, 1.0)[None, :]
    dark = MOUTH_DARK * ((1.0 - 0.4 * depth) * (0.55 + 0.45 * corridor))[..., None]
    # The tongue shows only in a mouth opened wider than a few pixels; it rises from behind the lower lip.
    rise = np.clip((rows - lower[None, :]) / (0.45 * gap) + 1.0, 0.0, 1.0) * np.clip(1.0 - (across / 0.6) ** 2, 0.0, 1.0)[None, :]
    tongue = rise * np.clip((gap - 6.0) / 10.0, 0.0, 1.0)
    return dark + (TONGUE - dark) * (0.55 * tongue)[..., None]


def _photographed_inside(interior: Interior, pts: np.ndarray, upper: np.ndarray, lower: np.ndarray,
                         cavity: np.ndarray, smile: float, a: float) -> np.ndarray:
    """Her real teeth hung from the upper lip at their own size, the dark inside below them and, in a mouth
    opened wider than hers, the edges of the lower teeth above the lower lip (her upper ones upside down, in
    shadow): the original's mouth sampled column by column, corner to corner."""
    h, w = cavity.shape[:2]
    ux, uy = interior.upper
    right, left = float(pts[0, 0]), float(pts[len(UPPER_GAP) - 1, 0])
    src_x = ux[0] + (np.arange(w, dtype=np.float32) - right) / max(1.0, left - right) * (ux[-1] - ux[0])
    src_top = np.interp(src_x, ux, uy).astype(np.float32)
    # Her teeth across the mouth, corner to corner; as tall as they are wide, then larger in a mouth opened
    # far wider than hers (the upper teeth fill most of a smile's opening, not a third).
    g = interior.gap
    scale = float(np.clip((ux[-1] - ux[0]) / max(1.0, (left - right) * a), 0.8, 1.25)) * a
    opened = float(lower[w // 2] - upper[w // 2]) * scale
    scale /= float(np.clip(0.75 * opened / g, 1.0, 1.5))
    hidden = (1.0 - min(1.0, 0.3 + smile)) * 0.6 * g
    rows = np.arange(h, dtype=np.float32)[:, None]
    map_x = np.ascontiguousarray(np.broadcast_to(src_x[None, :], (h, w)))
    down = (rows - upper[None, :]) * scale  # photo pixels under the upper lip
    up = (lower[None, :] - rows) * scale  # and over the lower lip
    top = cv2.remap(interior.texture, map_x, ((src_top + hidden)[None, :] + down).astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    bottom = cv2.remap(interior.texture, map_x, ((src_top + 0.6 * g)[None, :] + up).astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # The lower teeth only where the mouth is open past her upper teeth, never over them.
    room = np.clip(((lower - upper) * scale - (g - hidden) - 0.8 * g) / (0.5 * g), 0.0, 1.0)[None, :]
    bottom[..., 3] *= room * np.clip(down - (g - hidden), 0.0, 1.0)
    bottom[..., :3] *= 0.7
    out = cavity + (top[..., :3] - cavity) * top[..., 3:]
    return out + (bottom[..., :3] - out) * (bottom[..., 3:] * (1.0 - top[..., 3:]))


def _enamel(lid_skin: np.ndarray) -> np.ndarray:
    """The painted teeth's colour in a photo's own light: teeth are never whiter than the light on the face
    allows (a white band on a dim or warm photo looks pasted on), and take a little of the skin's warmth."""
    skin = lid_skin.mean(axis=0)
    light = float(np.clip((0.299 * skin[0] + 0.587 * skin[1] + 0.114 * skin[2]) / 175.0, 0.5, 0.95))
    return (0.85 * TEETH * light + 0.15 * skin).astype(np.float32)


def _painted_inside(pts: np.ndarray, upper: np.ndarray, lower: np.ndarray, across: np.ndarray, cavity: np.ndarray,
                    smile: float, iod_px: float, enamel: np.ndarray = TEETH) -> np.ndarray:
    """For a photo without its own open mouth: over the cavity, for a smile, a band of upper teeth hanging from
    the upper lip, off-white, shaded toward the corners and in the lip's shadow at the top, a soft lower edge;
    the lower teeth behind the lower lip, a hint only when the mouth is wide open."""
    h = cavity.shape[0]
    rows = np.arange(h, dtype=np.float32)[:, None]
    gap = np.maximum(1.0, lower - upper)[None, :]
    below = rows - upper[None, :]  # pixels under the upper lip
    corridor = np.clip(1.1 - 0.75 * across * across, 0.25, 1.0)[None, :]
    # The band hangs at most 60% into the gap: the dark shows under it, as in a real smile.
    teeth_depth = np.minimum((0.04 + 0.1 * min(1.0, smile)) * iod_px, 0.6 * gap)
    soft = max(0.8, 0.03 * iod_px)
    band = np.clip((teeth_depth - below) / soft + 0.5, 0.0, 1.0) * float(np.clip(1.5 * (smile - 0.25), 0.0, 1.0))
    wide = np.clip((gap - 0.25 * iod_px) / (0.1 * iod_px), 0.0, 1.0)
    lower_band = 0.3 * np.clip((below - (gap - 0.04 * iod_px)) / soft, 0.0, 1.0) * wide
    teeth = np.maximum(band, lower_band) * corridor
    # Faint gaps between the teeth (a front tooth is about an eighth of the eye distance wide), the lip's
    # shadow on the enamel at the top, and the side teeth falling back into the mouth's shade.
    centre = float(pts[0, 0] + pts[len(UPPER_GAP) - 1, 0]) / 2
    tooth = max(2.0, 0.125 * iod_px)
    phase = ((np.arange(cavity.shape[1], dtype=np.float32) - centre) / tooth + 0.5) % 1.0 - 0.5
    seams = (1.0 - 0.06 * np.exp(-((phase / 0.12) ** 2)))[None, :]
    shade = (0.7 + 0.3 * np.clip(below / (0.35 * teeth_depth + 1e-3), 0.0, 1.0)) * (0.45 + 0.55 * corridor) * seams
    return cavity + (enamel * shade[..., None] - cavity) * teeth[..., None]


def _ease(v: float) -> float:
    """0..1 eased out (fast start, same end)."""
    return v * (2.0 - v) if 0.0 < v < 1.0 else v


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

    from avatar.render import sweep_controls, time_drawing

    t0 = time.perf_counter()
    renderer = PortraitRenderer(SPEC)
    build_s = time.perf_counter() - t0
    best_fps, mean_fps = time_drawing(renderer, size, sweep_controls(frames), chunk)
    w, h = size
    return {"render_fps_1080p_portrait" if h == 1080 else f"render_fps_{w}x{h}_portrait": best_fps,
            "portrait": {f"{w}x{h}": best_fps, f"{w}x{h}_mean": mean_fps, "build_s": round(build_s, 2)}}
