"""Study mode: a participant runs a protocol's blocks (condition, familiarity, load, delay) in order,
and answers its questionnaires after them.

Sits on top of the loop through avatar.mode.Mode hooks. Blocks are timed on source time, so a file
source gives the same block boundaries on any machine; the file loops until the protocol ends. A
questionnaire lasts until it is answered (avatar.modes.questions); the frames go on being logged meanwhile.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import math
import os
import re
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from avatar.contract import TEXT, Column
from avatar.empathy import Condition, Configure, ResetPerson
from avatar.errors import CliError, ConfigError
from avatar.events import BlockEnd, BlockStart, KeyMarker, PhaseEnd, PhaseStart, ProtocolIncomplete, SessionStatus
from avatar.mode import KeyPress, Mode, ModeContext, PointerPress
from avatar.modes.operator import OperatorStatus, OperatorView, check_operator_display
from avatar.modes.questions import Occasion, Questioner
from avatar.modes.screens import TextPainter, draw_message_screen
from avatar.outcome import Frame, FrameOutcome, ModeFrame
from avatar.protocol import Block, Protocol, block_order, load_protocol
from avatar.questionnaire import Questionnaire, When, asked_after
from avatar.strings import say

ASSETS = Path(__file__).resolve().parent.parent.parent / "assets"
DEFAULT_PROTOCOL = ASSETS / "protocols" / "example.toml"
PARTICIPANT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")


class Phase(Enum):
    BREAK = "break"  # between blocks; Space skips it
    INSTRUCTION = "instruction"  # a block's instruction text, before it; Space skips it
    BLOCK = "block"
    QUESTIONNAIRE = "questionnaire"  # after a block (or at the end); lasts until every item is answered
    DONE = "done"
    THANKS = "thanks"  # the thank-you screen, after the records are closed: only its start is logged (thanks_start)


@dataclass(frozen=True)
class Step:
    phase: Phase
    block: Block  # a break's or instruction's next block; a questionnaire's previous one
    position: int  # 1-based place of the block in this participant's order
    duration_s: float  # 0 for a questionnaire: it ends when answered, not on time
    questionnaire: Questionnaire | None = None

    def occasion(self) -> Occasion:
        """A questionnaire step's answers as ratings.csv files them: under its block, or none for `end`."""
        if self.questionnaire is None:
            raise ValueError(f"a {self.phase.value} step has no questionnaire")
        if self.questionnaire.when is When.END:
            return Occasion(self.questionnaire, "", "", None, "end")
        return Occasion(self.questionnaire, self.block.name, self.block.condition.value, self.position, str(self.position))


def schedule(protocol: Protocol, order: list[int]) -> list[Step]:
    """The session as a list of steps: [break] [instruction] block [questionnaires], for each block in order;
    the `end` questionnaires follow the last block's own."""
    steps: list[Step] = []
    for position, index in enumerate(order, start=1):
        block = protocol.blocks[index]
        if position > 1 and protocol.break_s > 0:
            steps.append(Step(Phase.BREAK, block, position, protocol.break_s))
        if block.instruction and protocol.instruction_s > 0:
            steps.append(Step(Phase.INSTRUCTION, block, position, protocol.instruction_s))
        steps.append(Step(Phase.BLOCK, block, position, block.duration_s))
        for questionnaire in asked_after(protocol.questionnaires, block.name, last=position == len(order)):
            steps.append(Step(Phase.QUESTIONNAIRE, block, position, 0.0, questionnaire))
    return steps


def session_prefix(participant: str, protocol: Protocol) -> str:
    return f"{participant}_{protocol.name}_"


def _recorded_session(folder: Path) -> tuple[str | None, str | None]:
    """(participant, protocol name) as a session folder's session.json records them."""
    try:
        info = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(info, dict):
        return None, None
    protocol = info.get("protocol")
    return info.get("participant"), protocol.get("name") if isinstance(protocol, dict) else None


def check_not_repeated(log_dir: Path, participant: str, protocol: Protocol) -> None:
    """Refuse a second session for the same participant and protocol in the same log dir, as the
    sessions' own records say (folder names are cut and share prefixes: `short` is not `short_v2`)."""
    if not Path(log_dir).is_dir():
        return
    for child in sorted(Path(log_dir).iterdir()):
        if child.is_dir() and _recorded_session(child) == (participant, protocol.name):
            raise ConfigError(
                f"participant {participant} already has a session with protocol {protocol.name} in {log_dir} "
                f"({child.name}); use --allow-repeat to run another"
            )


def lock_participant(log_dir: Path, participant: str, protocol: Protocol) -> int:
    """An exclusive lock on the participant and protocol in this log dir, held for the run (the OS
    drops it when the process ends), so two runs started together cannot both pass the repeat check."""
    digest = hashlib.sha256(f"{participant}\0{protocol.name}".encode()).hexdigest()[:16]
    try:
        Path(log_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(Path(log_dir) / f".study-{digest}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise ConfigError(f"--log-dir {log_dir}: cannot lock the participant's sessions ({exc.strerror or exc})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise ConfigError(f"another session of participant {participant} with protocol {protocol.name} is running "
                          f"in {log_dir}") from None
    return fd


def make_study_mode(args, settings):
    """Validate the study flags and the protocol before anything opens; return (mode, settings)."""
    participant = args.participant
    if not participant:
        raise CliError("study mode needs --participant ID (for example --participant P07)")
    if not PARTICIPANT_PATTERN.fullmatch(participant):
        raise CliError(f"--participant {participant!r}: use 1-40 letters, digits and '-' (for example P07 or sub-12)")
    if settings.log_dir is None:
        # A study whose data goes nowhere wastes a participant's time: refuse before anything starts.
        raise CliError("study mode needs --log-dir DIR: the folder where the participant's data is kept")
    operator_display = args.operator_display
    if operator_display is not None:
        if settings.headless:
            raise CliError("--operator-display needs a window: leave out --headless")
        check_operator_display(operator_display, settings.screen)
    protocol = load_protocol(args.protocol or DEFAULT_PROTOCOL)
    lock = lock_participant(settings.log_dir, participant, protocol)
    if not args.allow_repeat:
        check_not_repeated(settings.log_dir, participant, protocol)
    mode = StudyMode(protocol, participant, lock, operator_display)
    source = settings.source
    is_camera = source == "camera" or source.startswith("camera:")
    # A file loops until the protocol ends; blocks run on its clock (t_s), so time goes on across loops.
    # The chat's text line (Enter opens it) stays off unless --chat asks for it: a participant's keys answer
    # questionnaires, and a line typed to the avatar would be a condition of its own.
    # Fullscreen on the participant's --display unless --windowed: nothing else on the screen to read.
    settings = dataclasses.replace(settings, loop=not is_camera, show_status=False,
                                   chat=settings.chat if args.chat else None,
                                   fullscreen=not settings.headless and not args.windowed)
    return mode, settings


@dataclass(frozen=True)
class StudyFrame(ModeFrame):
    """Where in the protocol a frame falls: its columns, and what the screen shows with it."""

    block: str  # "" outside a block
    condition: str
    phase: str
    step: Step | None
    remaining_s: float  # until the step ends


def _study_column(name: str, read, doc: str) -> Column:
    return Column(name, TEXT, str, None, lambda o, _: read(o.mode_frame), doc)


class StudyMode(Mode):
    name = "study"
    columns = (
        _study_column("block", lambda f: f.block, "the protocol block's name (study mode)"),
        _study_column("condition", lambda f: f.condition, "the block's condition (study mode)"),
        _study_column("phase", lambda f: f.phase, "block, break, instruction, questionnaire or done (study mode)"),
    )

    def __init__(self, protocol: Protocol, participant: str, lock: int | None = None,
                 operator_display: int | None = None):
        self.protocol = protocol
        self.participant = participant
        self.questions = Questioner(participant, protocol.seed, protocol.answer_pause_s)
        self._lock = lock  # lock_participant's file, held until the run's records are closed
        self.order = block_order(protocol, participant)
        self.steps = schedule(protocol, self.order)
        self.step_index = -1
        self.step_start_t = 0.0
        self.block_start_t = 0.0
        self.last_t = 0.0
        self.end_reason: str | None = None
        self.markers = 0
        self.completed: list[str] = []
        self._closing_row_t: float | None = None  # the time of the one closing row (phase done)
        self._skip = False  # Space pressed (main thread); read by before_frame (perception thread)
        self._painter = TextPainter()
        self.operator = OperatorView(operator_display)  # the experimenter's view: a corner (O) or a second window

    # -- hooks: naming and session.json ----------------------------------------------------------

    def session_name(self) -> str:
        return f"{session_prefix(self.participant, self.protocol)}{time.strftime('%Y%m%d-%H%M%S')}"

    def session_info(self) -> dict:
        return {
            "participant": self.participant,
            "protocol": self.protocol.to_json(),
            "protocol_sha256": self.protocol.sha256,
            "block_order": [self.protocol.blocks[i].name for i in self.order],
            "counterbalance": self.protocol.counterbalance.value,
        }

    def on_start(self, context: ModeContext) -> None:
        if self.protocol.questionnaires and context.log_folder is not None:
            self.questions.open_log(context.log_folder)  # ratings.csv, with its header, from the start
        if context.windowed:
            self.operator.open()

    # -- the schedule --------------------------------------------------------------------------

    @property
    def step(self) -> Step | None:
        return self.steps[self.step_index] if 0 <= self.step_index < len(self.steps) else None

    @property
    def phase(self) -> Phase:
        step = self.step
        return step.phase if step else Phase.DONE

    def _apply_block(self, context: ModeContext, block: Block | None) -> None:
        """Set the model for a block (a fresh visitor each block), or a still face between blocks."""
        if block is None:
            context.send(Configure.of(condition=Condition.STATIC))
            return
        context.send(Configure.of(condition=block.condition, familiarity=block.familiarity, load=block.load,
                                  delay_s=block.delay_s, mapping=block.mapping))
        context.send(ResetPerson())

    def _enter(self, context: ModeContext, index: int, t_s: float) -> None:
        self.step_index = index
        self.step_start_t = t_s
        step = self.step
        if step is None:
            self.end_reason = "protocol complete"
            return
        if step.phase is Phase.BLOCK:
            b = step.block
            self.block_start_t = t_s
            self._apply_block(context, b)
            context.emit(t_s, BlockStart(b.name, step.position, b.condition.value, b.familiarity, b.load, b.delay_s,
                                         b.mapping.value, b.duration_s))
        elif step.phase is Phase.QUESTIONNAIRE:
            self._apply_block(context, None)
            self.questions.begin(context, step.occasion(), t_s)
        else:
            self._apply_block(context, None)
            context.emit(t_s, PhaseStart(step.phase.value, step.block.name, step.position, step.duration_s))

    def _leave(self, context: ModeContext, t_s: float, completed: bool, skipped: bool = False) -> None:
        step = self.step
        if step is None:
            return
        if step.phase is Phase.BLOCK:
            if completed:
                self.completed.append(step.block.name)
            context.emit(t_s, BlockEnd(step.block.name, step.position, step.block.condition.value,
                                       round(t_s - self.block_start_t, 6), completed))
        elif step.phase is Phase.QUESTIONNAIRE:
            self.questions.end(context, t_s, completed)
        else:
            context.emit(t_s, PhaseEnd(step.phase.value, step.block.name, skipped))

    def before_frame(self, context: ModeContext, frame: Frame) -> bool:
        t = frame.t_s
        self.last_t = t
        if self.step_index < 0:
            self._enter(context, 0, t)
        while self.step is not None:
            step = self.step
            skip = self._skip and step.phase in (Phase.BREAK, Phase.INSTRUCTION)
            if skip:
                self._skip = False
            if step.phase is Phase.QUESTIONNAIRE:
                if not self.questions.finished():
                    break
            elif not skip and t < self.step_start_t + step.duration_s - 1e-9:
                break
            self._leave(context, t, completed=True, skipped=skip)
            self._enter(context, self.step_index + 1, t)
        if self.step is None:
            # One closing row (phase "done") at the end time, so session_end is not before the last block_end.
            if self._closing_row_t is not None:
                return False
            self._closing_row_t = t
        return True

    def after_frame(self, context: ModeContext, outcome: FrameOutcome) -> FrameOutcome:
        self.operator.frame_seen()
        step = self.step
        in_block = step is not None and step.phase is Phase.BLOCK
        remaining = max(0.0, self.step_start_t + step.duration_s - outcome.frame.t_s) if step else 0.0
        return dataclasses.replace(outcome, mode_frame=StudyFrame(
            block=step.block.name if in_block else "",
            condition=step.block.condition.value if in_block else "",
            phase=self.phase.value,
            step=step,
            remaining_s=remaining,
        ))

    def finished_reason(self) -> str | None:
        return self.end_reason

    # -- keys and screen ---------------------------------------------------------------------------

    def on_key(self, context: ModeContext, key: KeyPress) -> bool:
        import pygame

        if self.questions.on_key(context, key, self.last_t):
            return True
        if key.key == pygame.K_SPACE:
            if self.phase in (Phase.BREAK, Phase.INSTRUCTION):
                self._skip = True
            return True
        if key.key == pygame.K_m:
            self.markers += 1
            context.emit(self.last_t, KeyMarker(self.markers))
            self.operator.marker_logged(self.markers)
            return True
        if key.key == pygame.K_o:
            self.operator.toggle()
            return True
        return False

    def on_pointer(self, context: ModeContext, press: PointerPress) -> bool:
        return self.questions.on_pointer(context, press, self.last_t)

    def draw(self, context: ModeContext, surface, outcome: FrameOutcome | None, controls) -> bool:
        frame = outcome.mode_frame if outcome is not None else None
        if not isinstance(frame, StudyFrame):
            return False
        step = frame.step
        if step is None or step.phase is Phase.BLOCK:
            # The plain avatar, with nothing on screen that could tell the condition (unless the
            # experimenter opens the corner view).
            if not self.operator.in_corner and self.operator.window is None:
                return False
            context.painter.draw(surface, controls)
        elif step.phase is Phase.QUESTIONNAIRE:
            if not self.questions.draw(context, surface, self.last_t):
                draw_message_screen(surface, self._painter, "")  # the moment between two steps: a calm screen
        else:
            self._draw_waiting(surface, step, frame.remaining_s)
        self.operator.draw(surface, self._operator_status(frame, outcome.faces, context.log_folder))
        return True

    def _draw_waiting(self, surface, step: Step, remaining_s: float) -> None:
        seconds = max(1, int(remaining_s + 0.999))
        total = len(self.order)
        if step.phase is Phase.BREAK:
            draw_message_screen(surface, self._painter, say("study.break_title"),
                                say("study.break_body", position=step.position, total=total, seconds=seconds),
                                say("study.break_footer"))
        else:
            draw_message_screen(surface, self._painter, say("study.part_title", position=step.position, total=total),
                                step.block.instruction, say("study.instruction_footer", seconds=seconds))

    def _operator_status(self, frame: StudyFrame, faces: int, log_folder: Path | None) -> OperatorStatus:
        step = frame.step
        timed_later = sum(s.duration_s for s in self.steps[self.step_index + 1:])
        return OperatorStatus(
            participant=self.participant,
            position=step.position if step else len(self.order),
            total=len(self.order),
            block=step.block.name if step else "",
            condition=step.block.condition.value if step else "",
            phase=frame.phase,
            step_left_s=None if step is None or step.phase is Phase.QUESTIONNAIRE else frame.remaining_s,
            session_left_s=(frame.remaining_s if step else 0.0) + timed_later,
            markers=self.markers,
            faces=faces,
            fps=self.operator.fps(),
            log_folder=log_folder,
        )

    # -- the end -----------------------------------------------------------------------------------

    def on_end(self, context: ModeContext, status: SessionStatus, reason: str) -> dict:
        step = self.step
        if step is not None:
            self._leave(context, self.last_t, completed=False)
            if status is SessionStatus.FINISHED:
                context.emit(self.last_t, ProtocolIncomplete(reason, len(self.completed), len(self.order)))
        elif self.last_screen_s(context, status) is not None:
            # The thank-you screen comes once the records are closed, so its start is logged now: at the
            # protocol's end, with how long it may stay (0: until the experimenter ends it).
            t = self._closing_row_t if self._closing_row_t is not None else self.last_t
            context.emit(t, PhaseStart(Phase.THANKS.value, "", len(self.order), self.protocol.end_s))
        self.questions.close()  # every answer given is on disk; nothing more can come
        self.operator.close()  # the session is over: nothing more for the experimenter to follow
        return {
            "blocks_completed": list(self.completed),
            "protocol_complete": step is None and self.step_index >= 0,
            "markers": self.markers,
            "answers": self.questions.answers,
        }

    def last_screen_s(self, context: ModeContext, status: SessionStatus) -> float | None:
        """The thank-you screen, in a window, once the whole protocol has run: the protocol's end_s, or
        until the experimenter presses Enter or Esc."""
        complete = self.step is None and self.step_index >= 0
        if not context.windowed or status is not SessionStatus.FINISHED or not complete:
            return None
        return self.protocol.end_s or math.inf

    def draw_last_screen(self, context: ModeContext, surface, left_s: float) -> None:
        # A protocol's end_text: its first line is the title, the rest the body.
        title, _, body = self.protocol.end_text.partition("\n") if self.protocol.end_text else (
            say("study.thanks_title"), "", say("study.thanks_body"))
        footer = (say("study.thanks_footer") if math.isinf(left_s)
                  else say("study.thanks_footer_timed", seconds=max(1, int(left_s + 0.999))))
        draw_message_screen(surface, self._painter, title.strip(), body.strip(), footer)

    def after_records(self, context: ModeContext, status: SessionStatus) -> None:
        self.questions.close()
        if self._lock is not None:
            os.close(self._lock)  # the session's record is complete: another may follow
            self._lock = None
        folder = context.log_folder
        if folder is None:
            return
        context.notice(f"session data: {folder}")
        if status is not SessionStatus.FINISHED:
            context.notice(f"session aborted; build its report with: python -m avatar report {folder}")
            return
        from avatar.report import build_report

        # Built from the closed files, so it shows the session as session.json finally tells it.
        context.notice(f"report: {build_report(folder)}")
