"""Contact sheet: every avatar style at several expressions, in one labelled PNG grid.

A tool at the edge of the pipeline (echo -> rig -> render); run headless:
    python tools/contact_sheet.py [--out docs/img/contact_sheet.png] [--cell 320x240]
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


def contact_sheet(cell: tuple[int, int] = (320, 240)) -> pygame.Surface:
    styles = list_styles()
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
        renderer = AvatarRenderer(name)
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
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.cell.lower().split("x"))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(contact_sheet((w, h)), str(out))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
