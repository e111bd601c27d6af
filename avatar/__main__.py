"""`python -m avatar ...`: the same program as `python run.py ...`."""

import sys

from avatar.isolation import isolate_unless_networked

# First, before any library starts a thread or MediaPipe loads: off the network unless asked for it.
isolate_unless_networked(sys.argv[1:])

from avatar.cli import exit_process, main  # noqa: E402

exit_process(main())
