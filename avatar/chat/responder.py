"""The offline responder: reading the words (intent, sentiment, reflection), then a safe, kind reply.

Sits on top of avatar.chat.context; no network and no model. The endpoint client falls back on it."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

from avatar.chat.context import FaceContext
from avatar.chat.settings import FaceCue, Intent, ResponderSettings, Tone

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


# Terminal control sequences, 7-bit and 8-bit (C1) forms: a CSI (ESC [ ... final byte, which moves the
# cursor or clears the screen), a string command (OSC, DCS, SOS, PM, APC: up to BEL or ST; an OSC can
# set the window title or write the clipboard), and the other two- or three-byte escapes (ESC c resets).
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# Bidirectional embeddings, overrides and isolates reorder what is shown ("Trojan Source").
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BREAKS = frozenset("\n\r\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def plain_text(text: str, keep_newlines: bool = False) -> str:
    """Text that is safe to print on a terminal or draw in the window: real Unicode (accents, emoji) only.

    Removes terminal escape sequences, control characters (NUL, BEL, DEL, C1), bidi overrides and unpaired
    surrogates. Line breaks and tabs become spaces, or with `keep_newlines` stay as "\\n" and "\\t".
    """
    if keep_newlines:
        text = text.replace("\r\n", "\n")
    out = []
    for char in _ESCAPES.sub("", text):
        if keep_newlines and char in "\n\t":
            out.append(char)
        elif char in _BREAKS:
            out.append(" ")
        elif char in _BIDI or unicodedata.category(char) in ("Cc", "Cs"):
            continue
        else:
            out.append(char)
    return "".join(out)


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
    "greet_upset": (
        ["You look upset. Take your time; I'm here.", "You seem upset. Would you like to talk?"],
        ["Hey, you look upset. I'm here.", "Oh, you look upset. Want to talk?"],
    ),
    "bye": (
        ["Goodbye, and thank you for talking with me.", "Thank you for the conversation. Goodbye.", "Take care. Goodbye."],
        ["Bye for now. Take care!", "See you soon!", "Bye! That was nice."],
    ),
    "bye_smiling": (["It was a pleasure to see you smile."], ["Leaving with a smile. I like that."]),
    "bye_tense": (["I hope the rest of your day is gentle."], ["Go easy on yourself today."]),
    "bye_upset": (["Please be gentle with yourself today."], ["Take care of yourself, okay?"]),
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
    "fine_upset": (
        [
            "You say you're fine, but you look upset. Would you like to talk about it?",
            "You say you're fine, but you seem upset. Take your time. I'm listening.",
        ],
        ["You say you're fine, but you look upset. Want to talk?", "Fine? You look upset, though. I'm here."],
    ),
    "happy_upset": (
        ["I'm glad to hear something good. You look a little upset, though. How are you really?"],
        ["Good to hear. You look upset, though. How are you really?"],
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
    "sad_upset": (
        [
            "I'm sorry {feeling}. I can see it in your face. Take your time; I'm listening.",
            "That sounds hard, and you look upset. I'm here with you.",
        ],
        ["Oh, I'm sorry {feeling}. I can see it. I'm here.", "That sounds hard. You look upset. I'm here, take your time."],
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
    "note_upset": (["You look upset. I'm here if you want to talk."], ["You look upset. I'm here."]),
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


def compose(text: str, context: FaceContext, rng: random.Random, settings: ResponderSettings = ResponderSettings()) -> Reply:  # noqa: B008  (a frozen dataclass)
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
        note_key = {FaceCue.SMILING: "greet_smiling", FaceCue.TENSE: "greet_tense", FaceCue.UPSET: "greet_upset",
                    FaceCue.ABSENT: "greet_absent"}.get(cue)
        if _HOW_ARE_YOU.search(lowered) and cue not in (FaceCue.TENSE, FaceCue.UPSET):
            note_key = "how_are_you"
    elif reading.intent is Intent.FAREWELL:
        main = _pick(rng, "bye", tone)
        note_key = {FaceCue.SMILING: "bye_smiling", FaceCue.TENSE: "bye_tense", FaceCue.UPSET: "bye_upset"}.get(cue)
    elif reading.intent is Intent.FEELING and (reading.says_fine or reading.sentiment > 0):
        if cue is FaceCue.UPSET:
            main, mismatch = _pick(rng, "fine_upset" if reading.says_fine else "happy_upset", tone), True
        elif cue is FaceCue.TENSE:
            main, mismatch = _pick(rng, "fine_tense" if reading.says_fine else "happy_tense", tone), True
        elif cue is FaceCue.SMILING:
            main = _pick(rng, "fine_smiling" if reading.says_fine else "happy_any", tone)
        elif cue is FaceCue.ABSENT:
            main = _pick(rng, "fine_absent" if reading.says_fine else "happy_any", tone)
        else:
            main = _pick(rng, "fine_neutral" if reading.says_fine else "happy_any", tone)
        if smile_growing and cue not in (FaceCue.TENSE, FaceCue.UPSET):
            note_key = "note_smile_growing"
    elif reading.intent is Intent.FEELING:
        key = {FaceCue.TENSE: "sad_tense", FaceCue.UPSET: "sad_upset", FaceCue.SMILING: "sad_smiling"}.get(cue, "sad_neutral")
        mismatch = cue is FaceCue.SMILING
        main = _pick(rng, key, tone)
    elif reading.intent is Intent.QUESTION:
        if _HOW_ARE_YOU.search(lowered):
            main = _pick(rng, "how_are_you", tone)
        elif _WHO_ARE_YOU.search(lowered):
            main = _pick(rng, "who_are_you", tone)
        else:
            main = _pick(rng, "question", tone)
        if cue in (FaceCue.TENSE, FaceCue.UPSET):
            note_key = f"note_{cue.value}"
    else:
        key = "other_positive" if reading.sentiment > 0 else "other_negative" if reading.sentiment < 0 else "other"
        main = _pick(rng, key, tone)
        if cue is FaceCue.UPSET:
            note_key = "note_upset"
        elif smile_growing:
            note_key = "note_smile_growing"
        elif smile_fading:
            note_key = "note_smile_fading"
        elif cue in (FaceCue.TENSE, FaceCue.UPSET):
            note_key = f"note_{cue.value}"
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


def respond(text: str, context: FaceContext, rng: random.Random, settings: ResponderSettings = ResponderSettings()) -> str:  # noqa: B008  (a frozen dataclass)
    """The offline responder: no network, no model. Same text, context and rng state -> same reply."""
    return compose(text, context, rng, settings).text
