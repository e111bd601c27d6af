#!/usr/bin/env python3
"""Start the mirror avatar: `python run.py --help`. The same program as `python -m avatar`."""

import sys

from avatar.isolation import isolate_unless_networked

if __name__ == "__main__":
    # First, before any library starts a thread or MediaPipe loads: off the network unless asked for it.
    isolate_unless_networked(sys.argv[1:])
    from avatar.cli import exit_process, main

    exit_process(main())
