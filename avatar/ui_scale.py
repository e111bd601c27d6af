"""How big the words on the screens are: one multiplier, `--ui-scale`, for every mode's text and the avatar's.

Every screen already sizes its text from the window's height, so a projector's 720p and 1080p show the
same picture. The multiplier is on top of that: 1 is the screens' own design, 1.5 half as large again
for the back of a big room. The painters (modes/screens.TextPainter, render.AvatarRenderer) apply it to
every size they are asked for, so a screen's layout measures the text it will really draw.

Pure: no imports beyond the standard library; the run sets it once, before its window opens.
"""

from __future__ import annotations

UI_SCALE_RANGE = (0.5, 3.0)  # beyond this a screen's panels cannot hold their text, however it reflows
_scale = 1.0


def set_ui_scale(scale: float) -> None:
    low, high = UI_SCALE_RANGE
    if not low <= scale <= high:
        raise ValueError(f"ui scale {scale} is out of range {low}-{high}")
    global _scale
    _scale = float(scale)


def ui_scale() -> float:
    return _scale


def scaled_px(size_px: float) -> int:
    """The pixel size to draw text asked for at `size_px` (a screen's design), at least 8 px."""
    return max(8, round(size_px * _scale))
