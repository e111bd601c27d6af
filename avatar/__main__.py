"""`python -m avatar ...`: the same program as `python run.py ...`."""

import sys

from avatar.cli import main

sys.exit(main())
