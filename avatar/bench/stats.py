"""The benchmark's arithmetic and what it reads about the machine: percentiles, ratios, memory, versions.

Part of the benchmark (avatar/bench). Plain functions, no model and no pipeline.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
from collections.abc import Sequence

import numpy as np


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float:
    """The q-th percentile (numpy's linear interpolation); 0 for no values."""
    return float(np.percentile(values, q)) if len(values) else 0.0


def ratio(a: float, b: float) -> float | None:
    """a / b to 3 decimals, as every ratio of the report is given; None when b is 0."""
    return round(a / b, 3) if b else None


def rss_mb_now() -> float:
    """Resident set size of this process now, in MB (Linux /proc; else the peak)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return rss_mb_peak()


def rss_mb_peak() -> float:
    """This process's peak resident set size, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0  # bytes on macOS, KiB on Linux


def cpu_name() -> str:
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return name


def core_count() -> int:
    """The cores this process may run on (its affinity), which is what it can use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def versions() -> dict[str, str]:
    """The versions that decide the numbers: the libraries that do the work, Python, and ours."""
    from importlib import metadata

    import cv2
    import pygame

    from avatar import __version__

    return {
        "mediapipe": metadata.version("mediapipe"),  # read, not imported: only the face stage and the bare loop import it
        "opencv": cv2.__version__,
        "pygame": pygame.version.ver,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "avatar": __version__,
    }
