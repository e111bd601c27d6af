"""Typing to the avatar in the window: the text line, the reply's bubble and mouth, the chat's extra load.

Plugs into a windowed run beside the mode (runners.py): it watches the answered frames for the face
context, takes the keys that belong to the text line, and is drawn over the avatar or the mode's view
(presenter.py). A sent line is also handed on (take_sent), so a mode's typed command still works.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from avatar.chat.context import FaceContext
from avatar.chat.controller import ChatController, Speaker, TextInput
from avatar.chat.settings import ChatSettings
from avatar.events import Event
from avatar.outcome import FrameOutcome
from avatar.strings import say

FACE_WINDOW_S = 3.0  # the face context of a line: the last seconds before it was sent


class ChatOverlay:
    def __init__(self, settings: ChatSettings, emit: Callable[[float, Event], None], opens_on_typing: bool = False,
                 speak: bool = False):
        self.controller = ChatController(settings)
        # Plain letters stay shortcuts (f, h, q) unless --chat asks that typing opens the line.
        self.text_input = TextInput(opens_on_typing=opens_on_typing)
        self.speaker = Speaker() if speak else None
        self._emit = emit
        self._faces: deque = deque(maxlen=240)  # (t_s, Expression): appended by the answering thread
        self._sent: str | None = None  # the line the last key sent, until take_sent()
        self._familiarity = 0.0
        self._t_s = 0.0

    @property
    def extra_load(self) -> float:
        """What answering a chat adds to the model's load now."""
        return float(self.controller.load_extra(time.monotonic()))

    def observe(self, outcome: FrameOutcome) -> None:
        self._faces.append((outcome.frame.t_s, outcome.expression))
        self._familiarity = outcome.echo.familiarity
        self._t_s = outcome.frame.t_s

    def on_key(self, event) -> bool:
        """A pygame KEYDOWN; True when it belonged to the text line. Its character comes as TEXTINPUT (on_text)."""
        if not self.text_input.wants(event.key, event.unicode or ""):
            return False
        sent = self.text_input.feed(event)
        self._sent = sent or None
        if sent:
            context = FaceContext.from_expressions(list(self._faces), self._familiarity, window_s=FACE_WINDOW_S)
            self.controller.submit(sent, context)
            self._flush_events()
        return True

    def on_text(self, event) -> bool:
        """A pygame TEXTINPUT (typed text: "très", "日本語") or TEXTEDITING (an input method's composition);
        True when it belonged to the text line."""
        if not self.text_input.wants_text(event.text):
            return False
        self.text_input.feed(event)
        return True

    @property
    def takes_text(self) -> bool:
        """Whether the window should have text input on (an input method, an on-screen keyboard) now."""
        return self.text_input.takes_text

    def take_sent(self) -> str | None:
        """The line the last key sent (once), so the mode sees typed lines too: the exhibit's quit word."""
        sent, self._sent = self._sent, None
        return sent

    def tick(self) -> tuple[str | None, float]:
        now = time.monotonic()
        reply = self.controller.poll(now)
        if reply is not None and self.speaker is not None:
            self.speaker.say(reply.text)
        self._flush_events()
        return self.controller.speaking_text(now) or None, float(self.controller.mouth_open(now))

    def caption(self) -> str | None:
        line = self.text_input
        if not line.active:
            return None
        return f"{say('chat.prompt')}{line.text}{line.composing}{say('chat.cursor')}"

    def caption_marked(self) -> tuple[int, int] | None:
        """The characters of caption() an input method is still composing (drawn underlined), or None."""
        line = self.text_input
        if not (line.active and line.composing):
            return None
        start = len(say("chat.prompt")) + len(line.text)
        return start, start + len(line.composing)

    def _flush_events(self) -> None:
        for event in self.controller.pop_events():
            self._emit(self._t_s, event)

    def close(self) -> None:
        try:
            self.controller.close()
        finally:
            if self.speaker is not None:
                self.speaker.close()
