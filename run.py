#!/usr/bin/env python3
"""Start the mirror avatar: `python run.py --help`. The same program as `python -m avatar`."""

import sys

from avatar.cli import main

if __name__ == "__main__":
    sys.exit(main())
