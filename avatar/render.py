"""The renderer: Controls -> pixels on a pygame Surface.

The last stage. It draws from Controls only; everything scales from the surface's size.
"""

from __future__ import annotations

import math

import pygame
import pygame.gfxdraw

from avatar.rig import Controls

SKIN = (246, 205, 160)
OUTLINE = (70, 45, 35)
BACKGROUND = (34, 40, 52)
EYE_WHITE = (250, 250, 250)
IRIS = (60, 90, 120)
MOUTH = (150, 50, 60)
CHEEK = (240, 150, 140)


def _quad_bezier(p0, p1, p2, steps: int = 24) -> list[tuple[float, float]]:
    pts = []
    for i in range(steps + 1):
        t = i / steps
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        pts.append((a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]))
    return pts


def _thick_aaline(surface: pygame.Surface, color, points, width: int) -> None:
    if width <= 1:
        pygame.draw.aalines(surface, color, False, points)
        return
    pygame.draw.lines(surface, color, False, points, width)
    r = width // 2
    for x, y in (points[0], points[-1]):
        pygame.gfxdraw.filled_circle(surface, int(x), int(y), r, color)
        pygame.gfxdraw.aacircle(surface, int(x), int(y), r, color)


class AvatarRenderer:
    """Draws the face into whatever surface it is given, centred and scaled to fit."""

    def draw(self, surface: pygame.Surface, controls: Controls) -> None:
        w, h = surface.get_size()
        surface.fill(BACKGROUND)
        unit = min(w, h) / 2.4  # face half-width in pixels
        cx = w / 2 + math.sin(math.radians(controls.head_yaw_deg)) * unit * 0.25
        cy = h / 2 - math.sin(math.radians(controls.head_pitch_deg)) * unit * 0.2 + controls.breath * unit * 0.01
        face_w, face_h = unit, unit * 1.2
        pygame.gfxdraw.filled_ellipse(surface, int(cx), int(cy), int(face_w), int(face_h), SKIN)
        pygame.gfxdraw.aaellipse(surface, int(cx), int(cy), int(face_w), int(face_h), OUTLINE)
        line = max(2, int(unit * 0.045))

        def p(x: float, y: float) -> tuple[float, float]:
            # Face-space (-1..1) to pixels, rotated by head roll.
            roll = math.radians(controls.head_roll_deg)
            xr = x * math.cos(roll) - y * math.sin(roll)
            yr = x * math.sin(roll) + y * math.cos(roll)
            return cx + xr * face_w, cy + yr * face_h

        # Viewer's left is the avatar's right.
        for side, lid, inner, outer, cheek in (
            (-1, controls.lid_right, controls.brow_inner_right, controls.brow_outer_right, controls.cheek_right),
            (1, controls.lid_left, controls.brow_inner_left, controls.brow_outer_left, controls.cheek_left),
        ):
            ex, ey = side * 0.38, -0.18
            if cheek > 0.05:
                cxp, cyp = p(side * 0.55, 0.22)
                r = int(unit * 0.16)
                pygame.gfxdraw.filled_circle(surface, int(cxp), int(cyp), r, (*CHEEK, int(120 * min(1.0, cheek))))
            ew, eh = unit * 0.17, unit * 0.12 * max(0.05, 1.0 - lid)
            exp, eyp = p(ex, ey)
            if eh > 2:
                pygame.gfxdraw.filled_ellipse(surface, int(exp), int(eyp), int(ew), int(eh), EYE_WHITE)
                ir = int(min(ew, eh) * 0.8)
                ix = exp + controls.gaze_x * ew * 0.4
                iy = eyp + controls.gaze_y * eh * 0.4
                pygame.gfxdraw.filled_circle(surface, int(ix), int(iy), max(1, ir), IRIS)
                pygame.gfxdraw.aaellipse(surface, int(exp), int(eyp), int(ew), int(eh), OUTLINE)
            else:
                _thick_aaline(surface, OUTLINE, [p(ex - 0.17, ey), p(ex + 0.17, ey)], line)
            by_inner = -0.42 - 0.12 * inner
            by_outer = -0.40 - 0.10 * outer
            _thick_aaline(surface, OUTLINE, _quad_bezier(p(side * 0.2, by_inner), p(side * 0.38, min(by_inner, by_outer) - 0.06), p(side * 0.58, by_outer)), line)

        corner_y = 0.45 - 0.13 * (controls.mouth_corner_left + controls.mouth_corner_right) / 2
        mid_y = 0.45 + 0.12 * max(0.0, (controls.mouth_corner_left + controls.mouth_corner_right) / 2)
        half_width = 0.28 * (1.0 + 0.15 * max(0.0, controls.mouth_corner_left)) * (1.0 - 0.2 * controls.lip_press)
        upper = _quad_bezier(p(-half_width, corner_y), p(0, mid_y - 0.12 * controls.upper_lip), p(half_width, corner_y))
        open_amount = 0.1 * controls.jaw_open + 0.08 * controls.lower_lip
        lower = _quad_bezier(p(half_width, corner_y), p(0, mid_y + open_amount + 0.05 * open_amount), p(-half_width, corner_y))
        if open_amount > 0.01:
            pygame.gfxdraw.filled_polygon(surface, upper + lower, MOUTH)
            pygame.gfxdraw.aapolygon(surface, upper + lower, OUTLINE)
        _thick_aaline(surface, OUTLINE, upper, line)
