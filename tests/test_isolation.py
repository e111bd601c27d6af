"""Nothing leaves the machine in a default run, proved at the OS level: the real program runs in a
network namespace whose only DNS server is a listener of ours on the loopback, which must hear nothing.

The control run (AVATAR_ALLOW_NETWORK=1) shows that the listener does hear MediaPipe's native
telemetry lookups when the program does not isolate itself, so the test can fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURES, ROOT

from avatar.isolation import needs_network

LISTENER = r'''
import socket, sys
out = open(sys.argv[1], "a")
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("127.0.0.1", 53))
while True:
    data, _ = server.recvfrom(2048)
    i, labels = 12, []  # the question's name follows the 12-byte header
    while i < len(data) and data[i]:
        labels.append(data[i + 1:i + 1 + data[i]].decode("ascii", "replace"))
        i += 1 + data[i]
    out.write(".".join(labels) + "\n")
    out.flush()
'''

# In a fresh user, network and mount namespace: the loopback up with one more address (so the
# resolver believes there is a network), /etc/resolv.conf pointing at our listener, then the program.
INNER = r'''
set -e
ip link set lo up
ip addr add 10.99.0.1/8 dev lo
mount --bind "$RESOLV" /etc/resolv.conf
"$PYTHON" "$LISTENER" "$QUERIES" &
listener=$!
sleep 0.5
set +e
"$@"
code=$?
kill $listener
exit $code
'''


def test_network_flags_and_urls_keep_the_network():
    assert needs_network(["--source", "demo", "--headless"]) is None
    assert needs_network(["--lsl"]) == "--lsl"
    assert needs_network(["--ls"]) == "--ls"  # argparse's unique prefix of --lsl
    assert needs_network(["--chat-endpoint=http://127.0.0.1:8080"]) == "--chat-endpoint"
    assert needs_network(["--source", "rtsp://camera.local/stream"]) == "rtsp://camera.local/stream"
    assert needs_network(["--load", "0.5", "--log-dir", "x"]) is None  # --lo... is not --lsl


def _namespaces_work() -> bool:
    if not sys.platform.startswith("linux") or not (shutil.which("unshare") and shutil.which("ip")):
        return False
    probe = subprocess.run(["unshare", "-rnm", "sh", "-c", "ip link set lo up && mount --bind /etc/hostname /etc/hostname"],
                           capture_output=True)
    return probe.returncode == 0


def _queries_heard(tmp_path, *env: str) -> tuple[list[str], subprocess.CompletedProcess]:
    (tmp_path / "resolv.conf").write_text("nameserver 127.0.0.1\n")
    (tmp_path / "listener.py").write_text(LISTENER)
    queries = tmp_path / "queries.txt"
    queries.touch()
    command = ["env", f"RESOLV={tmp_path / 'resolv.conf'}", f"PYTHON={sys.executable}", f"LISTENER={tmp_path / 'listener.py'}",
               f"QUERIES={queries}", "unshare", "-rnm", "sh", "-c", INNER, "inner", "env", *env, sys.executable, "-m", "avatar",
               "--source", str(FIXTURES / "smile_onset.mp4"), "--headless", "--max-frames", "20"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    return queries.read_text().split(), result


@pytest.mark.slow
@pytest.mark.skipif(not _namespaces_work(), reason="needs unshare -rnm and ip (user, network and mount namespaces)")
def test_a_default_run_sends_no_dns_query_and_the_control_run_does(tmp_path):
    control = tmp_path / "control"
    control.mkdir()
    heard, result = _queries_heard(control, "AVATAR_ALLOW_NETWORK=1")
    assert result.returncode == 0, result.stderr
    assert "play.googleapis.com" in heard  # the harness hears the native library's lookups
    default = tmp_path / "default"
    default.mkdir()
    heard, result = _queries_heard(default)
    assert result.returncode == 0, result.stderr
    assert heard == []
