"""The contact sheet tool: every style and the portrait, and the portrait's own sheet of every expression."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.contact_sheet import contact_sheet, expressions, portrait_expressions, portrait_sheet  # noqa: E402


def test_the_portrait_sheet_has_every_expression_the_issue_names(tmp_path):
    import pygame

    labels = [label for label, _ in portrait_expressions()]
    for wanted in ("neutral", "small smile", "broad smile", "concern", "wince answered", "blink", "talking", "jaw open",
                   "head turned", "head tilted", "breath in", "breath out"):
        assert wanted in labels
    pygame.display.init()
    sheet = portrait_sheet((120, 136), columns=4)
    assert sheet.get_size() == (480, 3 * (30 + 136))
    cells = {bytes(pygame.image.tobytes(sheet.subsurface((x * 120, y * 166 + 30, 120, 136)), "RGB"))
             for y in range(3) for x in range(4)}
    assert len(cells) == len(labels)  # every expression draws a different face


def test_the_contact_sheet_has_a_portrait_row():
    import pygame

    pygame.display.init()
    sheet = contact_sheet((80, 60))
    assert sheet.get_width() == 110 + 80 * len(expressions())
    assert sheet.get_height() % 60 == 28 % 60 and (sheet.get_height() - 28) // 60 >= 4
