"""A filter on the process's stderr that drops the C++ libraries' routine log lines.

At the CLI's edge. MediaPipe and TensorFlow Lite write warnings and info lines straight to file
descriptor 2 ("W0000 ... Input tensor memory is not aligned", "INFO: Created TensorFlow Lite
XNNPACK delegate"), past Python, and no setting turns all of them off. A museum terminal or a
check that reads our one-line errors should not see them. So fd 2 becomes a pipe; a thread
forwards every line except those routine ones, and Python's own sys.stderr writes to the real
stderr directly, unfiltered and unbuffered.
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading

# glog/absl lines at INFO or WARNING level ("I1127 ...", "W0000 ..."), TensorFlow Lite's "INFO:" lines,
# and absl's one-time notice. Errors ("E...") and fatal lines ("F...") are forwarded.
ROUTINE = re.compile(rb"^(?:[IW]\d{4} |INFO: |WARNING: Logging before InitGoogle)")


class NativeLogFilter:
    """Context manager: while active, routine native log lines on fd 2 are dropped."""

    def __init__(self) -> None:
        self._saved_fd: int | None = None
        self._thread: threading.Thread | None = None
        self._saved_stderr = None

    def __enter__(self) -> NativeLogFilter:
        try:
            sys.stderr.flush()
            self._saved_fd = os.dup(2)
            read_fd, write_fd = os.pipe()
            os.dup2(write_fd, 2)
            os.close(write_fd)
        except OSError:
            self._saved_fd = None
            return self
        self._saved_stderr = sys.stderr
        # Line-buffered, so each of our lines reaches the terminal in one write and never
        # interleaves mid-line with a forwarded native line.
        sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(self._saved_fd), "wb"), line_buffering=True)
        self._thread = threading.Thread(target=self._forward, args=(read_fd, self._saved_fd), name="native-log", daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _forward(read_fd: int, out_fd: int) -> None:
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            pending = b""
            while True:
                chunk = pipe.read(65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not ROUTINE.match(line):
                        os.write(out_fd, line + b"\n")
            if pending and not ROUTINE.match(pending):
                os.write(out_fd, pending)

    def __exit__(self, *exc) -> None:
        if self._saved_fd is None:
            return
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # the real stderr is gone (a closed terminal): nothing left to say there
        # Put the real stderr back on fd 2; the pipe's last writer closes, so the thread ends.
        os.dup2(self._saved_fd, 2)
        if self._thread is not None:
            self._thread.join(timeout=5.0)  # it ends as soon as the pipe is drained
        replacement, sys.stderr = sys.stderr, self._saved_stderr
        try:
            replacement.close()
        except OSError:
            pass  # closing our own duplicate of the real stderr cannot lose anything
        os.close(self._saved_fd)
        self._saved_fd = None
