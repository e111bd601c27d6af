"""The stderr filter: routine C++ log lines are dropped, everything else gets through."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import os, sys
from avatar.native_log import NativeLogFilter
with NativeLogFilter():
    os.write(2, b"W0000 00:00:1.0 x.cc:1] Input tensor memory is not aligned\n")
    os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    os.write(2, b"E0000 a real native error\n")
    print("error: a python message", file=sys.stderr)
print("after", file=sys.stderr)
"""


def test_routine_native_lines_are_dropped_and_the_rest_is_kept():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30)
    lines = sorted(result.stderr.splitlines())
    assert lines == sorted(["E0000 a real native error", "error: a python message", "after"])
