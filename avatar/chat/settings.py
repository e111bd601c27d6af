"""Chat settings and the small vocabularies (reply source, intent, tone, face cue) of the chat.

The bottom of avatar.chat: every other chat module reads these; they import nothing of the chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

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
    # Sadness (Expression.sad) this high reads as upset, whatever the smile says; real smiling and
    # neutral faces read 0-0.06, grief brows alone about 0.5, a cry face more.
    upset_level: float = 0.3
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
    timeout_s: float = 8.0  # the whole request (connect, send, read) past this: the offline responder answers
    max_reply_bytes: int = 64 * 1024  # a few sentences are < 2 KB; a larger reply is refused unread
    api_key_env: str = "AVATAR_CHAT_KEY"  # read at request time; never logged or stored in settings
    max_tokens: int = 80  # replies are a few sentences at most
    temperature: float = 0.7
    history_turns: int = 3  # earlier user/avatar exchanges sent to the endpoint for continuity
    seed: int = 0  # every offline choice comes from random.Random(seed)
    words_per_s: float = 3.0  # the bubble reveals words at about a calm speaking rate
    hold_s: float = 5.0  # the whole reply stays in the bubble this long after the last word
    mouth_syllables_per_s: float = 4.5  # mouth open-close cycles per second while words appear
    load_extra: float = 0.2  # added to the simulated load while the avatar answers (the echo weakens a little)
    log_text: bool = False  # --log-chat-text: the typed and answered words in the events (off: lengths only)
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
    UPSET = "upset"  # sad or crying: it wins over a smile (a cry face can read as one)
    NEUTRAL = "neutral"
