"""The avatar talks back: words + the face's recent expression -> a short, kind reply.

Sits on top of the pipeline, beside the modes: it reads `Expression` samples (the third stage) and
familiarity (the empathy model) into a `FaceContext`, answers offline by default, or through an
OpenAI-compatible endpoint with an offline fallback. `ChatController` runs requests off the render
thread; `command_chat` is `python -m avatar chat`.
"""

from __future__ import annotations

import argparse
import json
import math
import queue
import random
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from avatar.errors import SourceError

# --------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponderSettings:
    """What the offline responder counts as a smile, a tense face, a trend and a friend."""

    # astronaut.png reads smile 0.90; a neutral face about 0.07: 0.4 is a clear smile, not a polite one.
    smile_level: float = 0.4
    # A neutral face reads wince ~0.0, lowered brows with narrowed eyes 0.58-0.76 (tests/fixtures/faces):
    # 0.15 catches a milder version without reading tension into a resting face.
    tense_level: float = 0.15
    # A frown (lowered brows, lip corners down) reads 0.2-0.4 on those faces and 0 on a neutral one.
    frown_level: float = 0.2
    # Change per second of the channel's least-squares slope that counts as "growing" or "fading".
    trend_per_s: float = 0.08
    # Familiarity (0-1) from which the tone turns casual; "acquaintance" (0.5) still gets the formal tone.
    casual_from: float = 0.6
    # Replies longer than this lose their follow-up sentence (speech bubbles stay small).
    max_words: int = 25


@dataclass(frozen=True)
class ChatSettings:
    """Everything a chat session needs; `endpoint` None means offline (the default)."""

    endpoint: str | None = None  # an OpenAI-compatible server, e.g. http://127.0.0.1:8080 (llama.cpp)
    model: str = "local"  # the `model` field sent to the endpoint (Ollama needs a real name, e.g. llama3.2)
    timeout_s: float = 8.0  # past this the endpoint is abandoned and the offline responder answers
    api_key_env: str = "AVATAR_CHAT_KEY"  # read at request time; never logged or stored in settings
    max_tokens: int = 80  # replies are a few sentences at most
    temperature: float = 0.7
    history_turns: int = 3  # earlier user/avatar exchanges sent to the endpoint for continuity
    seed: int = 0  # every offline choice comes from random.Random(seed)
    words_per_s: float = 3.0  # the bubble reveals words at about a calm speaking rate
    hold_s: float = 5.0  # the whole reply stays in the bubble this long after the last word
    mouth_syllables_per_s: float = 4.5  # mouth open-close cycles per second while words appear
    load_extra: float = 0.2  # added to the simulated load while the avatar answers (the echo weakens a little)
    log_text: bool = False  # put the typed and answered text in the events (off: lengths only)
    responder: ResponderSettings = field(default_factory=ResponderSettings)


class ReplySource(Enum):
    OFFLINE = "offline"
    ENDPOINT = "endpoint"


class Intent(Enum):
    GREETING = "greeting"
    QUESTION = "question"
    FEELING = "feeling"
    FAREWELL = "farewell"
    OTHER = "other"


class Tone(Enum):
    FORMAL = "formal"  # a stranger: full sentences, "Thank you for sharing that."
    CASUAL = "casual"  # a friend: "Thanks for telling me."


class FaceCue(Enum):
    """What the face says, in one word, for the responder."""

    ABSENT = "absent"
    SMILING = "smiling"
    TENSE = "tense"
    NEUTRAL = "neutral"


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
    ) -> FaceContext:
        """Means and slopes over the last `window_s` seconds of a series; None/NaN marks a frame with no face.

        The face counts as present when at least half the frames of the window have one.
        """
        if frowns is None:
            frowns = [0.0 if _finite(s) else None for s in smiles]
        if not (len(times) == len(smiles) == len(winces) == len(frowns)):
            raise ValueError("times, smiles, winces (and frowns) must have the same length")
        if not times:
            return cls.absent(familiarity)
        end = max(times)
        recent = [row for row in zip(times, smiles, winces, frowns, strict=True) if row[0] >= end - window_s]
        seen = [
            (t, float(s), float(w), float(f) if _finite(f) else 0.0) for t, s, w, f in recent if _finite(s) and _finite(w)
        ]
        if not seen or len(seen) * 2 < len(recent):
            return cls.absent(familiarity)
        ts, ss, ws, fs = (list(column) for column in zip(*seen, strict=True))
        return cls(
            present=True,
            smile=sum(ss) / len(ss),
            wince=sum(ws) / len(ws),
            smile_trend_per_s=_slope(ts, ss),
            wince_trend_per_s=_slope(ts, ws),
            frown=sum(fs) / len(fs),
            familiarity=float(familiarity),
            window_s=max(ts) - min(ts),
        )

    @classmethod
    def from_expressions(cls, samples: Iterable[tuple[float, object]], familiarity: float, window_s: float = 3.0) -> FaceContext:
        """From (t_s, Expression) pairs, as the window keeps them."""
        times, smiles, winces, frowns = [], [], [], []
        for t_s, expression in samples:
            times.append(float(t_s))
            present = bool(getattr(expression, "present", False))
            smiles.append(expression.smile if present else None)
            winces.append(expression.wince if present else None)
            frowns.append(getattr(expression, "frown", 0.0) if present else None)
        return cls.from_series(times, smiles, winces, familiarity, window_s, frowns=frowns)

    def cue(self, settings: ResponderSettings = ResponderSettings()) -> FaceCue:
        if not self.present:
            return FaceCue.ABSENT
        # A broad smile discounts the wince channel already (expression.wince_score), so a tense
        # reading wins only when the smile is not clear.
        tense = self.wince >= settings.tense_level or self.frown >= settings.frown_level
        if tense and self.smile < settings.smile_level:
            return FaceCue.TENSE
        if self.smile >= settings.smile_level:
            return FaceCue.SMILING
        return FaceCue.NEUTRAL

    def tone(self, settings: ResponderSettings = ResponderSettings()) -> Tone:
        return Tone.CASUAL if self.familiarity >= settings.casual_from else Tone.FORMAL

    def describe(self, settings: ResponderSettings = ResponderSettings()) -> str:
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
            f"({self.wince_trend_per_s:+.2f}/s), frown {self.frown:.2f}, {span}, "
            f"familiarity {self.familiarity:.2f} ({familiarity_word(self.familiarity)}), looks {self.cue().value}"
        )


# --------------------------------------------------------------------------------------------------
# Reading the words
# --------------------------------------------------------------------------------------------------

POSITIVE = {
    "good", "great", "fine", "ok", "okay", "alright", "well", "happy", "glad", "nice", "love", "lovely",
    "wonderful", "excited", "better", "relaxed", "calm", "fantastic", "amazing", "awesome", "cheerful",
    "content", "grateful", "thankful", "peaceful", "joy", "fun", "enjoy", "enjoying", "super", "cool",
}  # fmt: skip
NEGATIVE = {
    "sad", "tired", "bad", "awful", "terrible", "stressed", "anxious", "worried", "upset", "angry", "lonely",
    "hurt", "exhausted", "down", "nervous", "scared", "afraid", "frustrated", "annoyed", "bored", "unhappy",
    "miserable", "overwhelmed", "sick", "rough", "hard", "difficult", "cry", "crying", "hate", "worse", "lost",
}  # fmt: skip
NEGATORS = {"not", "no", "never", "hardly", "barely", "isn't", "wasn't", "don't", "doesn't", "didn't", "can't", "cannot",
            "aren't", "won't", "nothing", "nobody", "neither", "nor", "ain't"}  # fmt: skip
INTENSIFIERS = {"really", "very", "so", "too", "quite", "pretty", "extremely", "totally", "a", "bit", "little", "all", "that"}

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_FAREWELL = re.compile(r"\b(bye|goodbye|good ?night|see (you|ya)|farewell|take care|gotta go|got to go|later)\b")
_GREETING = re.compile(r"^\W*(hi|hello|hey|hiya|howdy|greetings|good (morning|afternoon|evening)|yo)\b")
_QUESTION_START = re.compile(
    r"^\W*(what|who|why|how|when|where|which|do|does|did|are|is|can|could|would|will|should|may|have|has)\b"
)
_FEELING = re.compile(
    r"\b(i'?m|i am|im|i feel|i'm feeling|i am feeling|feeling|i felt|i've been|i have been|i was)\b"
)
_SELF_CLAUSE = re.compile(r"\b(?:i'?m|i am|im|i feel|i felt|i've been|i have been|i was)\s+(?:feeling\s+)?.+$")
_FINE_WORDS = re.compile(r"\b(fine|ok|okay|alright|all right|good|well|not bad|great|all good)\b")
_HOW_ARE_YOU = re.compile(r"\bhow (are|r) (you|u)\b|\bhow'?s it going\b|\bhow do you (do|feel)\b|\bare you (ok|okay|well|alright)\b")
_WHO_ARE_YOU = re.compile(r"\b(who|what) are you\b|\byour name\b")

_SWAPS = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "am": "are",
    "i'm": "you're", "im": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd", "was": "were",
    "you": "I", "your": "my", "yours": "mine", "yourself": "myself", "you're": "I'm", "you've": "I've",
}  # fmt: skip


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def sentiment(text: str) -> float:
    """-1 (negative) to +1 (positive) from a small lexicon; a negator up to three words before flips a word."""
    tokens = _tokens(text)
    score = 0.0
    hits = 0
    for i, token in enumerate(tokens):
        polarity = 1.0 if token in POSITIVE else -1.0 if token in NEGATIVE else 0.0
        if not polarity:
            continue
        window = tokens[max(0, i - 3) : i]
        if any(w in NEGATORS or w.endswith("n't") for w in window):
            # "not bad" is mildly good; "not happy" is plainly not.
            polarity = 0.5 if polarity < 0 else -1.0
        score += polarity
        hits += 1
    if not hits:
        return 0.0
    return max(-1.0, min(1.0, score / hits))


def reflect(clause: str) -> str:
    """Swap first and second person: "my job tires me" -> "your job tires you"."""
    words = clause.strip().split()
    out = []
    for word in words:
        core = word.strip(".,!?;:").lower().replace("\u2019", "'")
        trail = word[len(word.rstrip(".,!?;:")) :]
        swapped = _SWAPS.get(core)
        out.append((swapped if swapped is not None else word.rstrip(".,!?;:")) + trail)
    return " ".join(out).strip(" .,!?;:")


@dataclass(frozen=True)
class TextReading:
    """What the words say: intent, sentiment (-1..1), a claim to be fine, and the reflected feeling."""

    intent: Intent
    sentiment: float
    says_fine: bool
    feeling: str  # the reflected clause after "I'm"/"I feel" ("you're so tired"), or ""


def read_text(text: str) -> TextReading:
    lowered = " ".join(text.lower().replace("\u2019", "'").split())
    score = sentiment(lowered)
    feeling_match = _FEELING.search(lowered)
    # A short answer ("Not bad, actually.", "Tired.") is about the speaker even without an "I".
    about_self = bool(feeling_match) or len(_tokens(lowered)) <= 3
    says_fine = about_self and score > 0 and bool(_FINE_WORDS.search(lowered))
    is_question = lowered.rstrip().endswith("?") or bool(_QUESTION_START.search(lowered))
    if _FAREWELL.search(lowered):
        intent = Intent.FAREWELL
    elif _GREETING.search(lowered) and len(_tokens(lowered)) <= 6:
        intent = Intent.GREETING
    elif about_self and score != 0 and not (is_question and not feeling_match):
        intent = Intent.FEELING
    elif is_question:
        intent = Intent.QUESTION
    else:
        intent = Intent.OTHER
    feeling = ""
    clause = _SELF_CLAUSE.search(lowered)
    if clause:
        # Only the first part of the clause, and only if short: a long reflection sounds like a parrot.
        first = re.split(r"[.!?;,]| but | and | because ", clause.group(0))[0].strip()
        if first and len(first.split()) <= 8:
            feeling = reflect(first)
    return TextReading(intent=intent, sentiment=score, says_fine=says_fine, feeling=feeling)


# --------------------------------------------------------------------------------------------------
# The offline responder
# --------------------------------------------------------------------------------------------------

# Words a reply must never contain: the avatar reads a face, it does not diagnose anyone.
BANNED_WORDS = (
    "depress", "diagnos", "disorder", "illness", "disease", "symptom", "syndrome", "patholog", "medic",
    "therap", "psychiatr", "clinical", "bipolar", "ptsd", "adhd", "autis", "you are sick", "you're sick",
    "mentally ill", "suffer",
)  # fmt: skip


def is_safe_reply(text: str) -> bool:
    lowered = text.lower()
    return not any(word in lowered for word in BANNED_WORDS)


# (formal, casual) variants for each situation. {feeling} is the reflected clause ("you're tired").
_T = {
    "greet": (
        ["Hello. It's nice to meet you.", "Good to meet you. Welcome.", "Hello, and welcome."],
        ["Hey, good to see you!", "Hi there, nice to see you again!", "Hey you!"],
    ),
    "greet_smiling": (["You look cheerful today.", "What a lovely smile."], ["You look happy today!", "Love that smile."]),
    "greet_tense": (
        ["You look a little tense. How are you doing?", "How are you today? You seem a bit tense."],
        ["You look a bit tense. How's it going?", "Rough day? You look a little tense."],
    ),
    "greet_absent": (["I can't quite see you yet."], ["I can't see you yet. Come closer?"]),
    "bye": (
        ["Goodbye, and thank you for talking with me.", "Thank you for the conversation. Goodbye.", "Take care. Goodbye."],
        ["Bye for now. Take care!", "See you soon!", "Bye! That was nice."],
    ),
    "bye_smiling": (["It was a pleasure to see you smile."], ["Leaving with a smile. I like that."]),
    "bye_tense": (["I hope the rest of your day is gentle."], ["Go easy on yourself today."]),
    "fine_smiling": (
        ["Glad to hear it. You look well.", "Good to hear. You do look well.", "I'm glad. You look well today."],
        ["Glad to hear it — you look well!", "Good! You look great, too.", "Nice, and it shows on your face!"],
    ),
    "fine_tense": (
        [
            "You say you're fine, but you look a little tense. Is something bothering you?",
            "You say you're fine, but your face looks a little tense. Are you sure you're all right?",
            "You say you're fine, but you seem a bit tense. Would you like to talk about it?",
        ],
        [
            "You say you're fine, but you look a bit tense. Is something bothering you?",
            "Fine, huh? You look a little tense, though. What's on your mind?",
            "Hmm, you say you're fine, but you seem tense. Want to talk about it?",
        ],
    ),
    "happy_tense": (
        [
            "Glad to hear it. You look a little tense, though. Is everything all right?",
            "That is good to hear. Your face looks a little tense, though. How are you really?",
        ],
        ["Glad to hear it! You look a bit tense, though. All good?", "Nice! You look a little tense, though. Everything okay?"],
    ),
    "fine_neutral": (
        ["Good to hear. How has your day been?", "I'm glad to hear that. What brings you here today?"],
        ["Good to hear! What's new?", "Nice. How's your day been?"],
    ),
    "fine_absent": (["Good to hear. I can't see you right now, though."], ["Good to hear! I can't quite see you, though."]),
    "sad_tense": (
        [
            "Thank you for sharing that. I'm sorry {feeling}. It shows a little in your face. Would you like to say more?",
            "Thank you for sharing that. It sounds hard, and you look a little tense. I'm listening.",
        ],
        [
            "Oh, I'm sorry {feeling}. I can see it in your face. Want to talk?",
            "Thanks for telling me. You look a bit tense, too. I'm here.",
        ],
    ),
    "sad_smiling": (
        [
            "Thank you for sharing that. You are smiling, but it sounds hard. How are you really?",
            "Thank you for sharing that. Sometimes we smile anyway. Would you like to say more?",
        ],
        [
            "You're smiling, but that sounds hard. How are you really?",
            "Thanks for telling me. Smiling through it? I'm here.",
        ],
    ),
    "sad_neutral": (
        [
            "Thank you for sharing that. I'm sorry {feeling}. Would you like to say more?",
            "Thank you for sharing that. That sounds difficult. I'm listening.",
        ],
        [
            "Thanks for telling me. I'm sorry {feeling}. Want to talk about it?",
            "That sounds hard. I'm here if you want to talk.",
        ],
    ),
    "happy_any": (
        ["Thank you for sharing that. That sounds lovely.", "That is good to hear. Thank you for telling me."],
        ["That's great to hear!", "Love that! Tell me more?"],
    ),
    "how_are_you": (
        ["I'm well, thank you for asking. How are you?", "Very well, thank you. And how are you today?"],
        ["I'm good, thanks! How about you?", "Doing well! And you?"],
    ),
    "who_are_you": (
        ["I'm a mirror avatar. I listen, and I answer your face as well as your words."],
        ["I'm your mirror avatar! I read your face as well as your words."],
    ),
    "question": (
        ["That is a good question. I'm only a simple mirror, so I mostly listen. What do you think?",
         "I'm not sure I can answer that well. What do you think?"],
        ["Good question! I'm just a mirror, so I mostly listen. What do you think?", "Hmm, no idea! What do you think?"],
    ),
    "other_positive": (
        ["That sounds nice. Please go on.", "How nice. Tell me more, if you like."],
        ["Oh, nice! Go on!", "Sounds good! Tell me more?"],
    ),
    "other_negative": (
        ["That sounds hard. Please go on, if you like.", "I see. That does not sound easy."],
        ["Oh no, that sounds hard. Go on?", "Ugh, that sounds rough."],
    ),
    "other": (
        ["I see. Please go on.", "Thank you. Tell me more, if you like.", "I understand. Please continue."],
        ["I see. Go on!", "Mm-hm. Tell me more?", "Got it. And then?"],
    ),
    "note_smile_growing": (["I can see your smile growing."], ["I see that smile growing!"]),
    "note_smile_fading": (["Your smile seems to be fading a little."], ["Your smile's fading a bit."]),
    "note_tense": (["You look a little tense. How are you feeling?"], ["You look a bit tense. You okay?"]),
    "note_smiling": (["You look cheerful."], ["You look happy!"]),
}


@dataclass(frozen=True)
class Reply:
    """An offline reply with the reasons behind it (tests and logs use the reasons)."""

    text: str
    intent: Intent
    tone: Tone
    cue: FaceCue
    mismatch: bool  # the words and the face disagree ("I'm fine" with a tense face)
    trend_noted: bool


def _pick(rng: random.Random, key: str, tone: Tone) -> str:
    formal, casual = _T[key]
    return rng.choice(casual if tone is Tone.CASUAL else formal)


def _words(text: str) -> int:
    return len(text.split())


def compose(text: str, context: FaceContext, rng: random.Random, settings: ResponderSettings = ResponderSettings()) -> Reply:
    """The offline reply to `text` given the face, with why it was chosen. Pure apart from `rng`."""
    reading = read_text(text)
    tone = context.tone(settings)
    cue = context.cue(settings)
    mismatch = False
    note_key: str | None = None
    smile_growing = context.present and context.smile_trend_per_s >= settings.trend_per_s
    smile_fading = context.present and context.smile_trend_per_s <= -settings.trend_per_s and context.smile > 0.15
    lowered = text.lower()

    if reading.intent is Intent.GREETING:
        main = _pick(rng, "greet", tone)
        note_key = {FaceCue.SMILING: "greet_smiling", FaceCue.TENSE: "greet_tense", FaceCue.ABSENT: "greet_absent"}.get(cue)
        if _HOW_ARE_YOU.search(lowered) and cue is not FaceCue.TENSE:
            note_key = "how_are_you"
    elif reading.intent is Intent.FAREWELL:
        main = _pick(rng, "bye", tone)
        note_key = {FaceCue.SMILING: "bye_smiling", FaceCue.TENSE: "bye_tense"}.get(cue)
    elif reading.intent is Intent.FEELING and (reading.says_fine or reading.sentiment > 0):
        if cue is FaceCue.TENSE:
            main, mismatch = _pick(rng, "fine_tense" if reading.says_fine else "happy_tense", tone), True
        elif cue is FaceCue.SMILING:
            main = _pick(rng, "fine_smiling" if reading.says_fine else "happy_any", tone)
        elif cue is FaceCue.ABSENT:
            main = _pick(rng, "fine_absent" if reading.says_fine else "happy_any", tone)
        else:
            main = _pick(rng, "fine_neutral" if reading.says_fine else "happy_any", tone)
        if smile_growing and cue is not FaceCue.TENSE:
            note_key = "note_smile_growing"
    elif reading.intent is Intent.FEELING:
        key = {FaceCue.TENSE: "sad_tense", FaceCue.SMILING: "sad_smiling"}.get(cue, "sad_neutral")
        mismatch = cue is FaceCue.SMILING
        main = _pick(rng, key, tone)
    elif reading.intent is Intent.QUESTION:
        if _HOW_ARE_YOU.search(lowered):
            main = _pick(rng, "how_are_you", tone)
        elif _WHO_ARE_YOU.search(lowered):
            main = _pick(rng, "who_are_you", tone)
        else:
            main = _pick(rng, "question", tone)
        if cue is FaceCue.TENSE:
            note_key = "note_tense"
    else:
        key = "other_positive" if reading.sentiment > 0 else "other_negative" if reading.sentiment < 0 else "other"
        main = _pick(rng, key, tone)
        if smile_growing:
            note_key = "note_smile_growing"
        elif smile_fading:
            note_key = "note_smile_fading"
        elif cue is FaceCue.TENSE:
            note_key = "note_tense"
        elif cue is FaceCue.SMILING:
            note_key = "note_smiling"

    feeling = reading.feeling
    if "{feeling}" in main:
        # "I'm sorry you're so tired", else a plain "I'm sorry to hear that".
        if feeling and is_safe_reply(feeling) and feeling.startswith(("you're", "you are", "you feel", "you've", "you were")):
            main = main.replace("{feeling}", feeling)
        else:
            main = main.replace("I'm sorry {feeling}", "I'm sorry to hear that").replace("{feeling}", "that")
    note = _pick(rng, note_key, tone) if note_key else ""
    reply = f"{main} {note}".strip() if note and _words(main) + _words(note) <= settings.max_words else main
    if _words(reply) > settings.max_words:
        sentences = re.split(r"(?<=[.!?])\s+", reply)
        while len(sentences) > 1 and _words(" ".join(sentences)) > settings.max_words:
            sentences.pop()
        reply = " ".join(sentences)
    if not is_safe_reply(reply):  # cannot happen with the templates above; a last guard for edits
        reply = _pick(rng, "other", tone)
    return Reply(reply, reading.intent, tone, cue, mismatch, note_key == "note_smile_growing")


def respond(text: str, context: FaceContext, rng: random.Random, settings: ResponderSettings = ResponderSettings()) -> str:
    """The offline responder: no network, no model. Same text, context and rng state -> same reply."""
    return compose(text, context, rng, settings).text


# --------------------------------------------------------------------------------------------------
# The endpoint client (OpenAI-compatible /v1/chat/completions)
# --------------------------------------------------------------------------------------------------


class EndpointFailure(Exception):
    """The endpoint gave no usable reply; `reason` is short and safe to log (no key, no text)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_REFUSAL = re.compile(
    r"^\W*(i can(no|')t|i cannot|i am unable|i'm unable|i am not able|i'm not able|i won'?t|sorry, (but )?i can|"
    r"i'm sorry, (but )?i can|as an ai)\b",
    re.IGNORECASE,
)


def endpoint_url(url: str) -> str:
    """`http://host:port` -> `http://host:port/v1/chat/completions`; a full .../chat/completions URL stays as given."""
    url = url.strip()
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise ValueError(f"--chat-endpoint {url!r} must start with http:// or https://")
    base = url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if base.endswith("/v1"):
        return base + "/chat/completions"
    return base + "/v1/chat/completions"


def system_prompt(context: FaceContext, settings: ResponderSettings = ResponderSettings()) -> str:
    return (
        "You are a friendly mirror avatar in a speech bubble. Answer in one or two short, kind sentences "
        f"(at most {settings.max_words} words). Take the person's face into account as well as their words: "
        "if the words and the face disagree, gently say so and ask. Never diagnose, never make medical or "
        "psychological claims, and never mention numbers or sensors. "
        f"What you see now: {context.describe(settings)}"
    )


def _is_loopback(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def ask_endpoint(
    text: str,
    context: FaceContext,
    settings: ChatSettings,
    history: Sequence[tuple[str, str]] = (),
    api_key: str | None = None,
) -> str:
    """One chat completion; raises EndpointFailure with a short reason for anything but a usable reply."""
    if not settings.endpoint:
        raise EndpointFailure("no endpoint")
    try:
        url = endpoint_url(settings.endpoint)
    except ValueError as exc:
        raise EndpointFailure("bad endpoint url") from exc
    messages = [{"role": "system", "content": system_prompt(context, settings.responder)}]
    for user, avatar in history[-settings.history_turns :] if settings.history_turns else ():
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": avatar}]
    messages.append({"role": "user", "content": text})
    body = json.dumps(
        {
            "model": settings.model,
            "messages": messages,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "stream": False,
        }
    ).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    # A local server must not go through a proxy set for the internet (it would fail or leak the text).
    handlers = [urllib.request.ProxyHandler({})] if _is_loopback(url) else []
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=settings.timeout_s) as response:
            raw = response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        raise EndpointFailure(f"http {exc.code}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError) or "timed out" in str(exc.reason):
            raise EndpointFailure("timeout") from None
        raise EndpointFailure(f"unreachable: {type(exc.reason).__name__}") from None
    except TimeoutError:
        raise EndpointFailure("timeout") from None
    except OSError as exc:
        raise EndpointFailure(f"connection error: {type(exc).__name__}") from None
    try:
        payload = json.loads(raw.decode("utf-8"))
        choice = payload["choices"][0]
        content = choice.get("message", {}).get("content")
        if content is None:
            content = choice.get("text")
        finish = choice.get("finish_reason")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
        raise EndpointFailure("bad json") from None
    if finish == "content_filter":
        raise EndpointFailure("refusal (content_filter)")
    if not isinstance(content, str) or not content.strip():
        raise EndpointFailure("empty reply")
    content = " ".join(content.split())
    if _REFUSAL.match(content):
        raise EndpointFailure("refusal")
    if not is_safe_reply(content):
        raise EndpointFailure("unsafe reply")
    return content


@dataclass(frozen=True)
class ChatReply:
    """A reply as the window and the logs see it."""

    text: str
    source: ReplySource
    fallback_reason: str | None = None  # why the endpoint was not used, when it was asked
    latency_ms: float = 0.0


class Responder:
    """Answers one message at a time: the endpoint if set, else (or on failure) the offline responder.

    Owns the seeded rng and a short history, so two sessions in one process share nothing.
    """

    def __init__(self, settings: ChatSettings = ChatSettings(), environ: dict | None = None):
        import os

        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.history: list[tuple[str, str]] = []
        self._environ = os.environ if environ is None else environ

    def reply(self, text: str, context: FaceContext) -> ChatReply:
        start = time.perf_counter()
        reason = None
        source = ReplySource.OFFLINE
        answer = None
        if self.settings.endpoint:
            try:
                answer = ask_endpoint(
                    text, context, self.settings, self.history, api_key=self._environ.get(self.settings.api_key_env) or None
                )
                source = ReplySource.ENDPOINT
            except EndpointFailure as exc:
                reason = exc.reason
        if answer is None:
            answer = respond(text, context, self.rng, self.settings.responder)
        self.history.append((text, answer))
        del self.history[: -max(1, self.settings.history_turns)]
        return ChatReply(answer, source, reason, (time.perf_counter() - start) * 1000.0)


# --------------------------------------------------------------------------------------------------
# The window's side: a controller off the render thread, and a text line
# --------------------------------------------------------------------------------------------------


class ChatController:
    """Runs replies in a worker thread and paces them into the bubble; never blocks the caller.

    Times (`now`) are in seconds on any monotonic clock the window uses (default time.monotonic).
    Events are dicts with a "type" key, like EmpathyModel.pop_events(); take them with pop_events().
    """

    def __init__(
        self,
        settings: ChatSettings = ChatSettings(),
        responder: Responder | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self.responder = responder or Responder(settings)
        self.clock = clock
        self.events: list[dict] = []
        self._results: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        self._pending = False
        self._spoken: str = ""
        self._spoken_words: list[str] = []
        self._spoken_at: float | None = None
        self.last_reply: ChatReply | None = None

    # --- requests ---------------------------------------------------------------------------------

    def submit(self, text: str, context: FaceContext) -> bool:
        """Start answering `text`; returns at once. False (nothing sent) for blank text or while waiting."""
        text = " ".join(text.split())
        if not text or self._pending:
            return False
        event = {"type": "chat_user", "length": len(text)}
        if self.settings.log_text:
            event["text"] = text
        self.events.append(event)
        self._pending = True
        self._worker = threading.Thread(target=self._work, args=(text, context), name="chat-reply", daemon=True)
        self._worker.start()
        return True

    def _work(self, text: str, context: FaceContext) -> None:
        try:
            reply = self.responder.reply(text, context)
        except Exception as exc:  # a bug must not leave the avatar waiting forever
            reply = ChatReply(respond(text, context, random.Random(self.settings.seed)), ReplySource.OFFLINE, f"error ({type(exc).__name__})")
        self._results.put(reply)

    def poll(self, now: float | None = None) -> ChatReply | None:
        """The new reply if one has arrived (it starts speaking at `now`), else None."""
        try:
            reply = self._results.get_nowait()
        except queue.Empty:
            return None
        now = self.clock() if now is None else now
        self._pending = False
        if reply.fallback_reason is not None:
            self.events.append({"type": "chat_fallback", "reason": reply.fallback_reason})
        event = {"type": "chat_reply", "length": len(reply.text), "source": reply.source.value, "latency_ms": round(reply.latency_ms, 1)}
        if self.settings.log_text:
            event["text"] = reply.text
        self.events.append(event)
        self.last_reply = reply
        self._spoken = reply.text
        self._spoken_words = reply.text.split()
        self._spoken_at = now
        return reply

    def wait(self, timeout_s: float = 10.0) -> ChatReply | None:
        """Block until the pending reply arrives (for the terminal and tests, never the render loop)."""
        if self._worker is not None:
            self._worker.join(timeout_s)
        return self.poll()

    def pop_events(self) -> list[dict]:
        events, self.events = self.events, []
        return events

    # --- state for drawing ------------------------------------------------------------------------

    @property
    def waiting(self) -> bool:
        """A request is in flight."""
        return self._pending

    def speaking(self, now: float | None = None) -> bool:
        """Words are still being revealed."""
        if self._spoken_at is None:
            return False
        now = self.clock() if now is None else now
        return now - self._spoken_at < len(self._spoken_words) / self.settings.words_per_s

    @property
    def busy(self) -> bool:
        """Thinking or speaking: the chat adds to the avatar's load."""
        return self._pending or self.speaking()

    def load_extra(self, now: float | None = None) -> float:
        return self.settings.load_extra if (self._pending or self.speaking(now)) else 0.0

    def speaking_text(self, now: float | None = None) -> str:
        """The words revealed so far (one at once, then `words_per_s`); "" once the bubble's hold is over."""
        if self._spoken_at is None:
            return ""
        now = self.clock() if now is None else now
        elapsed = now - self._spoken_at
        if elapsed < 0:
            return ""
        total = len(self._spoken_words)
        shown = min(total, 1 + int(elapsed * self.settings.words_per_s))
        if elapsed > total / self.settings.words_per_s + self.settings.hold_s:
            return ""
        return " ".join(self._spoken_words[:shown])

    def mouth_open(self, now: float | None = None) -> float:
        """0-1, moving open and shut while words are revealed; 0 otherwise."""
        if not self.speaking(now):
            return 0.0
        now = self.clock() if now is None else now
        phase = (now - self._spoken_at) * self.settings.mouth_syllables_per_s
        # Starts closed, peaks mid-syllable; a small floor keeps the lips parted while talking.
        return round(0.15 + 0.75 * (0.5 - 0.5 * math.cos(2.0 * math.pi * phase)), 4)

    def close(self, timeout_s: float = 1.0) -> None:
        if self._worker is not None:
            self._worker.join(timeout_s)


# pygame's key codes (pygame 2), so TextInput is testable without pygame or a display.
K_BACKSPACE = 8
K_TAB = 9
K_RETURN = 13
K_ESCAPE = 27
K_DELETE = 127
K_KP_ENTER = 1073741912
KEYDOWN = 768


class TextInput:
    """The text line at the bottom of the window: pure logic over (key, unicode) of KEYDOWN events.

    While inactive, a printable character opens it (when `opens_on_typing`), and so does Enter.
    Enter sends (feed returns the text), Esc cancels, Backspace deletes.
    """

    def __init__(self, max_chars: int = 200, opens_on_typing: bool = True):
        self.max_chars = max_chars
        self.opens_on_typing = opens_on_typing
        self.active = False
        self.text = ""

    @staticmethod
    def _printable(unicode: str) -> bool:
        return bool(unicode) and len(unicode) == 1 and unicode.isprintable()

    def wants(self, key: int, unicode: str = "") -> bool:
        """Whether this key belongs to the text line (so the window should not treat it as a shortcut)."""
        if self.active:
            return True
        if key in (K_RETURN, K_KP_ENTER):
            return True
        return self.opens_on_typing and self._printable(unicode) and unicode != " "

    def feed(self, event) -> str | None:
        """Feed a pygame event; returns the text when Enter sends it. Other event types are ignored."""
        if getattr(event, "type", KEYDOWN) != KEYDOWN:
            return None
        return self.feed_key(getattr(event, "key", 0), getattr(event, "unicode", "") or "")

    def feed_key(self, key: int, unicode: str = "") -> str | None:
        if not self.active:
            if key in (K_RETURN, K_KP_ENTER):
                self.open()
            elif self.opens_on_typing and self._printable(unicode) and unicode != " ":
                self.open()
                self.text = unicode
            return None
        if key in (K_RETURN, K_KP_ENTER):
            sent = " ".join(self.text.split())
            self.cancel()
            return sent or None
        if key == K_ESCAPE:
            self.cancel()
        elif key == K_BACKSPACE:
            self.text = self.text[:-1]
        elif key in (K_TAB, K_DELETE):
            pass
        elif self._printable(unicode) and len(self.text) < self.max_chars:
            self.text += unicode
        return None

    def open(self) -> None:
        self.active = True
        self.text = ""

    def cancel(self) -> None:
        self.active = False
        self.text = ""


# --------------------------------------------------------------------------------------------------
# Speech
# --------------------------------------------------------------------------------------------------


class Speaker:
    """Reads replies aloud with pyttsx3 in a thread of its own, if a speech engine is there.

    If not, `available` is False, `notice` says why in one line, and `say` does nothing.
    """

    NOTICE = "notice: --speak: no offline speech engine (pyttsx3) is available; replies are shown only"

    def __init__(self, on_notice: Callable[[str], None] | None = None):
        self.available = False
        self.notice: str | None = None
        self._engine = None
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        try:
            import pyttsx3  # optional, not a dependency

            self._engine = pyttsx3.init()
            self.available = True
        except Exception as exc:  # ImportError, or a driver that fails to initialise (no audio device)
            detail = "" if isinstance(exc, ImportError) else f" ({type(exc).__name__})"
            self.notice = self.NOTICE + detail
            (on_notice or (lambda line: print(line, file=sys.stderr)))(self.notice)
            return
        self._thread = threading.Thread(target=self._run, name="chat-speak", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            try:
                self._engine.say(text)
                self._engine.runAndWait()
            except Exception:  # a speech failure must never stop the avatar
                pass
            finally:
                self._queue.task_done()

    def say(self, text: str) -> None:
        if self.available and text:
            self._queue.put(text)

    def wait(self) -> None:
        if self.available:
            self._queue.join()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(2.0)


# --------------------------------------------------------------------------------------------------
# Reading a face from a source, and the command line
# --------------------------------------------------------------------------------------------------


def read_face_context(spec: str, familiarity: float, window_s: float = 3.0, model: str | None = None) -> FaceContext:
    """The face context of a source: an image (one IMAGE-mode reading) or a video's last `window_s` seconds."""
    import cv2

    from avatar.expression import ExpressionReader, channels_from_reading
    from avatar.face import FaceReader, FaceReaderOptions, RunningMode, resolve_model
    from avatar.reading import find_faces, read_still, still_reader
    from avatar.sources import open_source

    model_file = resolve_model(model)
    with open_source(spec, duration_s=1.0 / 30.0) as source:
        kind = source.kind
        if kind == "image":
            # A still has no history: IMAGE mode, searched the way `avatar read` searches it.
            rgb = read_still(Path(spec))
            with still_reader(model_file) as reader:
                expression = channels_from_reading(find_faces(reader, rgb))
            return FaceContext.from_expressions([(0.0, expression)], familiarity, window_s)
        if kind == "camera":
            frames = []
            for frame in source:
                frames.append(frame)
                if frame.t_s >= window_s:
                    break
            return _context_of_frames(frames, familiarity, window_s, model_file)
        # A file: one pass to find its end on its own clock, a second to read only the last seconds.
        end_s = 0.0
        for frame in source:
            end_s = frame.t_s
    if kind != "video":
        raise SourceError(f"cannot read a face from {spec}")
    with open_source(spec) as source, FaceReader(FaceReaderOptions(running_mode=RunningMode.VIDEO), model=model_file) as reader:
        expressions = ExpressionReader()
        samples = []
        for frame in source:
            if frame.t_s < end_s - window_s - 1e-9:
                continue
            reading = reader.read(cv2.cvtColor(frame.bgr, cv2.COLOR_BGR2RGB), frame.t_s)
            samples.append((frame.t_s, expressions.read(reading, frame.t_s)))
    return FaceContext.from_expressions(samples, familiarity, window_s)


def _context_of_frames(frames, familiarity, window_s, model_file) -> FaceContext:
    import cv2

    from avatar.expression import ExpressionReader
    from avatar.face import FaceReader, FaceReaderOptions, RunningMode

    with FaceReader(FaceReaderOptions(running_mode=RunningMode.VIDEO), model=model_file) as reader:
        expressions = ExpressionReader()
        samples = [
            (f.t_s, expressions.read(reader.read(cv2.cvtColor(f.bgr, cv2.COLOR_BGR2RGB), f.t_s), f.t_s)) for f in frames
        ]
    return FaceContext.from_expressions(samples, familiarity, window_s)


def _endpoint_flag(text: str) -> str:
    try:
        endpoint_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_chat_arguments(parser: argparse.ArgumentParser, include_chat_flag: bool = True) -> None:
    """The chat flags, for `chat` and for the run parser (the window)."""
    from avatar.cli import _positive

    group = parser.add_argument_group("chat")
    if include_chat_flag:
        group.add_argument("--chat", action="store_true", help="let visitors type to the avatar (needed in exhibit mode)")
    group.add_argument("--chat-endpoint", type=_endpoint_flag, help="an OpenAI-compatible server, e.g. http://127.0.0.1:8080 (default: offline)")
    group.add_argument("--chat-model", default="local", help="the model name the endpoint expects (default: local)")
    group.add_argument("--chat-timeout", type=_positive("--chat-timeout"), default=8.0, help="seconds before the offline answer takes over (default 8)")
    group.add_argument("--speak", action="store_true", help="read replies aloud with pyttsx3, if installed")


def chat_settings_from_args(args: argparse.Namespace, log_text: bool = False) -> ChatSettings:
    return ChatSettings(
        endpoint=args.chat_endpoint,
        model=args.chat_model,
        timeout_s=args.chat_timeout,
        seed=getattr(args, "seed", 0) or 0,
        log_text=log_text,
    )


def build_chat_parser() -> argparse.ArgumentParser:
    from avatar.cli import _familiarity, _Parser, _positive, _seed

    parser = _Parser(prog="python -m avatar chat", description="Talk to the avatar: it reads your face as well as your words.")
    parser.add_argument("--source", required=True, help="an image or a video (a video uses its last seconds), or camera")
    parser.add_argument("--say", help="one message; without it, an interactive prompt (Ctrl-D ends)")
    parser.add_argument("--familiarity", type=_familiarity, help="0-1, or stranger/acquaintance/friend (default 0.2)")
    parser.add_argument("--window", type=_positive("--window"), default=3.0, help="seconds of video the face is read over (default 3)")
    parser.add_argument("--seed", type=_seed, default=0, help="makes the offline replies reproducible (default 0)")
    parser.add_argument("--model", help="face_landmarker.task to use")
    add_chat_arguments(parser, include_chat_flag=False)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def command_chat(argv: list[str]) -> int:
    """`python -m avatar chat --source PATH [--say TEXT]`: one context line, then the reply on the last line."""
    from avatar.empathy import EmpathySettings

    args = build_chat_parser().parse_args(argv)
    familiarity = args.familiarity if args.familiarity is not None else EmpathySettings().familiarity_start
    context = read_face_context(args.source, familiarity, window_s=args.window, model=args.model)
    print(f"{context.summary()} [{Path(args.source).name if args.source not in ('camera', 'demo') else args.source}]", flush=True)
    responder = Responder(chat_settings_from_args(args))
    speaker = Speaker() if args.speak else None

    def answer(text: str) -> str:
        reply = responder.reply(text, context)
        if reply.fallback_reason:
            print(f"notice: chat endpoint not used ({reply.fallback_reason}); answered offline", file=sys.stderr, flush=True)
        if speaker is not None:
            speaker.say(reply.text)
        return reply.text

    try:
        if args.say is not None:
            print(answer(args.say), flush=True)
            return 0
        while True:
            try:
                text = input("you> ")
            except EOFError:
                print()
                return 0
            if text.strip():
                print(f"avatar> {answer(text)}", flush=True)
    finally:
        if speaker is not None:
            speaker.wait()
            speaker.close()
