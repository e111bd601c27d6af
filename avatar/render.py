"""The renderer: Controls -> pixels on a pygame Surface, in the look of an avatar Style.

The last stage. It draws from Controls only; everything scales from the surface's size.
Curves are polygons with anti-aliased edges (filled polygon + aalines on its rim): measured at
~1-2 ms per 1080p frame, far cheaper than drawing at 2x and smooth-scaling down (see render_benchmark).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from avatar import fonts
from avatar._pygame import pygame  # imported the fast way (see avatar/_pygame.py), with gfxdraw
from avatar.rig import NEUTRAL, Controls
from avatar.styles import Style, load_style
from avatar.ui_scale import scaled_px

Point = tuple[float, float]

CURVE_STEPS = 20  # points per curve: smooth at 4K, cheap at 160x120
HEAD_STEPS = 96
SPHERE_DEPTH = 0.9  # how deep the face surface is for head-turn parallax, in face half-widths


def _clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def _quad(p0: Point, p1: Point, p2: Point, steps: int = CURVE_STEPS) -> list[Point]:
    out = []
    for i in range(steps + 1):
        t = i / steps
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        out.append((a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]))
    return out


def _through(p0: Point, mid: Point, p2: Point, steps: int = CURVE_STEPS) -> list[Point]:
    """A quadratic curve from p0 to p2 that passes through `mid` at its half-way point."""
    ctrl = (2 * mid[0] - (p0[0] + p2[0]) / 2, 2 * mid[1] - (p0[1] + p2[1]) / 2)
    return _quad(p0, ctrl, p2, steps)


def _poly(surface: pygame.Surface, color, points: list[Point]) -> None:
    """A filled polygon with an anti-aliased rim."""
    if len(points) < 3:
        return
    # The fill takes rounded corners (pygame truncates floats, which leaves hard pixels sticking out
    # of the anti-aliased rim); the rim keeps the sub-pixel positions.
    pygame.draw.polygon(surface, color, [(round(x), round(y)) for x, y in points])
    pygame.draw.aalines(surface, color, True, points)


def _stroke(surface: pygame.Surface, color, points: list[Point], width_px: float, taper: float = 0.0, caps: bool = True) -> None:
    """A smooth thick line along `points`: an anti-aliased polygon, `taper` (0..1) thins the ends."""
    n = len(points)
    if n < 2:
        return
    if width_px < 1.6:
        pygame.draw.aalines(surface, color, False, points)
        return
    left, right = [], []
    for i, (x, y) in enumerate(points):
        ax, ay = points[max(0, i - 1)]
        bx, by = points[min(n - 1, i + 1)]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / length, dx / length
        t = i / (n - 1)
        half = width_px / 2 * (1.0 - taper * (1.0 - math.sin(math.pi * t)))
        left.append((x + nx * half, y + ny * half))
        right.append((x - nx * half, y - ny * half))
    _poly(surface, color, left + right[::-1])
    if caps:
        r_end = width_px / 2 * (1.0 - taper)
        if r_end >= 1.5:
            for x, y in (points[0], points[-1]):
                pygame.gfxdraw.aacircle(surface, round(x), round(y), round(r_end), color)
                pygame.gfxdraw.filled_circle(surface, round(x), round(y), round(r_end), color)


@dataclass(frozen=True)
class FaceLayout:
    """Where the face sits in a surface of a given size (pixels)."""

    centre_x: float
    centre_y: float
    unit_px: float  # one face half-width
    aspect: float  # face half-height / half-width


class AvatarRenderer:
    """Draws the face into whatever surface it is given, centred and scaled to fit.

    Holds only caches (fonts, background, blush sprites); the face itself comes from the Controls.
    """

    def __init__(self, style: Style | str | None = None):
        self.style = style if isinstance(style, Style) else load_style(style)
        self._text_cache: dict[tuple, pygame.Surface] = {}
        self._background: tuple[tuple[int, int], pygame.Surface] | None = None
        self._blush: dict[int, pygame.Surface] = {}

    # -- caches -----------------------------------------------------------------------------

    def font(self, size_px: int) -> fonts.Font:
        """The screens' font at `size_px` (avatar.fonts: broad coverage, per-glyph fallback)."""
        return fonts.font(size_px)  # avatar.fonts keeps them: it knows when pygame.quit() has freed them

    def _text(self, text: str, size_px: int, color) -> pygame.Surface:
        text = safe_text(text)  # a chat reply or a file's text may hold a NUL, which pygame refuses
        key = (text, size_px, color)
        surf = self._text_cache.get(key)
        if surf is None:
            if len(self._text_cache) > 128:
                self._text_cache.clear()
            surf = self._text_cache[key] = self.font(size_px).render(text, True, color)
        return surf

    def _paint_background(self, surface: pygame.Surface) -> None:
        c = self.style.colors
        size = surface.get_size()
        if c.background == c.background_bottom:
            surface.fill(c.background)
            return
        if self._background is None or self._background[0] != size:
            h = max(1, size[1])
            column = pygame.Surface((1, h))
            for y in range(h):
                k = y / max(1, h - 1)
                column.set_at(
                    (0, y), tuple(round(a + (b - a) * k) for a, b in zip(c.background, c.background_bottom, strict=True))
                )
            self._background = (
                size,
                pygame.transform.scale(column, size).convert()
                if pygame.display.get_init() and pygame.display.get_surface()
                else pygame.transform.scale(column, size),
            )
        surface.blit(self._background[1], (0, 0))

    def _blush_sprite(self, radius_px: int) -> pygame.Surface:
        sprite = self._blush.get(radius_px)
        if sprite is None:
            import numpy as np

            d = 2 * radius_px + 1
            sprite = pygame.Surface((d, d), pygame.SRCALPHA)
            sprite.fill((*self.style.colors.cheek, 0))
            yy, xx = np.mgrid[0:d, 0:d]
            r = np.hypot(xx - radius_px, yy - radius_px) / max(1, radius_px)
            alpha = (np.clip(1.0 - r * r, 0.0, 1.0) ** 1.5 * 255).astype(np.uint8)
            pygame.surfarray.pixels_alpha(sprite)[:] = alpha.T
            self._blush[radius_px] = sprite
        return sprite

    # -- geometry ---------------------------------------------------------------------------

    def layout(self, size: tuple[int, int]) -> FaceLayout:
        """The face's centre and scale for a surface of `size`: it fills the window, any shape."""
        w, h = size
        sh = self.style.shape
        top_extra = 0.1 if sh.hair else 0.0  # hair rises above the skull
        side_extra = 1.14 if sh.ears else 1.04
        height_units = sh.face_aspect * (2.0 + top_extra) + 0.03
        unit = min(sh.face_fill * h / height_units, sh.face_fill * w / (2 * side_extra))
        cy = h / 2 + top_extra * sh.face_aspect * unit / 2
        return FaceLayout(centre_x=w / 2, centre_y=cy, unit_px=max(1.0, unit), aspect=sh.face_aspect)

    # -- drawing ----------------------------------------------------------------------------

    def draw(
        self,
        surface: pygame.Surface,
        controls: Controls = NEUTRAL,
        status: str | None = None,
        bubble: str | None = None,
        caption: str | None = None,
        caption_marked: tuple[int, int] | None = None,
    ) -> None:
        """Clear `surface` and draw the face for `controls`, plus the optional text overlays.

        status: a small line at the bottom-left (source, faces, fps); bubble: speech-bubble text;
        caption: a line at the top (attract mode, the chat's typed line), with the characters
        caption_marked (start, end) underlined (an input method's composition). None draws nothing for each.
        """
        st = self.style
        sh, ln, g, col = st.shape, st.lines, st.gains, st.colors
        self._paint_background(surface)
        w, h = surface.get_size()
        if w < 4 or h < 4:
            return
        lay = self.layout((w, h))
        unit, asp = lay.unit_px, lay.aspect

        yaw = math.radians(_clamp(controls.head_yaw_deg * g.head, -45.0, 45.0))
        pitch = math.radians(_clamp(controls.head_pitch_deg * g.head, -35.0, 35.0))
        roll = math.radians(_clamp(controls.head_roll_deg * g.head, -35.0, 35.0))
        breath = _clamp(controls.breath * g.breath, -1.5, 1.5)
        cyaw, syaw, cpit, spit, crol, srol = (
            math.cos(yaw),
            math.sin(yaw),
            math.cos(pitch),
            math.sin(pitch),
            math.cos(roll),
            math.sin(roll),
        )
        pivot_y = asp * 0.95  # roll about the neck, not the nose
        scale = unit * (1.0 + 0.006 * breath)
        ox = lay.centre_x + syaw * 0.05 * unit
        oy = lay.centre_y - breath * 0.012 * unit - spit * 0.04 * unit

        def flat(x: float, y: float) -> Point:
            """Face units -> pixels for the head's silhouette (rolls, does not turn)."""
            y -= pivot_y
            return ox + (x * crol + y * srol) * scale, oy + (-x * srol + y * crol + pivot_y) * scale

        def proj(x: float, y: float) -> Point:
            """Face units -> pixels for features on the face's surface: they turn with yaw and pitch."""
            r2 = x * x + (y / asp) ** 2
            z = math.sqrt(1.0 - r2) * SPHERE_DEPTH if r2 < 1.0 else 0.0
            x1 = x * cyaw + z * syaw
            z1 = -x * syaw + z * cyaw
            y1 = y * cpit - z1 * spit * 0.8
            return flat(x1, y1)

        px_line = lambda k: max(1.0, k * unit)  # noqa: E731  line weights in pixels

        # Head silhouette (superellipse, narrowing toward the chin).
        n_exp = 2.0 / sh.face_roundness
        head_pts = []
        for i in range(HEAD_STEPS):
            a = 2 * math.pi * i / HEAD_STEPS
            ca, sa = math.cos(a), math.sin(a)
            x = math.copysign(abs(ca) ** n_exp, ca)
            y = math.copysign(abs(sa) ** n_exp, sa) * asp
            if y > 0:
                x *= 1.0 - sh.chin * (y / asp) ** 2
            head_pts.append((x, y))
        outline_k = 1.0 + ln.outline

        if sh.ears:
            for side in (-1, 1):
                ex = side * (0.97 - 0.12 * side * syaw)
                ear = [
                    (ex + side * 0.13 * math.cos(t) * 1.0, 0.08 * asp + 0.2 * math.sin(t))
                    for t in (2 * math.pi * i / 24 for i in range(24))
                ]
                _poly(surface, col.outline, [flat(ex + (x - ex) * outline_k + side * ln.outline * 0.5, y * 1.0) for x, y in ear])
                _poly(surface, col.skin, [flat(x, y) for x, y in ear])
                # The ear's inner fold: a "C" opening toward the face.
                inner = [
                    (ex + side * 0.01 + side * 0.06 * math.cos(t), 0.08 * asp + 0.1 * math.sin(t))
                    for t in (math.pi * (-0.4 + 0.8 * i / 12) for i in range(13))
                ]
                _stroke(surface, col.outline, [flat(x, y) for x, y in inner], px_line(ln.outline * 0.6), taper=0.6)

        if ln.outline > 0:
            _poly(surface, col.outline, [flat(x * outline_k, y * (1.0 + ln.outline / asp)) for x, y in head_pts])
        _poly(surface, col.skin, [flat(x, y) for x, y in head_pts])

        # Blush: soft sprites that rise with the cheeks.
        cheek_l = _clamp(controls.cheek_left * g.cheek, 0.0, 1.0)  # avatar's left = viewer's right
        cheek_r = _clamp(controls.cheek_right * g.cheek, 0.0, 1.0)
        if sh.cheek_size > 0:
            radius = max(2, round(sh.cheek_size * unit))
            sprite = self._blush_sprite(radius)
            for side, cheek in ((-1, cheek_r), (1, cheek_l)):
                strength = sh.cheek_rest + (1.0 - sh.cheek_rest) * cheek
                if strength <= 0.02:
                    continue
                bx, by = proj(side * (sh.eye_spacing + 0.14), sh.eye_y + sh.eye_height + 0.17 - 0.05 * cheek)
                sprite.set_alpha(round(150 * strength))
                surface.blit(sprite, (round(bx) - radius, round(by) - radius))

        if sh.hair:
            self._draw_hair(surface, flat, proj, head_pts, asp, px_line(ln.outline))

        # Eyes. Viewer's left is the avatar's right.
        gaze_x = _clamp(controls.gaze_x * g.gaze, -1.0, 1.0)
        gaze_y = _clamp(controls.gaze_y * g.gaze, -1.0, 1.0)
        for side, lid, cheek in ((-1, controls.lid_right, cheek_r), (1, controls.lid_left, cheek_l)):
            self._draw_eye(surface, proj, side, _clamp(lid * g.lid, 0.0, 1.0), cheek, gaze_x, gaze_y, px_line(ln.lid))

        # Brows: inner ends rise for concern, the whole brow lifts a little with a smile.
        for side, inner, outer in (
            (-1, controls.brow_inner_right, controls.brow_outer_right),
            (1, controls.brow_inner_left, controls.brow_outer_left),
        ):
            inner = _clamp(inner * g.brow_inner, -1.0, 1.0)
            outer = _clamp(outer * g.brow_outer, -1.0, 1.0)
            x_in = side * (sh.eye_spacing - sh.brow_length * 0.5)
            x_out = side * (sh.eye_spacing + sh.brow_length * 0.5)
            y_in = sh.brow_y + 0.02 - 0.17 * inner
            y_out = sh.brow_y + 0.03 - 0.1 * outer
            mid = (side * (sh.eye_spacing + sh.brow_length * 0.04), min(y_in, y_out) - 0.035 + 0.02 * max(0.0, inner))
            pts = [proj(x, y) for x, y in _through((x_in, y_in), mid, (x_out, y_out), 14)]
            _stroke(surface, col.brow, pts, px_line(ln.brow), taper=0.45)

        if sh.nose_size > 0:
            n = sh.nose_size
            pts = [
                proj(x, y)
                for x, y in _through(
                    (-0.55 * n, sh.nose_y - 0.15 * n), (0.0, sh.nose_y + 0.45 * n), (0.55 * n, sh.nose_y - 0.15 * n), 12
                )
            ]
            _stroke(surface, col.outline, pts, px_line(ln.nose), taper=0.5)

        self._draw_mouth(surface, proj, controls, px_line(ln.mouth))

        if sh.cheek_lines:
            for side, cheek in ((-1, cheek_r), (1, cheek_l)):
                if cheek < 0.2:
                    continue
                k = (cheek - 0.2) / 0.8
                cx = side * (sh.eye_spacing + sh.eye_width * 0.9)
                cy = sh.eye_y + sh.eye_height * 0.9
                pts = [
                    proj(x, y)
                    for x, y in _through(
                        (cx - side * 0.1 * k, cy + 0.09), (cx + side * 0.02, cy + 0.05), (cx + side * 0.04, cy - 0.02 * k), 10
                    )
                ]
                _stroke(surface, col.outline, pts, px_line(ln.lid * 0.6) * (0.5 + 0.5 * k), taper=0.6)

        self.draw_overlays(surface, status=status, bubble=bubble, caption=caption, caption_marked=caption_marked)

    def _draw_hair(self, surface, flat, proj, head_pts, asp: float, outline_px: float) -> None:
        col = self.style.colors
        # The cap follows the skull down to the temples; a side-swept fringe crosses the forehead
        # and turns with the face.
        cap = [(x * 1.05, y * 1.04 - 0.02) for x, y in head_pts if y < -0.12 * asp]
        cap.sort(key=lambda p: -math.atan2(-p[1], p[0]))  # from the right temple over the top to the left
        left_t, right_t = cap[-1], cap[0]
        # Kept above the highest a raised brow goes (brow_y - 0.2), so concern is never hidden.
        top_y = min(-0.62 * asp, self.style.shape.brow_y - 0.26)
        fringe = (
            _quad(left_t, (left_t[0] + 0.05, top_y + 0.02), (-0.55, top_y), 8)
            + _quad((-0.55, top_y), (-0.1, top_y - 0.04), (0.35, top_y - 0.07), 10)[1:]
            + _quad((0.35, top_y - 0.07), (right_t[0] - 0.02, top_y - 0.12), right_t, 8)[1:]
        )

        def blend(x: float, y: float) -> Point:
            # The fringe turns with the face in the middle but stays on the skull at the temples.
            a, b = flat(x, y), proj(x, y)
            k = max(0.0, 1.0 - x * x)
            return a[0] + (b[0] - a[0]) * k, a[1] + (b[1] - a[1]) * k

        _poly(surface, col.hair, [flat(x, y) for x, y in cap] + [blend(x, y) for x, y in fringe])
        # One strand line so the hair reads as hair rather than a hat.
        strand = [proj(x, y) for x, y in _quad((-0.55, -0.9 * asp), (0.0, -0.95 * asp), (0.45, -0.78 * asp), 12)]
        _stroke(surface, _mix(col.hair, col.outline, 0.6), strand, max(1.0, outline_px * 0.7), taper=0.9)

    def _draw_eye(self, surface, proj, side: int, lid: float, cheek: float, gaze_x: float, gaze_y: float, lid_px: float) -> None:
        sh, col = self.style.shape, self.style.colors
        ex, ey = side * sh.eye_spacing, sh.eye_y
        rx, ry = sh.eye_width, sh.eye_height
        # Upper lid comes down with `lid`; the raised cheek pushes the lower lid up (Duchenne),
        # so a broad smile gives the crescent "smiling eyes".
        raise_low = 0.6 * cheek
        up_k = 1.0 - 2.0 * lid
        low_k = 1.0 - 2.0 * raise_low
        steps = 16

        def bounds(u: float) -> tuple[float, float]:
            f = math.sqrt(max(0.0, 1.0 - u * u))
            top, bot = ey - ry * f * up_k, ey + ry * f * low_k
            if top > bot:
                top = bot
            return top, bot

        us = [-math.cos(math.pi * i / steps) for i in range(steps + 1)]  # denser at the corners
        tb = [bounds(u) for u in us]
        xs = [ex + u * rx for u in us]
        opening = max(b - t for t, b in tb)
        if opening < 0.08 * ry:
            # Closed: one lash line along where the lids meet.
            pts = [proj(x, b) for x, (t, b) in zip(xs, tb, strict=True)]
            _stroke(surface, col.outline, pts, lid_px * 1.1, taper=0.5)
            return
        top_pts = [proj(x, t) for x, (t, b) in zip(xs, tb, strict=True)]
        bot_pts = [proj(x, b) for x, (t, b) in zip(xs, tb, strict=True)]
        if sh.eye_whites:
            _poly(surface, col.eye_white, top_pts + bot_pts[::-1])

        def clipped_circle(cx: float, cy: float, r: float, n: int = 20) -> list[Point] | None:
            pts = []
            for i in range(n):
                a = 2 * math.pi * i / n
                x = _clamp(cx + r * math.cos(a), ex - rx, ex + rx)
                t, b = bounds((x - ex) / rx)
                y = _clamp(cy + r * math.sin(a), t, b)
                pts.append((x, y))
            ys = [p[1] for p in pts]
            if max(ys) - min(ys) < 0.004:
                return None
            return [proj(x, y) for x, y in pts]

        r_iris = min(sh.iris_size * ry, 0.95 * rx)
        ix = ex + gaze_x * (rx - r_iris * 0.8) * 0.9
        iy = ey + gaze_y * ry * 0.25 + 0.06 * ry
        iris = clipped_circle(ix, iy, r_iris)
        if iris:
            _poly(surface, col.iris, iris)
        if sh.pupil_size > 0 and sh.pupil_size < 1.0:
            pupil = clipped_circle(ix, iy, r_iris * sh.pupil_size, 16)
            if pupil:
                _poly(surface, col.pupil, pupil)
        if sh.highlight and iris:
            hl = clipped_circle(ix + r_iris * 0.32, iy - r_iris * 0.38, r_iris * 0.26, 12)
            if hl:
                _poly(surface, col.highlight, hl)
        if sh.eye_whites:
            _stroke(surface, col.outline, top_pts, lid_px, taper=0.55)
            pygame.draw.aalines(surface, col.outline, False, bot_pts)
            if lid_px >= 3:
                _stroke(surface, col.outline, bot_pts, lid_px * 0.35, taper=0.6, caps=False)

    def _draw_mouth(self, surface, proj, c: Controls, mouth_px: float) -> None:
        sh, col, g = self.style.shape, self.style.colors, self.style.gains
        # The avatar's right corner is on the viewer's left.
        corner_vl = _clamp(c.mouth_corner_right * g.mouth_corner, -1.0, 1.0)
        corner_vr = _clamp(c.mouth_corner_left * g.mouth_corner, -1.0, 1.0)
        press = _clamp(c.lip_press * g.lip_press, 0.0, 1.0)
        jaw = _clamp(c.jaw_open * g.jaw, 0.0, 1.0)
        upper = _clamp(c.upper_lip * g.lips, 0.0, 1.0)
        lower = _clamp(c.lower_lip * g.lips, 0.0, 1.0)
        avg = (corner_vl + corner_vr) / 2
        half_w = sh.mouth_width * (1.0 + 0.16 * max(0.0, avg) - 0.25 * press)
        my = sh.mouth_y
        left = (-half_w, my - 0.13 * corner_vl)
        right = (half_w, my - 0.13 * corner_vr)
        centre_y = my + sh.mouth_rest_curve * (1.0 - press) + 0.085 * max(0.0, avg) - 0.02 * min(0.0, avg)
        open_h = 0.3 * jaw + 0.12 * lower
        top_c = (0.0, centre_y - 0.05 * upper)
        top = _through(left, top_c, right)
        if open_h > 0.015:
            bottom = _through(left, (0.0, centre_y + open_h), right)
            _poly(surface, col.mouth, [proj(x, y) for x, y in top + bottom[::-1]])
            # Teeth under the upper lip, a tongue resting on the lower: clamp each to the opening.
            teeth = []
            for (x, yt), (_, yb) in zip(top, bottom, strict=True):
                teeth.append((x, min(yb, yt + 0.3 * open_h + 0.02)))
            if col.teeth != col.mouth:
                _poly(surface, col.teeth, [proj(x, y) for x, y in top + teeth[::-1]])
            if col.tongue != col.mouth:
                tongue = []
                tcx, tcy, trx, try_ = 0.0, centre_y + open_h * 0.85, half_w * 0.5, open_h * 0.4
                for i in range(18):
                    a = 2 * math.pi * i / 18
                    x = tcx + trx * math.cos(a)
                    k = min(range(len(top)), key=lambda j: abs(top[j][0] - x))
                    lo_y = max(teeth[k][1], top[k][1])
                    tongue.append((x, _clamp(tcy + try_ * math.sin(a), lo_y, bottom[k][1])))
                _poly(surface, col.tongue, [proj(x, y) for x, y in tongue])
            _stroke(surface, col.outline, [proj(x, y) for x, y in top], mouth_px, taper=0.25)
            _stroke(surface, col.outline, [proj(x, y) for x, y in bottom], mouth_px * 0.8, taper=0.4)
        else:
            # Pressed lips: thicker in the middle, shorter and straighter.
            _stroke(surface, col.outline, [proj(x, y) for x, y in top], mouth_px * (1.0 + 0.35 * press), taper=0.3)
        # Little dimples at the corners sell a smile.
        for side, corner, (cx, cy) in ((-1, corner_vl, left), (1, corner_vr, right)):
            if corner > 0.3:
                k = (corner - 0.3) / 0.7
                d = [(cx - side * 0.005, cy + 0.045 * k), (cx + side * 0.025, cy - 0.0), (cx - side * 0.0, cy - 0.05 * k)]
                _stroke(surface, col.outline, [proj(x, y) for x, y in _quad(*d, 8)], mouth_px * 0.6, taper=0.5)

    # -- overlays ---------------------------------------------------------------------------

    def draw_overlays(self, surface: pygame.Surface, status: str | None = None, bubble: str | None = None,
                      caption: str | None = None, caption_marked: tuple[int, int] | None = None) -> None:
        """Draw only the text overlays of `draw` (no background, no face) over what `surface` already shows."""
        w, h = surface.get_size()
        if w < 4 or h < 4:
            return
        if caption:
            self._draw_caption(surface, caption, caption_marked)
        if bubble:
            self._draw_bubble(surface, bubble, self.layout((w, h)))
        if status:
            self._draw_status(surface, status)

    def _draw_caption(self, surface: pygame.Surface, text: str, marked: tuple[int, int] | None = None) -> None:
        w, h = surface.get_size()
        size = scaled_px(max(12, round(min(h * 0.065, w * 0.05))))
        img = self._text(text, size, self.style.colors.text)
        if img.get_width() > w * 0.96:
            size = max(8, int(size * w * 0.96 / img.get_width()))
            img = self._text(text, size, self.style.colors.text)
        x, y = (w - img.get_width()) // 2, round(h * 0.025)
        shadow = self._text(text, size, _shadow_of(self.style.colors.text))
        surface.blit(shadow, (x + max(1, size // 20), y + max(1, size // 20)))
        surface.blit(img, (x, y))
        if marked is not None:  # the composition's underline, as text editors show it
            font = self.font(size)
            x0 = x + font.size(text[: marked[0]])[0]
            x1 = x + font.size(text[: marked[1]])[0]
            line_y = y + img.get_height() - max(1, size // 12)
            pygame.draw.line(surface, self.style.colors.text, (x0, line_y), (x1, line_y), max(1, size // 16))

    def _draw_status(self, surface: pygame.Surface, text: str) -> None:
        w, h = surface.get_size()
        size = scaled_px(max(10, round(min(h, w) * 0.03)))
        img = self._text(text, size, self.style.colors.text)
        x, y = max(2, round(w * 0.01)), h - img.get_height() - max(2, round(h * 0.01))
        surface.blit(self._text(text, size, _shadow_of(self.style.colors.text)), (x + 1, y + 1))
        surface.blit(img, (x, y))

    def _draw_bubble(self, surface: pygame.Surface, text: str, lay: FaceLayout) -> None:
        w, h = surface.get_size()
        col = self.style.colors
        size = scaled_px(max(10, round(min(w, h) * 0.042)))
        landscape = w >= h * 1.2
        box_w = round(w * 0.27) if landscape else round(w * 0.9)
        font = self.font(size)
        pad = max(3, size // 3)
        lines = wrap_text(font, text, box_w - 2 * pad)
        line_h = font.get_linesize()
        box_h = min(h - 4, len(lines) * line_h + 2 * pad)
        if landscape:
            rect = pygame.Rect(w - box_w - round(w * 0.02), round(h * 0.12), box_w, box_h)
            tail = [
                (rect.left + pad, rect.bottom - pad * 2),
                (rect.left + pad * 4, rect.bottom),
                (rect.left - pad * 3, rect.bottom + pad * 3),
            ]
        else:
            rect = pygame.Rect((w - box_w) // 2, max(2, round(h * 0.02)), box_w, box_h)
            tail = [(w / 2 - pad * 2, rect.bottom - 1), (w / 2 + pad * 2, rect.bottom - 1), (w / 2 + pad, rect.bottom + pad * 3)]
        border = max(1, size // 14)
        pygame.draw.rect(surface, col.bubble_text, rect.inflate(2 * border, 2 * border), border_radius=pad * 2 + border)
        _poly(surface, col.bubble_text, _grow(tail, border))
        pygame.draw.rect(surface, col.bubble, rect, border_radius=pad * 2)
        _poly(surface, col.bubble, tail)
        y = rect.top + pad
        for line in lines:
            if y + line_h > rect.bottom:
                break
            surface.blit(self._text(line, size, col.bubble_text), (rect.left + pad, y))
            y += line_h


def _grow(points: list[Point], by: float) -> list[Point]:
    cx = sum(p[0] for p in points) / len(points)
    cy = sum(p[1] for p in points) / len(points)
    out = []
    for x, y in points:
        d = math.hypot(x - cx, y - cy) or 1.0
        out.append((x + (x - cx) / d * by * 1.5, y + (y - cy) / d * by * 1.5))
    return out


def _mix(a, b, k: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * k) for x, y in zip(a, b, strict=True))


def _shadow_of(color) -> tuple[int, int, int]:
    return (0, 0, 0) if sum(color) > 380 else (255, 255, 255)


_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")  # what str.splitlines breaks at


def safe_text(text: str, newlines: bool = False) -> str:
    """Text as pygame can draw it: no NUL or other control character, no lone surrogate; real Unicode kept.

    pygame refuses a NUL (ValueError) and a surrogate (UnicodeEncodeError) and draws other control
    characters as boxes; chat replies and protocol files can hold any of them. A line break (any that
    str.splitlines knows; \\r\\n counts once) becomes "\\n" when `newlines` (text wrapped into paragraphs),
    else a space; a tab becomes a space; other C0 and C1 controls and DEL are dropped; a surrogate
    becomes U+FFFD. Letters, emoji and joiners pass unchanged.
    """
    if text.isprintable():  # the common case, at C speed
        return text
    out = []
    for c in text.replace("\r\n", "\n"):
        if c in _LINE_BREAKS:
            out.append("\n" if newlines else " ")
        elif c == "\t":
            out.append(" ")
        elif c < " " or "\x7f" <= c <= "\x9f":
            continue
        elif "\ud800" <= c <= "\udfff":
            out.append("\ufffd")
        else:
            out.append(c)
    return "".join(out)


def wrap_text(font: fonts.Font, text: str, width_px: int) -> list[str]:
    """Break text into lines no wider than `width_px` in `font`, at spaces; paragraphs kept (see safe_text).

    A word wider than the line on its own (Japanese or Chinese, written without spaces; a long link) is
    broken between its characters."""
    lines: list[str] = []
    for para in safe_text(text, newlines=True).splitlines() or [""]:
        line = ""
        for word in para.split():
            trial = f"{line} {word}".strip()
            if line and font.size(trial)[0] > width_px:
                lines.append(line)
                line = word
            else:
                line = trial
            while len(line) > 1 and font.size(line)[0] > width_px:
                cut = _fitting_chars(font, line, width_px)
                lines.append(line[:cut])
                line = line[cut:].lstrip()
        lines.append(line)
    return lines


def _fitting_chars(font: fonts.Font, text: str, width_px: int) -> int:
    """How many leading characters of `text` fit in `width_px` (at least one), by bisection."""
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.size(text[:mid])[0] <= width_px:
            lo = mid
        else:
            hi = mid - 1
    return lo


def sweep_controls(n: int) -> list[Controls]:
    """`n` control sets sweeping smile, concern, blinks and head turns: the benchmark's workload."""
    from avatar.empathy import Echo
    from avatar.rig import IdleState, controls_from_echo

    out = []
    for i in range(n):
        t = i / max(1, n - 1)
        smile = 0.5 - 0.5 * math.cos(2 * math.pi * t)
        concern = max(0.0, math.sin(4 * math.pi * t))
        echo = Echo(smile=smile, wince=concern, familiarity=0.5, load=0.2, gain=1.0, delay_s=0.5)
        idle = IdleState(
            blink=1.0 if i % 17 == 0 else 0.0, breath=math.sin(6 * t), gaze_x=0.3 * math.sin(9 * t), gaze_y=0.1 * math.cos(7 * t)
        )
        out.append(controls_from_echo(echo, idle, 25 * math.sin(2 * math.pi * t), 10 * math.sin(3 * t), 8 * math.cos(5 * t)))
    return out


BENCH_CHUNK = 10  # frames per timed chunk in render_benchmark


def time_drawing(renderer, size: tuple[int, int], sweep: list[Controls], chunk: int = BENCH_CHUNK) -> tuple[float, float]:
    """(best fps, mean fps) of `renderer.draw` over `sweep` on a surface of `size`, after one warm-up frame.

    Like timeit, the best is the fastest chunk of `chunk` frames, so that other processes on a shared
    machine do not decide it; the mean is the plain average over the sweep."""
    surface = pygame.Surface(size)
    renderer.draw(surface, sweep[0])  # warm the caches, as the first live frame does
    chunk_s, total_s = [], 0.0
    for start in range(0, len(sweep), chunk):
        part = sweep[start : start + chunk]
        t0 = time.perf_counter()
        for c in part:
            renderer.draw(surface, c)
        dt = time.perf_counter() - t0
        total_s += dt
        chunk_s.append(dt / len(part))
    return round(1.0 / min(chunk_s), 1), round(len(sweep) / total_s, 1)


def render_benchmark(style_names=None, sizes=((1920, 1080), (1280, 720)), frames: int = 120) -> dict:
    """Headless render speed per style and size over a sweep of controls, and the rig mapping time.

    Returns {"render_fps_1080p": min over styles, "render_fps_720p": ..., "per_style": {name: {"WxH": fps,
    "WxH_mean": fps}}, "rig_map_us": microseconds per controls_from_echo call}. Each frame includes the
    clear. Like timeit, the headline fps is the best of chunks of BENCH_CHUNK frames, so that other
    processes on a shared machine do not decide it; "_mean" is the plain average over the sweep.
    """
    from avatar.empathy import Echo
    from avatar.rig import IdleState, controls_from_echo
    from avatar.styles import list_styles

    if not style_names:
        style_names = [name for name, _, _ in list_styles()]
    sweep = sweep_controls(frames)
    per_style: dict[str, dict[str, float]] = {}
    for name in style_names:
        renderer = AvatarRenderer(name)
        per_style[name] = {}
        for w, h in sizes:
            best_fps, mean_fps = time_drawing(renderer, (w, h), sweep)
            per_style[name][f"{w}x{h}"] = best_fps
            per_style[name][f"{w}x{h}_mean"] = mean_fps
    echo = Echo(smile=0.6, wince=0.2, familiarity=0.5, load=0.2, gain=1.0, delay_s=0.5)
    idle = IdleState(blink=0.0, breath=0.3, gaze_x=0.1, gaze_y=0.0)
    n = 2000
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _i in range(n // 5):
            controls_from_echo(echo, idle, 10.0, 5.0, 2.0)
        best = min(best, (time.perf_counter() - t0) / (n // 5))
    rig_us = best * 1e6
    result: dict = {}
    for w, h in sizes:
        key = f"{w}x{h}"
        label = {1080: "render_fps_1080p", 720: "render_fps_720p"}.get(h, f"render_fps_{key}")
        result[label] = min(per_style[s][key] for s in per_style)
    result["per_style"] = per_style
    result["rig_map_us"] = round(rig_us, 2)
    return result
