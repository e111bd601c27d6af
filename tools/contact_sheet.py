"""Contact sheet: every avatar style (and the portrait) at several expressions, in one labelled PNG grid.

A tool at the edge of the pipeline (echo -> rig -> render); run headless:
    python tools/contact_sheet.py [--out docs/img/contact_sheet.png] [--cell 320x240]
        [--portrait-out docs/img/portrait_contact_sheet.png]

The portrait sheet shows the warped photo's face close up at every expression the rig makes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pygame  # noqa: E402

from avatar.empathy import Echo  # noqa: E402
from avatar.portrait import PortraitRenderer  # noqa: E402
from avatar.render import AvatarRenderer  # noqa: E402
from avatar.rig import Controls, IdleState, controls_from_echo  # noqa: E402
from avatar.styles import list_styles  # noqa: E402

REST = IdleState(blink=0.0, breath=0.0, gaze_x=0.0, gaze_y=0.0)


def _echo(smile: float = 0.0, wince: float = 0.0) -> Echo:
    # As the empathy model answers a wince: shown softened (x0.5) and met with concern.
    return Echo(smile=smile, wince=0.5 * wince, concern=wince, familiarity=0.5, load=0.2, gain=1.0, delay_s=0.5)


def expressions() -> list[tuple[str, Controls]]:
    """(label, controls) for each column, all made through the rig mapping the live loop uses."""
    return [
        ("neutral", controls_from_echo(_echo(), REST)),
        ("half smile", controls_from_echo(_echo(smile=0.45), REST)),
        ("full smile", controls_from_echo(_echo(smile=1.0), REST)),
        ("concern", controls_from_echo(_echo(wince=1.0), REST)),
        ("blink", controls_from_echo(_echo(smile=0.2), IdleState(blink=1.0, breath=0.0, gaze_x=0.0, gaze_y=0.0))),
        (
            "head turned",
            controls_from_echo(
                _echo(smile=0.6),
                IdleState(blink=0.0, breath=0.0, gaze_x=0.3, gaze_y=0.0),
                head_yaw_deg=25.0,
                head_pitch_deg=6.0,
                head_roll_deg=8.0,
            ),
        ),
    ]


def portrait_expressions() -> list[tuple[str, Controls]]:
    """Every expression the portrait has to get right, through the rig as live."""
    talk = controls_from_echo(_echo(smile=0.2), REST)
    return [
        ("neutral", controls_from_echo(_echo(), REST)),
        ("small smile", controls_from_echo(_echo(smile=0.35), REST)),
        ("broad smile", controls_from_echo(_echo(smile=1.0), REST)),
        ("concern", Controls(**{**vars(controls_from_echo(_echo(), REST)), "brow_inner_left": 0.95, "brow_inner_right": 0.95,
                                "brow_outer_left": -0.35, "brow_outer_right": -0.35, "lip_press": 0.8})),
        ("wince answered", controls_from_echo(_echo(wince=1.0), REST)),
        ("blink", controls_from_echo(_echo(smile=0.2), IdleState(blink=1.0, breath=0.0, gaze_x=0.0, gaze_y=0.0))),
        ("talking", Controls(**{**vars(talk), "jaw_open": 0.6})),
        ("jaw open", Controls(**{**vars(talk), "jaw_open": 1.0, "lower_lip": 0.5})),
        ("head turned", controls_from_echo(_echo(smile=0.3), IdleState(blink=0.0, breath=0.0, gaze_x=0.4, gaze_y=0.0),
                                           head_yaw_deg=25.0, head_pitch_deg=6.0)),
        ("head tilted", controls_from_echo(_echo(smile=0.3), REST, head_roll_deg=20.0)),
        ("breath in", controls_from_echo(_echo(), IdleState(blink=0.0, breath=1.0, gaze_x=0.0, gaze_y=0.0))),
        ("breath out", controls_from_echo(_echo(), IdleState(blink=0.0, breath=-1.0, gaze_x=0.0, gaze_y=0.0))),
    ]


def portrait_sheet(cell: tuple[int, int] = (300, 340), columns: int = 4) -> pygame.Surface:
    """The portrait's face close up (a crop of a 1920x1080 frame, as a projector shows it) at every expression."""
    renderer = PortraitRenderer("portrait")
    exprs = portrait_expressions()
    label_h = 30
    cw, ch = cell
    rows = (len(exprs) + columns - 1) // columns
    sheet = pygame.Surface((cw * columns, (label_h + ch) * rows))
    sheet.fill((250, 250, 250))
    pygame.font.init()
    font = pygame.font.Font(None, 28)
    frame = pygame.Surface((1920, 1080))
    lay = renderer.layout(frame.get_size())
    crop = pygame.Rect(0, 0, round(2.9 * lay.unit_px), round(2.9 * lay.unit_px * ch / cw))
    crop.center = (round(lay.centre_x), round(lay.centre_y - 0.25 * lay.unit_px))
    for k, (label, controls) in enumerate(exprs):
        x, y = (k % columns) * cw, (k // columns) * (label_h + ch)
        renderer.draw(frame, controls)
        sheet.blit(pygame.transform.smoothscale(frame.subsurface(crop), (cw, ch)), (x, y + label_h))
        img = font.render(label, True, (20, 20, 20))
        sheet.blit(img, (x + (cw - img.get_width()) // 2, y + (label_h - img.get_height()) // 2))
        pygame.draw.rect(sheet, (200, 200, 200), (x, y + label_h, cw, ch), 1)
    return sheet


def contact_sheet(cell: tuple[int, int] = (320, 240)) -> pygame.Surface:
    styles = [*list_styles(), ("portrait", None, "")]
    exprs = expressions()
    label_h, label_w = 28, 110
    cw, ch = cell
    sheet = pygame.Surface((label_w + cw * len(exprs), label_h + ch * len(styles)))
    sheet.fill((250, 250, 250))
    pygame.font.init()
    font = pygame.font.Font(None, 26)
    for j, (label, _) in enumerate(exprs):
        img = font.render(label, True, (20, 20, 20))
        sheet.blit(img, (label_w + j * cw + (cw - img.get_width()) // 2, (label_h - img.get_height()) // 2))
    for i, (name, _path, _desc) in enumerate(styles):
        renderer = PortraitRenderer(name) if name == "portrait" else AvatarRenderer(name)
        img = font.render(name, True, (20, 20, 20))
        sheet.blit(img, (8, label_h + i * ch + (ch - img.get_height()) // 2))
        for j, (_label, controls) in enumerate(exprs):
            tile = pygame.Surface(cell)
            renderer.draw(tile, controls)
            sheet.blit(tile, (label_w + j * cw, label_h + i * ch))
            pygame.draw.rect(sheet, (200, 200, 200), (label_w + j * cw, label_h + i * ch, cw, ch), 1)
    return sheet


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "img" / "contact_sheet.png"))
    ap.add_argument("--cell", default="320x240", help="tile size WxH")
    ap.add_argument("--portrait-out", default=str(Path(__file__).resolve().parent.parent / "docs" / "img" / "portrait_contact_sheet.png"))
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.cell.lower().split("x"))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pygame.display.init()  # the portrait converts its cached background like a window would
    pygame.image.save(contact_sheet((w, h)), str(out))
    print(out)
    pygame.image.save(portrait_sheet(), args.portrait_out)
    print(args.portrait_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
