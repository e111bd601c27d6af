"""Text on the modes' screens: cached text surfaces, a calm full-screen message (instructions, breaks), and
a questionnaire item with its answers (study mode).

Drawing helpers shared by the modes (exhibit, classroom, study); pygame is imported lazily.
"""

from __future__ import annotations

from dataclasses import dataclass

from avatar.questionnaire import NO, YES, Item, ItemKind, vas_value
from avatar.strings import say


class TextPainter:
    """Cached text surfaces in the screens' font (avatar.fonts), for the modes' panels (pygame is imported lazily).

    Every size asked for is a screen's design size; the painter draws it times --ui-scale (avatar.ui_scale),
    and measures with the same fonts (`font`, `wrap`), so a layout that measures here fits what is drawn."""

    def __init__(self, limit: int = 512):
        self._cache: dict[tuple, object] = {}
        self._limit = limit

    def font(self, size_px: int):
        from avatar.ui_scale import scaled_px

        return self._font_at(scaled_px(size_px))

    def _font_at(self, px: int):
        from avatar.fonts import font

        return font(px)  # broad coverage, per-glyph fallback; kept by avatar.fonts, which knows when pygame.quit() frees them

    def render(self, text: str, size_px: int, color):
        from avatar.render import safe_text
        from avatar.ui_scale import scaled_px

        text = safe_text(text)  # a protocol's or a chat's text may hold a NUL, which pygame refuses
        key = (text, scaled_px(size_px), tuple(color))
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            surf = self._cache[key] = self.font(size_px).render(text, True, color)
        return surf

    def blit(self, surface, text: str, size_px: int, color, pos, anchor: str = "topleft"):
        img = self.render(text, size_px, color)
        rect = img.get_rect(**{anchor: (round(pos[0]), round(pos[1]))})
        surface.blit(img, rect)
        return rect

    def wrap(self, text: str, size_px: int, width_px: int) -> list[str]:
        from avatar.render import wrap_text

        return wrap_text(self.font(size_px), text, width_px)


def draw_message_screen(surface, painter: TextPainter, title: str, body: str = "", footer: str = "",
                        background=(16, 20, 32), color=(240, 240, 240), accent=(255, 210, 90)) -> None:
    """A calm full-screen message: a title, wrapped body text and a footer line (instructions, breaks)."""
    w, h = surface.get_size()
    surface.fill(background)
    big = max(18, round(min(h * 0.085, w * 0.06)))
    mid = max(14, round(big * 0.62))
    y = h * 0.22
    if title:
        y = painter.blit(surface, title, big, accent, (w / 2, y), "midtop").bottom + big * 0.6
    for line in painter.wrap(body, mid, int(w * 0.8)):
        y = painter.blit(surface, line, mid, color, (w / 2, y), "midtop").bottom + mid * 0.25
    if footer:
        painter.blit(surface, footer, max(12, round(mid * 0.8)), (170, 180, 200), (w / 2, h * 0.86), "midtop")


# --- a questionnaire item: one at a time, large, answered by key, click or touch ---------------------------

QUESTION_BACKGROUND = (16, 20, 32)
QUESTION_TEXT = (240, 240, 240)
QUESTION_QUIET = (170, 180, 200)  # progress, hints, the keys' numbers
BUTTON_FILL = (36, 44, 66)
BUTTON_EDGE = (110, 124, 160)
CHOSEN_FILL = (255, 210, 90)  # the answer given, shown through the pause before the next item
CHOSEN_TEXT = (16, 20, 32)
CHOICE_ROWS = 5  # a choice of more options is laid out in two columns


@dataclass(frozen=True)
class Button:
    """One answer on the screen: the value it gives, what it shows, the key that picks it, and its box (px)."""

    value: str
    label: str
    key: str
    rect: tuple[int, int, int, int]  # x, y, width, height

    def holds(self, x: float, y: float) -> bool:
        bx, by, bw, bh = self.rect
        return bx <= x < bx + bw and by <= y < by + bh


@dataclass(frozen=True)
class ItemLayout:
    """Where an item's parts go on a screen of `size` pixels; the drawing and the hit test share it, so a
    click lands on the answer it shows. Sizes follow the screen's height (a participant's monitor)."""

    size: tuple[int, int]
    unit: float  # the screen's usable height, px: sizes are fractions of it
    text_px: int  # the item's text, before it is shrunk to fit above the answers
    text_top: float
    answers_top: float  # the text must end above this
    buttons: tuple[Button, ...] = ()
    line: tuple[int, int, int] | None = None  # a VAS: x0, x1 and y of its line
    labels_y: float = 0.0  # the ends' labels (likert, vas)

    def hit(self, x: float, y: float) -> str | None:
        """The answer at pixel (x, y), or None: a button, or a place along a VAS line (and a band around it)."""
        for button in self.buttons:
            if button.holds(x, y):
                return button.value
        if self.line is not None:
            x0, x1, line_y = self.line
            reach = self.unit * 0.09
            if abs(y - line_y) <= reach and x0 - reach / 3 <= x <= x1 + reach / 3:
                return str(vas_value((x - x0) / max(1, x1 - x0)))
        return None


def item_layout(item: Item, size: tuple[int, int]) -> ItemLayout:
    w, h = size
    unit = min(h, w * 0.625)  # a screen wider than 16:10 uses its height; a narrower one its width
    text_px = max(16, round(unit * 0.072))
    answers_y = h * 0.56  # the middle of the answers
    buttons: list[Button] = []
    line = None
    labels_y = 0.0
    if item.kind is ItemKind.LIKERT:
        n = item.points
        side = min(unit * 0.13, w * 0.86 / (n + 0.3 * (n - 1)))
        gap = side * 0.3
        left = (w - (n * side + (n - 1) * gap)) / 2
        for i, value in enumerate(item.choices):
            x = left + i * (side + gap)
            buttons.append(Button(value, value, value, (round(x), round(answers_y - side / 2), round(side), round(side))))
        labels_y = answers_y + side / 2 + unit * 0.03
        answers_top = answers_y - side / 2 - unit * 0.05
    elif item.kind is ItemKind.VAS:
        half = min(w * 0.42, unit * 0.6)
        line = (round(w / 2 - half), round(w / 2 + half), round(answers_y))
        labels_y = answers_y + unit * 0.05
        answers_top = answers_y - unit * 0.1
    elif item.kind is ItemKind.YESNO:
        bw, bh, gap = unit * 0.34, unit * 0.17, unit * 0.08
        left = (w - 2 * bw - gap) / 2
        for i, (value, label) in enumerate(((YES, say("study.yes")), (NO, say("study.no")))):
            buttons.append(Button(value, label, str(i + 1),
                                  (round(left + i * (bw + gap)), round(answers_y - bh / 2), round(bw), round(bh))))
        answers_top = answers_y - bh / 2 - unit * 0.05
    else:
        n = len(item.options)
        columns = 1 if n <= CHOICE_ROWS else 2  # more options go in two columns, read down the first
        rows = -(-n // columns)
        top, bottom = h * 0.4, h * 0.86
        bh = min(unit * 0.1, (bottom - top) / (rows + 0.2 * (rows - 1)))
        width = min(w * 0.8, unit * 1.1) if columns == 1 else min(w * 0.92, unit * 1.5)
        bw = (width - unit * 0.04 * (columns - 1)) / columns
        for i, option in enumerate(item.options):
            x = (w - width) / 2 + (i // rows) * (bw + unit * 0.04)
            y = top + (i % rows) * bh * 1.2
            buttons.append(Button(option, option, str(i + 1), (round(x), round(y), round(bw), round(bh))))
        answers_top = top - unit * 0.04
    return ItemLayout((w, h), unit, text_px, h * 0.18, answers_top, tuple(buttons), line, labels_y)


def answer_hint(item: Item) -> str:
    """The line under an item that says how to answer it."""
    if item.kind is ItemKind.VAS:
        return say("study.answer_hint_vas")
    if item.kind is ItemKind.YESNO:
        return say("study.answer_hint_yesno")
    return say("study.answer_hint_scale", n=len(item.choices))


def draw_item_screen(surface, painter: TextPainter, item: Item, layout: ItemLayout, heading: str = "",
                     chosen: str | None = None, cursor: int | None = None) -> None:
    """One questionnaire item, full screen: a quiet heading, the question in large type, its answers, and
    how to answer. `chosen` (the answer given) is filled in; `cursor` is a VAS marker placed with the keys."""
    import pygame

    w, h = layout.size
    unit = layout.unit
    surface.fill(QUESTION_BACKGROUND)
    small = max(12, round(unit * 0.036))
    if heading:
        painter.blit(surface, heading, small, QUESTION_QUIET, (w / 2, h * 0.05), "midtop")
    size = layout.text_px
    lines = painter.wrap(item.text, size, int(w * 0.84))
    while size > 16 and layout.text_top + len(lines) * size * 1.15 > layout.answers_top:
        size = max(16, round(size * 0.9))  # a long question gets smaller type, never over its answers
        lines = painter.wrap(item.text, size, int(w * 0.84))
    y = layout.text_top
    for line in lines:
        y = painter.blit(surface, line, size, QUESTION_TEXT, (w / 2, y), "midtop").bottom + size * 0.15
    radius = max(4, round(unit * 0.015))
    for button in layout.buttons:
        picked = chosen == button.value
        rect = pygame.Rect(button.rect)
        pygame.draw.rect(surface, CHOSEN_FILL if picked else BUTTON_FILL, rect, border_radius=radius)
        pygame.draw.rect(surface, CHOSEN_FILL if picked else BUTTON_EDGE, rect, width=max(2, round(unit * 0.004)),
                         border_radius=radius)
        ink = CHOSEN_TEXT if picked else QUESTION_TEXT
        if item.kind is ItemKind.LIKERT:
            painter.blit(surface, button.label, round(rect.height * 0.55), ink, rect.center, "center")
        elif item.kind is ItemKind.YESNO:
            painter.blit(surface, button.label, round(rect.height * 0.42), ink, rect.center, "center")
            painter.blit(surface, button.key, small, CHOSEN_TEXT if picked else QUESTION_QUIET,
                         (rect.x + rect.height * 0.15, rect.y + rect.height * 0.1))
        else:
            text_px = max(14, round(rect.height * 0.46))
            painter.blit(surface, button.key, text_px, CHOSEN_TEXT if picked else QUESTION_QUIET,
                         (rect.x + rect.height * 0.4, rect.centery), "midleft")
            painter.blit(surface, button.label, text_px, ink, (rect.x + rect.height * 1.1, rect.centery), "midleft")
    label_px = max(12, round(unit * 0.04))
    if layout.line is not None:
        x0, x1, line_y = layout.line
        thick = max(3, round(unit * 0.006))
        pygame.draw.line(surface, BUTTON_EDGE, (x0, line_y), (x1, line_y), thick)
        for x in (x0, x1):
            pygame.draw.line(surface, BUTTON_EDGE, (x, line_y - unit * 0.03), (x, line_y + unit * 0.03), thick)
        marker = chosen if chosen is not None else (str(cursor) if cursor is not None else None)
        if marker is not None:
            x = x0 + (x1 - x0) * int(marker) / 100
            pygame.draw.circle(surface, CHOSEN_FILL, (round(x), line_y), round(unit * 0.025),
                               width=0 if chosen is not None else max(3, round(unit * 0.006)))
    if item.kind in (ItemKind.LIKERT, ItemKind.VAS):
        if layout.buttons:
            left, right = layout.buttons[0].rect, layout.buttons[-1].rect
            x0, x1 = left[0], right[0] + right[2]
        else:
            x0, x1 = layout.line[0], layout.line[1]
        width = int((x1 - x0) * 0.46)  # each end's label keeps to its half, wrapped
        y = layout.labels_y
        for line in painter.wrap(item.low, label_px, width):
            y = painter.blit(surface, line, label_px, QUESTION_QUIET, (x0, y)).bottom
        y = layout.labels_y
        for line in painter.wrap(item.high, label_px, width):
            y = painter.blit(surface, line, label_px, QUESTION_QUIET, (x1, y), "topright").bottom
    if chosen is None:
        painter.blit(surface, answer_hint(item), small, QUESTION_QUIET, (w / 2, h * 0.93), "midbottom")
