#!/usr/bin/env python3
"""The bare MediaPipe loop, and the whole program against it: a thin script over avatar/bench/bare_loop.py.

    python tools/bare_loop.py CLIP                       # the bare loop once, one JSON line
    python tools/bare_loop.py CLIP --compare --repeats 3 # bare vs `run.py --headless --log-dir`, interleaved
    python tools/bare_loop.py --make-clip OUT.mp4 --seconds 20   # a 640x360 clip from the demo

The same as `python -m avatar.bench.bare_loop ...`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from avatar.bench.bare_loop import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
