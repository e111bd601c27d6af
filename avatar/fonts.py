"""Fonts for the screens: one broad primary face, and per-glyph fallback to the system's fonts for other scripts.

pygame's own default font has Latin only: "très" keeps its accent there, but Greek, Cyrillic, Japanese,
Arabic and the rest come out as boxes. Here the primary face is DejaVu Sans Bold, which matplotlib (a
dependency) ships with broad Latin, Greek and Cyrillic coverage; a string is split into runs by the first
face that has each glyph, and the runs are drawn side by side. Faces for other scripts are looked up on
the system the first time a glyph needs one (Noto Sans CJK, Droid Sans Fallback, Noto Sans Arabic, ...;
`apt install fonts-noto-core fonts-noto-cjk` gives full coverage), so Latin text never pays for the search.

`font(size_px)` behaves like a `pygame.font.Font` (size, render, get_linesize, get_height): the avatar's
overlays (render.py) and the modes' panels (modes/screens.py) draw through it and measure the same way.
pygame is imported lazily (the fast way, avatar/_pygame.py), so this module loads anywhere.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import threading
import unicodedata
from pathlib import Path

PRIMARY_FILE = "DejaVuSans-Bold.ttf"  # bold, like pygame's default font: read from across a room
# DejaVu's glyphs are larger than pygame's default font's at the same nominal size: this scale keeps
# the line height and the width of a line of Latin text within a few per cent of what the screens'
# layouts were made with (measured at 20, 40 and 80 px: "Hello world" 76/72, 151/153, 306/303 px wide).
SIZE_SCALE = 0.6
DEFAULT_FONT_EM = 0.68  # pygame's own default font (when DejaVu is missing) draws its em at about this share of the size asked
# Faces looked for on the system, in order, for glyphs the primary lacks (pygame.font.match_font names).
FALLBACK_FAMILIES = (
    "notosanscjkjp", "notosanscjksc", "notosanscjktc", "notosanscjkkr", "droidsansfallbackfull", "droidsansfallback",
    "notosans", "notosansarabic", "notonaskharabic", "notosanshebrew", "notosansdevanagari", "notosansbengali",
    "notosansthai", "notosanstamil", "notosanstelugu", "notosanskannada", "notosansmalayalam", "notosansgujarati",
    "notosansgurmukhi", "notosanssinhala", "notosansarmenian", "notosansgeorgian", "notosansethiopic",
    "notosanskhmer", "notosanslao", "notosansmyanmar", "notosanssymbols", "notosanssymbols2", "dejavusans",
    "freesans", "unifont",
)
MAX_SYSTEM_LOOKUPS = 32  # fc-match calls per process for glyphs no listed face has: hostile text cannot stall the window


def primary_font_path() -> Path | None:
    """matplotlib's DejaVu Sans Bold, found without importing matplotlib (which takes a good part of a second)."""
    try:
        spec = importlib.util.find_spec("matplotlib")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "mpl-data" / "fonts" / "ttf" / PRIMARY_FILE
        if path.is_file():
            return path
    return None


def _is_mark(char: str) -> bool:
    """A combining accent, a joiner or a variation selector: it belongs with the character before it."""
    return unicodedata.category(char) in ("Mn", "Me", "Cf")


class FaceChain:
    """The faces in the order they are tried, and which of them draws each character (cached).

    Faces are appended only, so a character's index never changes. Shared by every size."""

    def __init__(self, primary: Path | None):
        self.paths: list[Path | None] = [primary]  # None: pygame's default font
        self._probes: list = []  # pygame.freetype faces, only to ask whether a glyph is there
        self._owner: dict[str, int] = {}
        self._families_added = False
        self._lookups = 0
        self._lock = threading.Lock()

    def _probe(self, index: int):
        import avatar._pygame  # noqa: F401  (pygame, the fast way, before its freetype module)

        freetype = importlib.import_module("pygame.freetype")  # unlike pygame.font, it says when a glyph is missing
        while len(self._probes) <= index:
            path = self.paths[len(self._probes)]
            if not freetype.get_init():
                freetype.init()
            self._probes.append(freetype.Font(str(path) if path else None, 16))
        return self._probes[index]

    def _has(self, index: int, chars: str) -> list[bool]:
        return [m is not None for m in self._probe(index).get_metrics(chars)]

    def _add(self, path: str | Path | None) -> bool:
        if not path:
            return False
        path = Path(path)
        if path in self.paths or not path.is_file():
            return False
        self.paths.append(path)
        return True

    def _add_families(self) -> None:
        from avatar._pygame import pygame

        self._families_added = True
        if not pygame.font.get_init():
            pygame.font.init()
        for family in FALLBACK_FAMILIES:  # bold where the system has it, to sit beside DejaVu Sans Bold
            self._add(pygame.font.match_font(family, bold=True))

    def _ask_system(self, char: str) -> bool:
        """fontconfig's best face for one character, for scripts the list above does not name; True if new."""
        if self._lookups >= MAX_SYSTEM_LOOKUPS or shutil.which("fc-match") is None:
            return False
        self._lookups += 1
        try:
            found = subprocess.run(["fc-match", "--format=%{file}", f":charset={ord(char):x}"], capture_output=True,
                                   text=True, timeout=2.0).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return False
        return found.lower().endswith((".ttf", ".otf", ".ttc", ".otc")) and self._add(found)

    def owners(self, text: str) -> list[int]:
        """The index of the face that draws each character of `text` (0, the primary's box, if none has it)."""
        with self._lock:
            missing = "".join(dict.fromkeys(c for c in text if c not in self._owner))
            if missing:
                self._resolve(missing)
            return [self._owner[c] for c in text]

    def _resolve(self, chars: str) -> None:
        index = 0
        while chars:
            if index >= len(self.paths) and not self._families_added:
                self._add_families()
            while index >= len(self.paths) and chars:
                if self._ask_system(chars[0]):
                    break
                self._owner[chars[0]] = 0  # no face here has it: the primary draws its box
                chars = chars[1:]
            if not chars:
                return
            has = self._has(index, chars)
            for char, found in zip(chars, has, strict=True):
                if found:
                    self._owner[char] = index
            chars = "".join(c for c, found in zip(chars, has, strict=True) if not found)
            index += 1


class Font:
    """A pygame.font.Font look-alike that draws each glyph from the first face of the chain that has it."""

    def __init__(self, chain: FaceChain, size_px: int):
        from avatar._pygame import pygame

        if not pygame.font.get_init():
            pygame.font.init()
        self._chain = chain
        self._px = max(6, round(size_px * SIZE_SCALE)) if chain.paths[0] is not None else size_px
        self._faces: dict[int, pygame.font.Font] = {}
        self._primary = self._face(0)

    def _face(self, index: int):
        face = self._faces.get(index)
        if face is None:
            from avatar._pygame import pygame

            path = self._chain.paths[index]
            face = self._faces[index] = pygame.font.Font(str(path) if path else None, self._px)
        return face

    def runs(self, text: str) -> list[tuple[int, str]]:
        """`text` cut into (face index, piece) runs; a space or an accent stays with the run it is in."""
        if text.isascii():
            return [(0, text)] if text else []
        owners = self._chain.owners(text)
        runs: list[list] = []
        for char, owner in zip(text, owners, strict=True):
            if runs and runs[-1][0] != owner and (char.isspace() or _is_mark(char)):
                owner = runs[-1][0]
            if runs and runs[-1][0] == owner:
                runs[-1][1] += char
            else:
                runs.append([owner, char])
        return [(owner, piece) for owner, piece in runs]

    def size(self, text: str) -> tuple[int, int]:
        runs = self.runs(text)
        if len(runs) <= 1:
            return self._face(runs[0][0] if runs else 0).size(text)
        width = sum(self._face(owner).size(piece)[0] for owner, piece in runs)
        return width, self._height([owner for owner, _ in runs])

    def _height(self, owners) -> int:
        faces = [self._face(o) for o in set(owners)]
        return max(f.get_ascent() for f in faces) - min(f.get_descent() for f in faces)

    def render(self, text: str, antialias: bool, color, background=None):
        runs = self.runs(text)
        if len(runs) <= 1:
            return self._face(runs[0][0] if runs else 0).render(text, antialias, color, background)
        from avatar._pygame import pygame

        pieces = [(self._face(owner), self._face(owner).render(piece, antialias, color)) for owner, piece in runs]
        ascent = max(face.get_ascent() for face, _ in pieces)
        out = pygame.Surface((sum(img.get_width() for _, img in pieces), self._height([o for o, _ in runs])), pygame.SRCALPHA)
        if background is not None:
            out.fill(background)
        x = 0
        for face, img in pieces:  # on a common baseline
            out.blit(img, (x, ascent - face.get_ascent()))
            x += img.get_width()
        return out

    @property
    def em_px(self) -> int:
        """The height of the font's em square in pixels: what "24 px text" means on a screen."""
        return self._px if self._chain.paths[0] is not None else round(self._px * DEFAULT_FONT_EM)

    def get_linesize(self) -> int:
        return self._primary.get_linesize()

    def get_height(self) -> int:
        return self._primary.get_height()

    def get_ascent(self) -> int:
        return self._primary.get_ascent()

    def get_descent(self) -> int:
        return self._primary.get_descent()


_chain: FaceChain | None = None
_fonts: dict[int, Font] = {}


def _forget_faces() -> None:
    # pygame.quit() frees every open face under its Python objects: a cached one used after that crashes
    # the process, so the caches go with it and the next font() opens the faces again.
    global _chain
    _chain = None
    _fonts.clear()


def font(size_px: int) -> Font:
    """The screens' font at `size_px` (pygame's nominal size, as pygame.font.Font(None, size_px) took it)."""
    global _chain
    size_px = max(8, int(size_px))
    f = _fonts.get(size_px)
    if f is None:
        if _chain is None:
            from avatar._pygame import pygame

            pygame.register_quit(_forget_faces)  # pygame forgets its quit hooks once it has called them
            _chain = FaceChain(primary_font_path())
        f = _fonts[size_px] = Font(_chain, size_px)
    return f


def face_paths() -> list[Path | None]:
    """The faces found so far, primary first (None: pygame's default font, when DejaVu is missing)."""
    font(12)
    return list(_chain.paths)


def covers(text: str) -> bool:
    """Whether some face on this machine has every glyph of `text` (False: some would be boxes)."""
    font(12)
    owners = _chain.owners(text)
    return all(o != 0 or _chain._has(0, c)[0] for c, o in zip(text, owners, strict=True))
