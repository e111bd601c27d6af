"""The threads of a run: the headless runner (every frame, in order) and the window runner (drawn at 60 fps).

Between the pipeline (pipeline.py) and the edges (sinks.py, presenter.py): a runner pulls frames
from the source, has them read and answered, calls the mode's hooks, and hands the outcomes on.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from avatar.empathy import EmpathySettings, ModelCommand
from avatar.errors import StopRequested
from avatar.events import Event, FrameError, SourceError
from avatar.logs import DiskFullError
from avatar.mode import AvatarPainter, KeyPress, Mode, PointerPress
from avatar.outcome import Frame, FrameOutcome
from avatar.pipeline import Pipeline
from avatar.presenter import Presenter
from avatar.sinks import Sinks
from avatar.sources import Source
from avatar.threads import InPlace, Prefetcher, Worker

RENDER_FPS = 60
T = TypeVar("T")


class SignalGuard:
    """SIGTERM, SIGHUP and SIGINT in the main thread: StopRequested while the run goes on; once the
    closing records are being written, only remembered (`deferred`), so no line is cut. The handlers
    stay until the run is wholly closed, then the previous ones come back."""

    SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

    def __init__(self) -> None:
        self.deferring = False
        self.deferred: str | None = None  # the first signal that came while deferring
        self._previous: dict = {}

    def __enter__(self) -> SignalGuard:
        for sig in self.SIGNALS:
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: the caller owns signals
                pass
        return self

    def _handle(self, signum, _frame) -> None:
        name = signal.Signals(signum).name
        if self.deferring:
            self.deferred = self.deferred or name
            return
        raise StopRequested(name)

    def defer(self) -> None:
        self.deferring = True

    def resume(self) -> None:
        """Signals stop the work again (a report after the records are closed may be skipped)."""
        self.deferring = False
        if self.deferred is not None:
            raise StopRequested(self.deferred)

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class RunContext:
    """What a mode may use (avatar.mode.ModeContext), and nothing more of the run."""

    def __init__(self, sinks: Sinks, pipeline: Pipeline, painter: AvatarPainter, windowed: bool, log_folder: Path | None):
        self._sinks = sinks
        self._pipeline = pipeline
        self._painter = painter
        self._windowed = windowed
        self._log_folder = log_folder
        self.notices: list[str] = []
        self.lost_camera = False

    def emit(self, t_s: float | None, event: Event) -> None:
        self._sinks.event(t_s, event)

    def send(self, command: ModelCommand) -> None:
        self._pipeline.commands.send(command)

    def model_settings(self) -> EmpathySettings:
        return self._pipeline.commands.settings

    def notice(self, text: str) -> None:
        self.notices.append(text)

    @property
    def painter(self) -> AvatarPainter:
        return self._painter

    @property
    def camera_lost(self) -> bool:
        return self.lost_camera

    @property
    def windowed(self) -> bool:
        return self._windowed

    @property
    def log_folder(self) -> Path | None:
        return self._log_folder


@dataclass
class Counts:
    """How far a run got: frames read, frames shown and logged, frames that failed."""

    processed: int = 0
    presented: int = 0
    errors: int = 0
    last_t_s: float = 0.0
    logged: int = 0  # frames answered and handed to the sinks (the run's summary line)
    with_face: int = 0  # of those, frames with a face found


@dataclass
class Run:
    """The open parts of one run, as the runners need them."""

    source: Source
    pipeline: Pipeline
    sinks: Sinks
    mode: Mode
    context: RunContext
    presenter: Presenter
    max_frames: int | None = None
    debug: bool = False
    lab_markers: Any = None  # lsl.MarkerListener with --lsl
    lab_recorder: Any = None  # lsl.RecorderGate with --wait-for-recorder or --labrecorder (docs/lsl.md)
    chat: Any = None  # chat.overlay.ChatOverlay in a window with chat on
    inputs: tuple[Any, ...] = ()  # control inputs applied each frame (osc_in.OscControlInput with --osc-in)
    counts: Counts = field(default_factory=Counts)
    notices: list[str] = field(default_factory=list)

    def safely(self, frame: Frame, work: Callable[..., T], *args) -> T | None:
        """work(*args); an error in one frame is logged, counted and skipped: the run goes on."""
        try:
            return work(*args)
        except (DiskFullError, StopRequested, KeyboardInterrupt):
            raise
        except Exception as exc:
            self.counts.errors += 1
            if self.debug:
                raise
            self.context.emit(frame.t_s, FrameError(type(exc).__name__, str(exc)[:200], self.counts.errors))
            return None

    def answer(self, frame: Frame, reading) -> FrameOutcome | None:
        """The pipeline's answer to a read frame, as the mode shapes it."""
        outcome = self.safely(frame, self.pipeline.respond, frame, reading)
        if outcome is None:
            return None
        outcome = self.safely(frame, self.mode.after_frame, self.context, outcome)
        if outcome is not None and self.chat is not None:
            self.chat.observe(outcome)
        return outcome

    def log(self, outcome: FrameOutcome, latency_ms: float) -> None:
        self.sinks.frame(outcome, latency_ms)
        self.counts.last_t_s = max(self.counts.last_t_s, outcome.frame.t_s)
        self.counts.logged += 1
        self.counts.with_face += outcome.faces > 0

    def present(self, outcome: FrameOutcome, controls=None) -> None:
        latency_ms = self.presenter.show(outcome, controls or outcome.controls)
        self.log(outcome, latency_ms)
        self.counts.presented += 1

    def frames(self) -> Iterator[Frame]:
        """Source frames, honouring --max-frames; a file is decoded ahead in its own thread."""
        for frame, _ in self.prepared_frames(None):
            yield frame

    def prepared_frames(self, prepare: Callable[[Frame], T] | None, ahead: bool = True) -> Iterator[tuple[Frame, T | None]]:
        """Source frames, each with `prepare(frame)`, honouring --max-frames. A file is decoded and
        prepared ahead in a thread of its own (unless `ahead` is False), so the model's thread goes from one
        inference to the next. None where there is no `prepare` or it failed (the frame's own thread meets
        the error again)."""
        items = _with_prepared(self.source, prepare)
        items = items if self.source.is_live or not ahead else Prefetcher(items, name="decode")
        try:
            for frame, prepared in self._guarded(items):
                if self.max_frames is not None and self.counts.processed >= self.max_frames:
                    return
                yield frame, prepared
        finally:
            if isinstance(items, Prefetcher):
                items.close()

    def _guarded(self, items) -> Iterator[tuple[Frame, Any]]:
        """A source that fails part way ends the run as if the file ended there, with a notice."""
        last_t = 0.0
        iterator = iter(items)
        while True:
            try:
                frame, prepared = next(iterator)
            except StopIteration:
                return
            except (StopRequested, KeyboardInterrupt, DiskFullError):
                raise
            except Exception as exc:
                if self.debug:
                    raise
                self.context.emit(last_t, SourceError(type(exc).__name__, str(exc)[:200]))
                self.notices.append(f"{self.source.description} failed after {last_t:.2f} s ({type(exc).__name__}: {exc}); stopped there")
                return
            last_t = frame.t_s
            yield frame, prepared

    def watch_inputs(self, t_s: float) -> None:
        """A camera that drops out or comes back, and the markers a lab sends over LSL, become events."""
        for change_t_s, event in self.source.drain_state_changes():
            self.context.emit(change_t_s, event)
        self.context.lost_camera = self.source.lost
        if self.lab_markers is not None:
            for event in self.lab_markers.poll_events():  # markers, and markers_dropped (docs/lsl.md)
                self.context.emit(t_s, event)
        for control_input in self.inputs:  # OSC controls (docs/osc.md): as the classroom keys, between two frames
            control_input.apply_pending(self.context, self.mode, t_s)


def _with_prepared(frames: Iterable[Frame], prepare: Callable[[Frame], T] | None) -> Iterator[tuple[Frame, T | None]]:
    for frame in frames:
        try:
            prepared = prepare(frame) if prepare is not None else None
        except Exception:  # perceive prepares it again, in the frame's own thread, where a failure is logged
            prepared = None
        yield frame, prepared


def run_headless(run: Run, overlap: bool = True) -> float:
    """Every frame is read, answered and logged, in order, in three overlapping threads.

    One decodes ahead, the main thread runs the face model (which releases the GIL), and a third
    turns each reading into the echo, draws and logs it while the next frame is read. The mode's
    hooks all run in that third thread, in frame order, so a block boundary falls on exactly the
    frame it would in a single thread. `overlap` False runs all three in this thread, one after the
    other (a batch worker: one core each); the rows are the same. Returns the source time of the last
    frame read.
    """
    timer_start = time.perf_counter()
    mode_done = threading.Event()

    def answer_and_present(item: tuple[Frame, Any]) -> None:
        frame, reading = item
        if mode_done.is_set():
            return
        if not run.mode.before_frame(run.context, frame):
            mode_done.set()
            return
        outcome = run.answer(frame, reading)
        if outcome is not None:
            run.present(outcome)

    presenter = Worker(answer_and_present, name="respond") if overlap else InPlace(answer_and_present)
    try:
        for frame, image in run.prepared_frames(run.pipeline.prepare, ahead=overlap):
            if mode_done.is_set():
                break
            run.watch_inputs(frame.t_s)
            reading = run.safely(frame, run.pipeline.perceive, frame, image)
            if reading is None:
                continue
            presenter.submit((frame, reading))
            run.counts.processed += 1
            elapsed = time.perf_counter() - timer_start
            run.presenter.fps_estimate = run.counts.processed / elapsed if elapsed > 0 else 0.0
    finally:
        presenter.close()
    run.presenter.save_screenshot()
    # The last row logged, not the last frame read: decoding runs ahead of a mode that ended the run,
    # and session_end's time must not depend on how far it got.
    return run.counts.last_t_s


LAST_SCREEN_FPS = 20


def hold_last_screen(run: Run, hold_s: float, stopped: Callable[[], bool]) -> float:
    """The mode's last screen (a study's thank-you) in the window, after the records are closed: until
    Enter, Esc or q, the window's close box, `stopped()` (a signal came), or `hold_s` (math.inf: no limit).
    Returns how long it stayed up, in seconds."""
    display = run.presenter.display
    pygame = display.pygame
    ends = (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_ESCAPE, pygame.K_q)
    clock = pygame.time.Clock()
    start = time.monotonic()
    while not stopped():
        shown_s = time.monotonic() - start
        if shown_s >= hold_s:
            break
        if any(event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key in ends)
               for event in pygame.event.get()):
            break
        run.mode.draw_last_screen(run.context, display.surface, hold_s - shown_s)
        display.present()
        clock.tick(LAST_SCREEN_FPS)
    return time.monotonic() - start


class WindowRunner:
    """Inference in its own thread; the window draws at 60 fps, interpolating between readings."""

    def __init__(self, run: Run):
        self.run = run
        self._outcomes: list[FrameOutcome] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._stop = threading.Event()
        self._failure: list[BaseException] = []
        self._text_input_on: bool | None = None  # SDL starts with it on; set on the first events

    def _perceive(self) -> None:
        run = self.run
        try:
            for frame in run.frames():
                if self._stop.is_set() or not run.mode.before_frame(run.context, frame):
                    return
                reading = run.safely(frame, run.pipeline.perceive, frame)
                outcome = None if reading is None else run.answer(frame, reading)
                if outcome is None:
                    continue
                with self._lock:
                    self._outcomes.append(outcome)
                    del self._outcomes[:-8]  # never build a queue behind a slow window
                run.counts.processed += 1
        except BaseException as exc:
            self._failure.append(exc)
        finally:
            self._done.set()

    def loop(self) -> float:
        run = self.run
        display = run.presenter.display
        pygame = display.pygame
        thread = threading.Thread(target=self._perceive, name="perceive", daemon=True)
        thread.start()
        clock = pygame.time.Clock()
        previous = current = None
        arrived = time.perf_counter()
        interval = 1.0 / max(1.0, run.source.fps)
        last_t = 0.0
        try:
            while True:
                self._handle_window_events()
                run.watch_inputs(last_t)
                if run.chat is not None:
                    run.pipeline.extra_load = run.chat.extra_load
                with self._lock:
                    fresh, self._outcomes[:] = list(self._outcomes), []
                for outcome in fresh:
                    previous, current = current, outcome
                    arrived = time.perf_counter()
                    last_t = outcome.frame.t_s
                if self._failure:
                    raise self._failure[0]
                if current is None:
                    if self._done.is_set():
                        break
                    clock.tick(RENDER_FPS)
                    continue
                k = min(1.0, (time.perf_counter() - arrived) / interval)
                controls = current.controls if previous is None else previous.controls.lerp(current.controls, k)
                for skipped in fresh[:-1]:  # the window drew fewer frames than were read: log them all
                    run.log(skipped, (time.perf_counter() - skipped.frame.capture_perf) * 1000.0)
                if fresh:
                    run.present(current, controls)
                else:
                    run.presenter.draw(controls, current)
                run.presenter.present()
                run.presenter.fps_estimate = clock.get_fps()
                if self._done.is_set() and not fresh and k >= 1.0:
                    with self._lock:
                        if not self._outcomes:
                            break
                clock.tick(RENDER_FPS)
        finally:
            self._stop.set()
            thread.join(timeout=5.0)
        run.presenter.save_screenshot()
        return last_t

    def _handle_window_events(self) -> None:
        run = self.run
        pygame = run.presenter.display.pygame
        for event in pygame.event.get():
            if event.type == pygame.QUIT and run.mode.window_close_quits:
                raise StopRequested("window closed")
            self._pointer_event(event)
            if event.type in (pygame.TEXTINPUT, pygame.TEXTEDITING):  # typed text: "très", an input method's "日本語"
                if run.chat is not None:
                    run.chat.on_text(event)
                continue
            if event.type != pygame.KEYDOWN:
                continue
            if run.chat is not None and run.chat.on_key(event):
                line = run.chat.take_sent()
                if line is not None:
                    run.mode.on_line(run.context, line)
                continue
            if run.mode.on_key(run.context, KeyPress(event.key, event.unicode or "")):
                continue
            if event.key in (pygame.K_ESCAPE, pygame.K_q):
                raise StopRequested("quit key")
            if event.key in (pygame.K_F11, pygame.K_f):
                run.presenter.display.toggle_fullscreen()
            if event.key == pygame.K_h:
                run.presenter.toggle_status()
        self._sync_text_input(pygame)

    def _sync_text_input(self, pygame) -> None:
        """Text input (an input method, a touch screen's keyboard) is on only while the chat's line is open
        or typing opens it: otherwise letters stay plain keys (shortcuts, a questionnaire's numbers)."""
        chat = self.run.chat
        wanted = chat is not None and chat.takes_text
        if wanted == self._text_input_on:
            return
        self._text_input_on = wanted
        if wanted:
            w, h = self.run.presenter.display.surface.get_size()
            pygame.key.set_text_input_rect(pygame.Rect(0, 0, w, max(1, round(h * 0.1))))  # the typed line's place
            pygame.key.start_text_input()
        else:
            pygame.key.stop_text_input()

    def _pointer_event(self, event) -> None:
        """Clicks, drags and touches to the mode. A touch comes from SDL twice, as a finger and as an
        emulated mouse (`touch` set): the mouse copy is dropped, so a touch is applied once."""
        run = self.run
        pygame = run.presenter.display.pygame
        fingers = {pygame.FINGERDOWN: run.mode.on_pointer, pygame.FINGERMOTION: run.mode.on_pointer_drag,
                   pygame.FINGERUP: run.mode.on_pointer_release}
        if event.type in fingers:  # x and y are already fractions of the window
            fingers[event.type](run.context, PointerPress(event.x, event.y, "touch"))
            return
        if event.dict.get("touch") or event.type not in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP):
            return
        if event.type == pygame.MOUSEMOTION:
            hook = run.mode.on_pointer_drag if event.buttons[0] else None
        else:
            hook = (run.mode.on_pointer if event.type == pygame.MOUSEBUTTONDOWN else run.mode.on_pointer_release) if event.button == 1 else None
        if hook is not None:
            w, h = run.presenter.display.surface.get_size()
            hook(run.context, PointerPress(event.pos[0] / max(1, w), event.pos[1] / max(1, h)))
