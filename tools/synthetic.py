"""Synthetic expression series for the empathy model's tests and documentation plots.

Tools, not product: a person smiling on and off, with known timing, at the file rate of the clips.
"""

from __future__ import annotations

import numpy as np

FPS = 30.0


def smile_series(seed: int = 0, duration_s: float = 20.0, level: float = 0.8, ramp_s: float = 0.3, noise: float = 0.02):
    """A person smiling on and off (seeded): events of 1.5-3.5 s at ~`level`, gaps of 1.5-3.5 s, 0.3 s ramps."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 1.0 / FPS)
    x = np.zeros_like(t)
    start = rng.uniform(0.5, 2.0)
    while start < duration_s:
        on = rng.uniform(1.5, 3.5)
        size = level * rng.uniform(0.9, 1.1)
        x = np.maximum(x, size * np.minimum(np.clip((t - start) / ramp_s, 0, 1), np.clip((start + on - t) / ramp_s, 0, 1)))
        start += on + rng.uniform(1.5, 3.5)
    return t, np.clip(x + rng.normal(0.0, noise, len(t)), 0.0, 1.0)
