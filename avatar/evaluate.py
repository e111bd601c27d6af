"""Evaluating the channels on a labelled still set: `python -m avatar evaluate DIR --labels labels.csv`.

A tool on top of `reading` (stills, population baseline): a predicted class per image from the
channels, a confusion table against the labels, and per-channel statistics per label.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from avatar.errors import ConfigError
from avatar.expression import UNIT_CHANNELS

LABELS = ("neutral", "happy", "pain", "anger", "disgust", "surprise", "sad", "fear")
# What the channels can tell apart. Disgust and fear have no channel of their own: a disgust face
# should land in anger/pain (brow lowering, upper lip), fear mostly in surprise or neutral.
PREDICTED = ("neutral", "happy", "sad", "pain", "anger", "surprise")


@dataclass(frozen=True)
class ClassThresholds:
    happy_smile: float = 0.5  # a smile this high is happy, whatever else the face does (a laugh is not a wince)
    surprise: float = 0.5
    sad: float = 0.35  # sadness at least this high, and at least the wince, is sad (not pain)
    pain_wince: float = 0.55  # a strong wince (brows, lids and eyes closing) is pain ...
    anger_wince: float = 0.30  # ... a moderate one (lowered brows, narrowed eyes) is anger
    anger_frown: float = 0.40  # lip corners down with lowered brows


def classify(channels: dict[str, float | None], thresholds: ClassThresholds = ClassThresholds()) -> str:
    """The predicted class of one face's channels, in order: happy, surprise, sad, pain, anger, else neutral."""
    t = thresholds
    if channels.get("smile") is None:
        return "neutral"
    if channels["smile"] >= t.happy_smile:
        return "happy"
    if channels["surprise"] >= t.surprise:
        return "surprise"
    if (channels.get("sad") or 0.0) >= t.sad and channels["sad"] >= channels["wince"]:
        return "sad"
    if channels["wince"] >= t.pain_wince:
        return "pain"
    if channels["wince"] >= t.anger_wince or channels["frown"] >= t.anger_frown:
        return "anger"
    return "neutral"


def load_labels(labels_csv: Path, root: Path) -> list[tuple[Path, str]]:
    """(image path, label) rows from a `path,label` CSV; paths are relative to `root`."""
    labels_csv = Path(labels_csv)
    if not labels_csv.is_file():
        raise ConfigError(f"labels file not found: {labels_csv}")
    rows = []
    with open(labels_csv, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"path", "label"} <= {name.strip() for name in reader.fieldnames}:
            raise ConfigError(f"{labels_csv}: the header must have the columns path,label (got {reader.fieldnames})")
        for line, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            if not row.get("path"):
                continue
            label = row.get("label", "").lower()
            if label not in LABELS:
                raise ConfigError(f"{labels_csv} line {line}: label {label!r} is not one of {', '.join(LABELS)}")
            path = Path(row["path"])
            rows.append((path if path.is_absolute() else Path(root) / path, label))
    if not rows:
        raise ConfigError(f"{labels_csv}: no labelled images")
    return rows


@dataclass(frozen=True)
class ChannelStats:
    n: int
    mean: float
    sd: float
    min: float
    max: float


@dataclass(frozen=True)
class Evaluation:
    records: tuple[dict, ...]  # per image: path, label, predicted, faces, channels (or error)
    confusion: dict[str, dict[str, int]]  # label -> predicted -> count
    stats: dict[str, dict[str, ChannelStats]]  # label -> channel -> stats
    errors: int
    accuracy: float  # over images with a label the channels can predict (PREDICTED) and no error
    labels: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "images": len(self.records),
            "errors": self.errors,
            "accuracy": round(self.accuracy, 4) if self.accuracy == self.accuracy else None,
            "predicted_classes": list(PREDICTED),
            "confusion": self.confusion,
            "stats": {
                label: {ch: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(s).items()} for ch, s in chans.items()}
                for label, chans in self.stats.items()
            },
            "images_detail": list(self.records),
        }


def _stats(values: list[float]) -> ChannelStats:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return ChannelStats(n, mean, sd, min(values), max(values))


def summarize(records: Iterable[dict]) -> Evaluation:
    """Confusion table and per-label channel statistics from per-image records. Pure."""
    records = tuple(records)
    labels = tuple(label for label in LABELS if any(r["label"] == label for r in records))
    confusion = {label: {p: 0 for p in (*PREDICTED, "no face", "error")} for label in labels}
    values: dict[str, dict[str, list[float]]] = {label: {ch: [] for ch in UNIT_CHANNELS} for label in labels}
    errors = correct = scored = 0
    for r in records:
        if "error" in r:
            errors += 1
            confusion[r["label"]]["error"] += 1
            continue
        if not r["faces"]:
            confusion[r["label"]]["no face"] += 1
        else:
            confusion[r["label"]][r["predicted"]] += 1
            for ch in UNIT_CHANNELS:
                values[r["label"]][ch].append(float(r[ch]))
        if r["label"] in PREDICTED:
            scored += 1
            correct += r["faces"] > 0 and r["predicted"] == r["label"]
    stats = {label: {ch: _stats(v) for ch, v in chans.items() if v} for label, chans in values.items()}
    accuracy = correct / scored if scored else float("nan")
    return Evaluation(records, confusion, stats, errors, accuracy, labels)


def evaluate(
    items: list[tuple[Path, str]],
    model: str | None = None,
    progress: bool = True,
    read: Callable | None = None,
) -> Evaluation:
    """Read every labelled still (population baseline, tiled face search) and summarize."""
    from avatar.reading import read_images

    paths = [path for path, _ in items]
    lines = (read or read_images)(paths, model=model)
    if progress:
        from tqdm import tqdm

        lines = tqdm(lines, total=len(paths), desc="evaluate", unit="image", leave=False)
    records = []
    for (path, label), line in zip(items, lines, strict=True):
        record = {"path": str(path), "label": label, **{k: v for k, v in line.items() if k != "path"}}
        if "error" not in record:
            record["predicted"] = classify(record) if record["faces"] else "no face"
        records.append(record)
    return summarize(records)


def format_report(evaluation: Evaluation) -> str:
    """The confusion table and the per-label channel means (sd) as plain text."""
    columns = (*PREDICTED, "no face", "error")
    width = max(10, *(len(c) + 2 for c in columns))
    lines = ["confusion (rows: label, columns: predicted)", "label".ljust(10) + "".join(c.rjust(width) for c in columns)]
    for label in evaluation.labels:
        lines.append(label.ljust(10) + "".join(str(evaluation.confusion[label][c]).rjust(width) for c in columns))
    accuracy = "n/a" if evaluation.accuracy != evaluation.accuracy else f"{evaluation.accuracy:.2f}"
    lines.append(f"images {len(evaluation.records)}, errors {evaluation.errors}, accuracy on predictable labels {accuracy}")
    lines.append("")
    lines.append("channel mean (sd) per label")
    lines.append("label".ljust(10) + "".join(ch.rjust(14) for ch in UNIT_CHANNELS))
    for label in evaluation.labels:
        cells = []
        for ch in UNIT_CHANNELS:
            s = evaluation.stats.get(label, {}).get(ch)
            cells.append((f"{s.mean:.2f} ({s.sd:.2f})" if s else "-").rjust(14))
        lines.append(label.ljust(10) + "".join(cells))
    return "\n".join(lines)
