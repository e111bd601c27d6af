"""Landmark-guided face warping, for the tools: the core now lives in avatar/portrait_warp.py.

Kept so that tools/make_clips.py, the fixture scripts and their tests import it as before.
"""

from __future__ import annotations

from avatar.portrait_warp import *  # noqa: F403
from avatar.portrait_warp import _both, _chain, _delaunay, _laplacian  # noqa: F401
