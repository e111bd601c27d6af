"""pygame, imported once the quiet and fast way.

pygame 2.6 imports setuptools' `pkg_resources` only to find its own data files, which costs about
0.15 s of every start and prints a deprecation warning. With `pkg_resources` hidden, pygame falls
back to reading those files directly, which is all it needs.
"""

import os
import sys

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
_MISSING = object()
_saved = sys.modules.get("pkg_resources", _MISSING)
if _saved is _MISSING:
    sys.modules["pkg_resources"] = None  # makes `import pkg_resources` raise ImportError
try:
    import pygame  # noqa: E402
    import pygame.gfxdraw  # noqa: E402,F401  (the renderer's anti-aliased shapes)
finally:
    if _saved is _MISSING:
        del sys.modules["pkg_resources"]

__all__ = ["pygame"]
