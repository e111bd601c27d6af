"""The window's side of the chat: ChatController off the render thread, the TextInput line, the Speaker.

Sits on top of avatar.chat.endpoint (the Responder); avatar.chat.overlay drives it each drawn frame."""

from __future__ import annotations

import math
import queue
import random
import sys
import threading
import time
from collections.abc import Callable

from avatar.chat.context import FaceContext
from avatar.chat.endpoint import ChatReply, Responder
from avatar.chat.responder import respond
from avatar.chat.settings import ChatSettings, ReplySource
from avatar.events import ChatAnswered, ChatFallback, ChatSent, Event

# --------------------------------------------------------------------------------------------------
# The window's side: a controller off the render thread, and a text line
# --------------------------------------------------------------------------------------------------


class ChatController:
    """Runs replies in a worker thread and paces them into the bubble; never blocks the caller.

    Times (`now`) are in seconds on any monotonic clock the window uses (default time.monotonic).
    Events are avatar.events types, like EmpathyModel.pop_events(); take them with pop_events().
    """

    def __init__(
        self,
        settings: ChatSettings = ChatSettings(),  # noqa: B008  (a frozen dataclass)
        responder: Responder | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self.responder = responder or Responder(settings)
        self.clock = clock
        self.events: list[Event] = []
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
        self.events.append(ChatSent(len(text), text if self.settings.log_text else None))
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
            self.events.append(ChatFallback(reply.fallback_reason))
        self.events.append(ChatAnswered(len(reply.text), reply.source.value, round(reply.latency_ms, 1),
                                        reply.text if self.settings.log_text else None))
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

    def pop_events(self) -> list[Event]:
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


# pygame's key and event codes (pygame 2), so TextInput is testable without pygame or a display.
K_BACKSPACE = 8
K_TAB = 9
K_RETURN = 13
K_ESCAPE = 27
K_DELETE = 127
K_KP_ENTER = 1073741912
KEYDOWN = 768
TEXTEDITING = 770  # an input method's composition in progress (SDL_TEXTEDITING)
TEXTINPUT = 771  # text typed: a letter, an accented letter, a dead key's result, an input method's commit


class TextInput:
    """The text line of the window (drawn at the top): pure logic over pygame's key and text events.

    Characters come from TEXTINPUT events (`feed_text`), which carry what the keyboard layout, a dead key
    or an input method made ("è", "日本語"); KEYDOWN events (`feed_key`) bring Enter, Esc and Backspace.
    SDL sends both for a plain letter, so a KEYDOWN adds no character when it comes through `feed`.
    While inactive, typed text opens the line (when `opens_on_typing`), and so does Enter.
    Enter sends (feed returns the text), Esc cancels, Backspace deletes the last character.
    `composing` is an input method's text not yet committed (TEXTEDITING), shown marked after the text.
    """

    def __init__(self, max_chars: int = 200, opens_on_typing: bool = True):
        self.max_chars = max_chars
        self.opens_on_typing = opens_on_typing
        self.active = False
        self.text = ""
        self.composing = ""

    @staticmethod
    def _printable(unicode: str) -> bool:
        return bool(unicode) and len(unicode) == 1 and unicode.isprintable()

    @property
    def takes_text(self) -> bool:
        """Whether the window should deliver text events now (the line is open, or typing opens it)."""
        return self.active or self.opens_on_typing

    def wants(self, key: int, unicode: str = "") -> bool:
        """Whether this key belongs to the text line (so the window should not treat it as a shortcut)."""
        if self.active:
            return True
        if key in (K_RETURN, K_KP_ENTER):
            return True
        return self.opens_on_typing and self._printable(unicode) and unicode != " "

    def wants_text(self, text: str) -> bool:
        """Whether typed `text` (a TEXTINPUT or TEXTEDITING event's) belongs to the text line."""
        return self.active or (self.opens_on_typing and bool(text.strip()))

    def feed(self, event) -> str | None:
        """Feed a pygame event; returns the text when Enter sends it. Other event types are ignored."""
        if event.type == TEXTINPUT:
            self.feed_text(event.text)
        elif event.type == TEXTEDITING:
            self.compose(event.text)
        elif event.type == KEYDOWN:
            return self.feed_key(event.key)  # its character, if any, comes again as TEXTINPUT
        return None

    def feed_key(self, key: int, unicode: str = "") -> str | None:
        """A key; `unicode` is the character it typed, for callers with no text events (a terminal, tests)."""
        if self.composing and key in (K_RETURN, K_KP_ENTER, K_ESCAPE, K_BACKSPACE):
            return None  # the input method's own keys: they commit or edit the composition
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

    def feed_text(self, text: str) -> None:
        """Committed text (TEXTINPUT): added to the line, which it opens when `opens_on_typing`."""
        self.composing = ""
        if not self.active:
            if not (self.opens_on_typing and text.strip()):
                return
            self.open()
            text = text.lstrip()
        kept = "".join(c for c in text if c.isprintable())
        self.text = (self.text + kept)[: self.max_chars]

    def compose(self, text: str) -> None:
        """An input method's composition (TEXTEDITING): shown, not yet part of the text."""
        if text and not self.active and self.opens_on_typing:
            self.open()
        if self.active:
            self.composing = "".join(c for c in text if c.isprintable())[: max(0, self.max_chars - len(self.text))]

    def open(self) -> None:
        self.active = True
        self.text = ""
        self.composing = ""

    def cancel(self) -> None:
        self.active = False
        self.text = ""
        self.composing = ""


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
