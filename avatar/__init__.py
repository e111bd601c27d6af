"""The mirror avatar: a face that echoes yours the way people echo each other.

sources -> face -> expression -> empathy -> rig -> render, with logs and lab streams at the edges.
"""

__version__ = "0.2.0"
