"""Reading stills: `python -m avatar read PATH...`, one JSON object per image.

A tool on top of the face and expression stages, in IMAGE mode (a still has no history).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from avatar.errors import AvatarError
from avatar.expression import channels_from_reading
from avatar.face import FaceReader, FaceReaderOptions, RunningMode, resolve_model
from avatar.sources import read_image


def read_images(paths: Iterable[Path], model: str | None = None) -> Iterator[dict]:
    """Yield {"path", "faces", "smile", "wince"} per image, or {"path", "error"} for a bad one."""
    import cv2

    model_file = resolve_model(model)
    with FaceReader(FaceReaderOptions(running_mode=RunningMode.IMAGE, num_faces=8), model=model_file) as reader:
        for path in paths:
            try:
                bgr = read_image(Path(path))
            except AvatarError as exc:
                yield {"path": str(path), "error": str(exc)}
                continue
            reader.reset_tracking()
            reading = reader.read(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            expression = channels_from_reading(reading)
            yield {
                "path": str(path),
                "faces": reading.faces,
                "smile": round(expression.smile, 4) if expression.present else None,
                "wince": round(expression.wince, 4) if expression.present else None,
            }
