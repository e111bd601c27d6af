"""The face context: a window of Expression samples and familiarity read into a FaceContext and a FaceCue.

Sits on top of avatar.chat.settings; the responder, the endpoint prompt and the window read it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from avatar.chat.settings import FaceCue, ResponderSettings, Tone
from avatar.expression import Expression

# --------------------------------------------------------------------------------------------------
# The face context
# --------------------------------------------------------------------------------------------------


def _slope(times: Sequence[float], values: Sequence[float]) -> float:
    """Least-squares slope per second; 0 with fewer than two samples or no time span."""
    n = len(times)
    if n < 2:
        return 0.0
    mt = sum(times) / n
    mv = sum(values) / n
    var = sum((t - mt) ** 2 for t in times)
    if var <= 1e-12:
        return 0.0
    return sum((t - mt) * (v - mv) for t, v in zip(times, values, strict=True)) / var


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def familiarity_word(familiarity: float) -> str:
    if familiarity >= 0.7:
        return "friend"
    if familiarity >= 0.35:
        return "acquaintance"
    return "stranger"


@dataclass(frozen=True)
class FaceContext:
    """The person's recent expression as the chat sees it. Channels 0-1, trends per second."""

    present: bool
    smile: float = 0.0  # mean over the window
    wince: float = 0.0
    smile_trend_per_s: float = 0.0  # least-squares slope over the window
    wince_trend_per_s: float = 0.0
    frown: float = 0.0  # mean; lowered brows and lip corners down (Expression.frown)
    sad: float = 0.0  # mean; sadness and crying (Expression.sad)
    familiarity: float = 0.2  # 0 stranger - 1 friend (avatar.empathy.FAMILIARITY_PRESETS)
    window_s: float = 0.0  # how much time the means cover

    @staticmethod
    def absent(familiarity: float = 0.2) -> FaceContext:
        return FaceContext(present=False, familiarity=familiarity)

    @classmethod
    def from_series(
        cls,
        times: Sequence[float],
        smiles: Sequence[float | None],
        winces: Sequence[float | None],
        familiarity: float,
        window_s: float = 3.0,
        frowns: Sequence[float | None] | None = None,
        sads: Sequence[float | None] | None = None,
    ) -> FaceContext:
        """Means and slopes over the last `window_s` seconds of a series; None/NaN marks a frame with no face.

        The face counts as present when at least half the frames of the window have one.
        """
        if frowns is None:
            frowns = [0.0 if _finite(s) else None for s in smiles]
        if sads is None:
            sads = [0.0 if _finite(s) else None for s in smiles]
        if not (len(times) == len(smiles) == len(winces) == len(frowns) == len(sads)):
            raise ValueError("times, smiles, winces (and frowns, sads) must have the same length")
        if not times:
            return cls.absent(familiarity)
        end = max(times)
        recent = [row for row in zip(times, smiles, winces, frowns, sads, strict=True) if row[0] >= end - window_s]
        seen = [
            (t, float(s), float(w), float(f) if _finite(f) else 0.0, float(d) if _finite(d) else 0.0)
            for t, s, w, f, d in recent
            if _finite(s) and _finite(w)
        ]
        if not seen or len(seen) * 2 < len(recent):
            return cls.absent(familiarity)
        ts, ss, ws, fs, ds = (list(column) for column in zip(*seen, strict=True))
        return cls(
            present=True,
            smile=sum(ss) / len(ss),
            wince=sum(ws) / len(ws),
            smile_trend_per_s=_slope(ts, ss),
            wince_trend_per_s=_slope(ts, ws),
            frown=sum(fs) / len(fs),
            sad=sum(ds) / len(ds),
            familiarity=float(familiarity),
            window_s=max(ts) - min(ts),
        )

    @classmethod
    def from_expressions(cls, samples: Iterable[tuple[float, Expression]], familiarity: float, window_s: float = 3.0) -> FaceContext:
        """From (t_s, Expression) pairs, as the window keeps them."""
        times, smiles, winces, frowns, sads = [], [], [], [], []
        for t_s, expression in samples:
            times.append(float(t_s))
            present = expression.present
            smiles.append(expression.smile if present else None)
            winces.append(expression.wince if present else None)
            frowns.append(expression.frown if present else None)
            sads.append(expression.sad if present else None)
        return cls.from_series(times, smiles, winces, familiarity, window_s, frowns=frowns, sads=sads)

    def cue(self, settings: ResponderSettings = ResponderSettings()) -> FaceCue:  # noqa: B008  (a frozen dataclass)
        if not self.present:
            return FaceCue.ABSENT
        # Sadness first: a crying face can read as a smile too, and must never be told it looks well.
        if self.sad >= settings.upset_level:
            return FaceCue.UPSET
        # A broad smile discounts the wince channel already (expression.wince_score), so a tense
        # reading wins only when the smile is not clear.
        tense = self.wince >= settings.tense_level or self.frown >= settings.frown_level
        if tense and self.smile < settings.smile_level:
            return FaceCue.TENSE
        if self.smile >= settings.smile_level:
            return FaceCue.SMILING
        return FaceCue.NEUTRAL

    def tone(self, settings: ResponderSettings = ResponderSettings()) -> Tone:  # noqa: B008  (a frozen dataclass)
        return Tone.CASUAL if self.familiarity >= settings.casual_from else Tone.FORMAL

    def describe(self, settings: ResponderSettings = ResponderSettings()) -> str:  # noqa: B008  (a frozen dataclass)
        """A short plain description for an LLM's system prompt (no numbers a model could over-read)."""
        relation = familiarity_word(self.familiarity)
        tone = "casual and warm" if self.tone(settings) is Tone.CASUAL else "polite and a little formal"
        if not self.present:
            return f"No face is visible right now, so rely on the words alone. The person is a {relation}; be {tone}."
        cue = self.cue(settings)
        if cue is FaceCue.SMILING:
            look = "The person is smiling" + (" broadly" if self.smile >= 0.7 else "")
        elif cue is FaceCue.TENSE:
            look = "The person looks a little tense (lowered brows, narrowed eyes)"
        elif cue is FaceCue.UPSET:
            look = "The person looks upset, perhaps sad or close to tears; be gentle and do not joke"
        else:
            look = "The person's face is calm and neutral"
        trends = []
        if self.smile_trend_per_s >= settings.trend_per_s:
            trends.append("their smile is growing")
        elif self.smile_trend_per_s <= -settings.trend_per_s:
            trends.append("their smile is fading")
        if self.wince_trend_per_s >= settings.trend_per_s:
            trends.append("they are getting more tense")
        elif self.wince_trend_per_s <= -settings.trend_per_s:
            trends.append("they are relaxing")
        trend = f"; {' and '.join(trends)}" if trends else ""
        return f"{look}{trend}. The person is a {relation}; be {tone}."

    def summary(self) -> str:
        """One line of the channels read, for the terminal."""
        if not self.present:
            return f"face: none seen, familiarity {self.familiarity:.2f} ({familiarity_word(self.familiarity)})"
        span = f"over {self.window_s:.1f} s" if self.window_s > 0 else "one still"
        return (
            f"face: smile {self.smile:.2f} ({self.smile_trend_per_s:+.2f}/s), wince {self.wince:.2f} "
            f"({self.wince_trend_per_s:+.2f}/s), frown {self.frown:.2f}, sad {self.sad:.2f}, {span}, "
            f"familiarity {self.familiarity:.2f} ({familiarity_word(self.familiarity)}), looks {self.cue().value}"
        )
