"""The questionnaires of a study run: the one on the participant's screen, and where its answers go.

Owned by the study mode (avatar.modes.study), which starts each questionnaire of its schedule in the
answering thread; the drawing, keys, clicks and touches come from the main thread. Each answer is written
to ratings.csv (avatar.ratings) as it is given, then marked in events.jsonl and on LSL (item_answer).
Headless, nobody can answer: each questionnaire is skipped with a `questionnaire_skipped` event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from avatar.events import ItemAnswered, ItemOnset, QuestionnaireEnd, QuestionnaireSkipped, QuestionnaireStart
from avatar.mode import KeyPress, ModeContext, PointerPress
from avatar.modes.screens import ItemLayout, TextPainter, draw_item_screen, item_layout
from avatar.questionnaire import Answer, Asking, Questionnaire, Rating, item_order
from avatar.ratings import RatingsLog
from avatar.strings import say

VAS_STEP = 5  # an arrow key moves a VAS marker this far (of 100)


@dataclass(frozen=True)
class Occasion:
    """A questionnaire as asked this time: after which block (none for an `end` one), in which condition."""

    questionnaire: Questionnaire
    block: str
    condition: str
    position: int | None  # the block's 1-based place in the participant's order
    occasion: str  # seeds the item order: the block's position, or "end"


class Questioner:
    """Asks a study's questionnaires, one item at a time. Every method is safe from any thread."""

    def __init__(self, participant: str, seed: int, pause_s: float, clock: Callable[[], float] = time.perf_counter):
        self.participant = participant
        self.seed = seed
        self.pause_s = pause_s
        self.clock = clock
        self.answers = 0
        self._lock = threading.Lock()
        self._occasion: Occasion | None = None
        self._asking: Asking | None = None
        self._layout: ItemLayout | None = None  # as last drawn: a click is tested against what was shown
        self._ratings: RatingsLog | None = None
        self._painter = TextPainter()

    def open_log(self, folder: Path) -> None:
        """[main] ratings.csv in the session's folder, its header written at once."""
        self._ratings = RatingsLog(folder)

    def close(self) -> None:
        if self._ratings is not None:
            self._ratings.close()

    # -- [respond] the schedule ------------------------------------------------------------------------

    def begin(self, context: ModeContext, occasion: Occasion, t_s: float) -> None:
        """Put the questionnaire's first item up (in a window), or skip it (headless)."""
        q = occasion.questionnaire
        if not context.windowed:
            context.emit(t_s, QuestionnaireSkipped(q.id, occasion.block, len(q.items), "headless"))
            return
        items = item_order(q, self.participant, self.seed, occasion.occasion)
        with self._lock:
            self._occasion, self._asking, self._layout = occasion, Asking(items, self.pause_s), None
        context.emit(t_s, QuestionnaireStart(q.id, occasion.block, occasion.condition, len(items)))

    def finished(self) -> bool:
        """Every item answered and the last answer's pause over (or nothing being asked)."""
        with self._lock:
            if self._asking is None:
                return True
            self._asking.tick(self.clock())
            return self._asking.done

    def end(self, context: ModeContext, t_s: float, completed: bool) -> None:
        """The questionnaire leaves the screen: answered in full, or cut short by the end of the run."""
        with self._lock:
            occasion, asking = self._occasion, self._asking
            self._occasion, self._asking, self._layout = None, None, None
        if occasion is not None and asking is not None:
            context.emit(t_s, QuestionnaireEnd(occasion.questionnaire.id, occasion.block, asking.answered,
                                               len(asking.items), completed and asking.done))

    # -- [present] and [main]: the screen and the participant's answers ----------------------------------

    def draw(self, context: ModeContext, surface, t_s: float) -> bool:
        """Draw the item on screen; its first drawing is its onset. False when nothing is being asked."""
        with self._lock:
            occasion, asking = self._occasion, self._asking
            if occasion is None or asking is None:
                return False
            onset = asking.show(self.clock())
            item, order, total = asking.item, asking.order, len(asking.items)
            chosen, cursor = asking.chosen, asking.cursor
            if self._layout is None or self._layout.size != surface.get_size() or onset:
                self._layout = item_layout(item, surface.get_size())
            layout = self._layout
        if onset:
            context.emit(t_s, ItemOnset(occasion.questionnaire.id, item.id, order, occasion.block, occasion.condition,
                                        item.kind.value, item.text_sha256))
        title = occasion.questionnaire.title
        heading = (say("study.question_heading_titled", title=title, order=order, total=total) if title
                   else say("study.question_heading", order=order, total=total))
        draw_item_screen(surface, self._painter, item, layout, heading, chosen.value if chosen else None, cursor)
        return True

    def on_key(self, context: ModeContext, key: KeyPress, t_s: float) -> bool:
        """A number key answers (1 = the first choice); y and n a yes/no item; the arrows and Enter a VAS.
        Such keys are taken while a questionnaire is up, even in the pause, so they do nothing else."""
        import pygame

        keypad = dict(zip((pygame.K_KP0, pygame.K_KP1, pygame.K_KP2, pygame.K_KP3, pygame.K_KP4, pygame.K_KP5,
                           pygame.K_KP6, pygame.K_KP7, pygame.K_KP8, pygame.K_KP9), "0123456789", strict=True))
        with self._lock:
            asking = self._asking
            if asking is None:
                return False
            now = self.clock()
            if key.key in (pygame.K_LEFT, pygame.K_RIGHT):
                asking.move_cursor(VAS_STEP if key.key == pygame.K_RIGHT else -VAS_STEP)
                return True
            if key.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
                answer = asking.confirm_cursor(now)
            else:
                char = key.char if key.char.isdigit() or key.char.lower() in ("y", "n") else keypad.get(key.key, "")
                if not char:
                    return False
                answer = asking.choose_key(char, now)
            occasion = self._occasion
        if answer is not None and occasion is not None:
            self._record(context, occasion, answer, t_s)
        return True

    def on_pointer(self, context: ModeContext, press: PointerPress, t_s: float) -> bool:
        """A click or touch on an answer (or along a VAS line) answers the item on screen."""
        with self._lock:
            asking, layout, occasion = self._asking, self._layout, self._occasion
            if asking is None or layout is None or occasion is None:
                return False
            w, h = layout.size
            value = layout.hit(press.x_frac * w, press.y_frac * h)
            answer = asking.choose(value, press.device, self.clock()) if value is not None else None
        if answer is not None:
            self._record(context, occasion, answer, t_s)
        return True

    def _record(self, context: ModeContext, occasion: Occasion, answer: Answer, t_s: float) -> None:
        """ratings.csv first (on disk before this returns), then the event (events.jsonl and LSL)."""
        q, item = occasion.questionnaire, answer.item
        if self._ratings is not None:
            self._ratings.write(Rating(
                participant=self.participant, block=occasion.block, condition=occasion.condition,
                position=occasion.position, questionnaire=q.id, item=item.id, order=answer.order,
                kind=item.kind.value, item_sha256=item.text_sha256, answer=answer.value, rt_ms=answer.rt_ms,
                device=answer.device, t_s=round(t_s, 6), wall=round(time.time(), 3)))
        self.answers += 1
        context.emit(t_s, ItemAnswered(q.id, item.id, answer.order, occasion.block, occasion.condition, answer.value,
                                       answer.rt_ms, answer.device))
