"""Text on the modes' screens: cached text surfaces, and a calm full-screen message (instructions, breaks).

Drawing helpers shared by the modes (exhibit, classroom, study); pygame is imported lazily.
"""

from __future__ import annotations


class TextPainter:
    """Cached text surfaces in pygame's default font, for the modes' panels (pygame is imported lazily)."""

    def __init__(self, limit: int = 512):
        self._fonts: dict[int, object] = {}
        self._cache: dict[tuple, object] = {}
        self._limit = limit

    def font(self, size_px: int):
        import pygame

        size_px = max(8, int(size_px))
        if size_px not in self._fonts:
            if not pygame.font.get_init():
                pygame.font.init()
            self._fonts[size_px] = pygame.font.Font(None, size_px)
        return self._fonts[size_px]

    def render(self, text: str, size_px: int, color):
        from avatar.render import safe_text

        text = safe_text(text)  # a protocol's or a chat's text may hold a NUL, which pygame refuses
        key = (text, int(size_px), tuple(color))
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
