"""The live mirror loop: wires source -> face -> expression -> empathy -> rig -> render, and the logs.

The loop reads like the pipeline diagram. Modes and the CLI sit on top of it; the stages know
nothing about each other beyond their frozen result types.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from avatar import __version__
from avatar.empathy import Echo, EmpathyModel, EmpathySettings, Mapping
from avatar.expression import Expression, ExpressionReader
from avatar.face import FaceReader, FaceReaderOptions, RunningMode, aligned_empty, resolve_model
from avatar.logs import FRAME_COLUMNS, DiskFullError, SessionLog, utc_now_iso
from avatar.pipeline import Prefetcher, Worker
from avatar.rig import Controls, HeadFollower, IdleLife, controls_from_echo
from avatar.sources import Frame, Source, open_source
from avatar.window import Display, VideoRecorder

RENDER_FPS = 60


@dataclass(frozen=True)
class RunSettings:
    """Everything a run needs, resolved from flags and config files."""

    source: str = "demo"
    duration_s: float = 3.0
    realtime: bool = False
    loop: bool = False
    headless: bool = False
    size: tuple[int, int] = (800, 600)
    fullscreen: bool = False
    save_video: Path | None = None
    screenshot: Path | None = None
    screenshot_at_s: float = 1.0
    log_dir: Path | None = None
    model: str | None = None
    seed: int = 0
    empathy: EmpathySettings = field(default_factory=EmpathySettings)
    max_frames: int | None = None
    show_status: bool = True
    avatar: str | None = None  # style name or path; None for the default style
    calibrate_s: float = 0.0
    debug: bool = False
    lsl: bool = False
    screen: int = 0  # which display the window opens on (--display)
    chat: object = None  # avatar.chat.ChatSettings when typing to the avatar is on, else None
    chat_opens_on_typing: bool = False  # --chat: any letter opens the text line (else Enter does)
    speak: bool = False

    def to_json(self) -> dict:
        def plain(value):
            if dataclasses.is_dataclass(value):
                return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
            if hasattr(value, "value") and not isinstance(value, (int, float, str)):
                return value.value
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, tuple):
                return list(value)
            return value

        return plain(self)


class StopRequested(Exception):
    """A signal or the window asked the run to stop; `reason` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class FrameOutcome:
    """What one processed frame produced, for the logs and the window."""

    frame: Frame
    faces: int
    expression: Expression
    echo: object
    controls: Controls
    reading: object = None  # the FaceReading, for views that draw the mesh
    extra: dict = field(default_factory=dict)  # a mode's own columns for this row


class Mode:
    """Hooks by which a mode (exhibit, classroom, study) shapes a run. The plain mirror uses none.

    Hooks marked [respond] run in the thread that turns face readings into the echo, one frame at
    a time and in order; [present] in the one that draws (the main thread in a window); [main] in
    the main thread.
    """

    name = "mirror"
    window_close_quits = True  # an unattended exhibit ignores a visitor's Alt-F4

    def session_name(self, session: MirrorSession) -> str | None:
        """[main] The log folder's name; None for the default."""
        return None

    def extra_columns(self) -> tuple[str, ...]:
        """[main] Columns this mode adds at the end of frames.csv."""
        return ()

    def session_info(self, session: MirrorSession) -> dict:
        """[main] Keys this mode adds to session.json."""
        return {}

    def on_start(self, session: MirrorSession) -> None:
        """[main] After the window and logs are open, before the first frame."""

    def before_frame(self, session: MirrorSession, frame: Frame) -> bool:
        """[respond] Before a frame is answered; return False to end the run normally."""
        return True

    def after_frame(self, session: MirrorSession, outcome: FrameOutcome) -> None:
        """[respond] After a frame is answered; may fill outcome.extra and change the model."""

    def draw(self, session: MirrorSession, surface, outcome: FrameOutcome | None, controls: Controls) -> bool:
        """[present] Draw the whole view; return False to let the plain avatar be drawn."""
        return False

    def on_key(self, session: MirrorSession, event) -> bool:
        """[main] A key in the window; return True if the mode used it."""
        return False

    def on_end(self, session: MirrorSession, status: str, reason: str) -> None:
        """[main] After the last frame, before the logs close (e.g. write a report)."""


class SignalGuard:
    """Turns SIGTERM and SIGHUP into StopRequested in the main thread; restores handlers on exit."""

    SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)

    def __enter__(self):
        self._previous = {}
        for sig in self.SIGNALS:
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: the caller owns signals
                pass
        return self

    @staticmethod
    def _handle(signum, _frame):
        raise StopRequested(signal.Signals(signum).name)

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class MirrorSession:
    """One run of the mirror: owns every stage's state and the edges (logs, video, window)."""

    def __init__(self, settings: RunSettings, source: Source | None = None, mode: Mode | None = None):
        self.settings = settings
        self.mode = mode or Mode()
        self.model_file = resolve_model(settings.model)
        self.source = source or open_source(settings.source, settings.duration_s, settings.realtime, settings.loop)
        self.reader = FaceReader(FaceReaderOptions(running_mode=RunningMode.VIDEO), model=self.model_file)
        self.expression_reader = ExpressionReader(calibrate_s=settings.calibrate_s)
        self.empathy = EmpathyModel(dataclasses.replace(settings.empathy, seed=settings.seed))
        self.idle = IdleLife(settings.seed)
        self.head = HeadFollower()
        self.log: SessionLog | None = None
        self.chat = None  # ChatController in a window with chat on
        self.text_input = None
        self.speaker = None
        self.chat_load = 0.0  # what answering a chat adds to the model's load, set by the window
        self.face_history = deque(maxlen=240)  # (t_s, Expression) for the chat's face context
        self.lsl = None  # LslStreams with --lsl
        self.lsl_markers = None  # MarkerListener with --lsl
        self.recorder: VideoRecorder | None = None
        self.display: Display | None = None
        self.renderer = None
        self.frames_processed = 0
        self.frames_presented = 0
        self.last_latency_ms = 0.0
        self.last_t_s = 0.0  # source time of the last row logged
        self._prefetcher = None
        self._rgb = None  # the RGB frame buffer, reused
        self._screenshot_pending = settings.screenshot is not None
        self.faces_present = False
        self.camera_lost = False
        self.frame_errors = 0
        self.fps_estimate = 0.0
        self.notices: list[str] = []  # said at the end of the run
        self.start_notices: list[str] = []  # said once the run has started, so an error comes alone

    # -- the edges ------------------------------------------------------------------------

    def _open_edges(self) -> None:
        s = self.settings
        from avatar.render import AvatarRenderer

        self.renderer = AvatarRenderer(s.avatar)  # a bad style fails before any window opens
        self.display = Display(s.size, s.headless, s.fullscreen, screen=s.screen)
        if s.save_video:
            self.recorder = VideoRecorder(s.save_video, self.source.fps, self.display.surface.get_size())
        # Later stages add their own columns after the contract's twelve, in pipeline order; columns
        # added since go after all of those (docs/contract.md: new columns only at the end).
        extra = (
            tuple(getattr(Expression, "LOG_FIELDS", ()))
            + tuple(getattr(Echo, "LOG_FIELDS", ()))
            + tuple(self.mode.extra_columns())
            + Expression.LATE_LOG_FIELDS
        )
        if s.lsl:
            from avatar.lsl import IRREGULAR_RATE, LslStreams, MarkerListener, default_source_id, streamed_channels

            rate = self.source.fps if (self.source.is_live or s.realtime) else IRREGULAR_RATE
            self.lsl = LslStreams(
                streamed_channels(FRAME_COLUMNS + extra),
                default_source_id(),
                rate,
                metadata={"mode": self.mode.name, "source": self.source.description, "condition": s.empathy.condition.value},
            )
            self.lsl_markers = MarkerListener()
        if s.log_dir is not None:
            stem = Path(self.source.description).stem if self.source.kind != "camera" else self.source.description
            name = self.mode.session_name(self) or f"{time.strftime('%Y%m%d-%H%M%S')}-{stem}"
            self.log = SessionLog.create(s.log_dir, name, extra_columns=extra)
            self.session_info = {
                "version": __version__,
                "settings": s.to_json(),
                "source": {"spec": s.source, "path": self.source.description, "kind": self.source.kind, "fps": self.source.fps},
                "model": {"path": self.model_file.path, "sha256": self.model_file.sha256},
                "seed": s.seed,
                "start": utc_now_iso(),
                "end": None,
                "status": "started",
                "mode": self.mode.name,
            }
            self.session_info.update(self.mode.session_info(self))
            self.log.write_session(self.session_info)
        if s.chat is not None and not s.headless:
            from avatar.chat import ChatController, TextInput

            self.chat = ChatController(s.chat)
            # Plain letters stay shortcuts (f, h, q) unless --chat asks that typing opens the line.
            self.text_input = TextInput(opens_on_typing=s.chat_opens_on_typing)
            if s.speak:
                from avatar.chat import Speaker

                self.speaker = Speaker()
        self._event("session_start", 0.0, source=self.source.description, version=__version__, mode=self.mode.name)
        self.mode.on_start(self)

    def _event(self, type_: str, t_s: float, **fields) -> None:
        if self.log is not None:
            self.log.event(type_, t_s, **fields)
        if self.lsl is not None:
            self.lsl.push_marker(type_, {"t": t_s, **fields})

    # -- one frame --------------------------------------------------------------------------

    def process_safely(self, frame: Frame) -> FrameOutcome | None:
        """process(), but an error in one frame is logged, counted and skipped: the run goes on."""
        return self._safely(frame, self.process, frame)

    def _safely(self, frame: Frame, work, *args):
        try:
            return work(*args)
        except (DiskFullError, StopRequested, KeyboardInterrupt):
            raise
        except Exception as exc:
            self.frame_errors += 1
            if self.settings.debug:
                raise
            self._event("frame_error", frame.t_s, error=type(exc).__name__, message=str(exc)[:200], count=self.frame_errors)
            return None

    def process(self, frame: Frame) -> FrameOutcome:
        return self.respond(frame, self.perceive(frame))

    def perceive(self, frame: Frame):
        """The face model's part of a frame: the part that runs outside the GIL."""
        import cv2

        # One reused, 64-byte-aligned buffer: no allocation per frame, and TensorFlow Lite reads
        # aligned memory without copying it (an unaligned frame makes it warn and copy).
        if self._rgb is None or self._rgb.shape != frame.bgr.shape:
            self._rgb = aligned_empty(frame.bgr.shape)
        cv2.cvtColor(frame.bgr, cv2.COLOR_BGR2RGB, dst=self._rgb)
        return self.reader.read(self._rgb, frame.t_s)

    def respond(self, frame: Frame, reading) -> FrameOutcome:
        """Everything after the face model: channels, the echo, the rig, the mode's columns."""
        expression = self.expression_reader.read(reading, frame.t_s)
        echo = self.empathy.step(frame.t_s, expression, faces=reading.faces, extra_load=self.chat_load)
        self.face_history.append((frame.t_s, expression))
        for event in self.empathy.pop_events():
            event = dict(event)
            self._event(event.pop("type"), frame.t_s, **event)
        if (reading.faces > 0) != self.faces_present:
            self.faces_present = reading.faces > 0
            self._event("face_found" if self.faces_present else "face_lost", frame.t_s, faces=reading.faces)
        idle = self.idle.at(frame.t_s)
        primary = reading.primary
        # The head path is tracking, not echo: it follows at once (damped only against jitter).
        head = self.head.update(
            frame.t_s,
            primary.yaw_deg if primary else 0.0,
            primary.pitch_deg if primary else 0.0,
            primary.roll_deg if primary else 0.0,
            present=primary is not None,
        )
        mirror = self.empathy.settings.mapping is Mapping.MIRROR
        controls = controls_from_echo(echo, idle, head.yaw_deg, head.pitch_deg, head.roll_deg, mirror=mirror)
        outcome = FrameOutcome(frame, reading.faces, expression, echo, controls, reading=reading)
        self.mode.after_frame(self, outcome)
        return outcome

    def draw(self, controls: Controls, outcome: FrameOutcome | None = None) -> None:
        bubble, mouth = self._chat_tick(outcome.frame.t_s if outcome is not None else 0.0)
        if mouth > 0:  # the avatar "speaks" its reply
            controls = dataclasses.replace(controls, jaw_open=max(controls.jaw_open, 0.6 * mouth))
        if self.mode.draw(self, self.display.surface, outcome, controls):
            return
        status = None
        if self.settings.show_status:
            faces = outcome.faces if outcome is not None else 0
            status = f"{self.source.description}  faces {faces}  {self.fps_estimate:4.1f} fps  {self.last_latency_ms:3.0f} ms"
            if self.camera_lost:
                status = f"looking for the camera...  {status}"
        caption = None
        if outcome is not None and outcome.frame.t_s < self.settings.calibrate_s:
            caption = f"Please hold a relaxed, neutral face ({self.settings.calibrate_s - outcome.frame.t_s:.0f} s)"
        if self.text_input is not None and self.text_input.active:
            caption = f"> {self.text_input.text}_"
        self.renderer.draw(self.display.surface, controls, status=status, bubble=bubble, caption=caption)

    def write_logs(self, outcome: FrameOutcome, latency_ms: float) -> None:
        self.last_t_s = max(self.last_t_s, outcome.frame.t_s)
        if self.log is None and self.lsl is None:
            return
        e, x = outcome.echo, outcome.expression
        row = {
            "frame": outcome.frame.index,
            "t": outcome.frame.t_s,
            "wall": outcome.frame.capture_wall,
            "faces": outcome.faces,
            "smile": x.smile if x.present else None,
            "wince": x.wince if x.present else None,
            "echo_smile": e.smile,
            "echo_wince": e.wince,
            "familiarity": e.familiarity,
            "load": e.load,
            "gain": e.gain,
            "latency_ms": latency_ms,
            **outcome.extra,
        }
        for stage_result in (x, e):
            if hasattr(stage_result, "log_values"):
                row.update(zip(type(stage_result).LOG_FIELDS, stage_result.log_values(), strict=True))
        row.update(zip(Expression.LATE_LOG_FIELDS, x.late_log_values(), strict=True))
        if self.log is not None:
            self.log.frame(row)
        if self.lsl is not None:
            self.lsl.push_frame(row, timestamp=self.lsl.clock_at_perf(outcome.frame.capture_perf))

    def poll_lab_markers(self, t_s: float) -> None:
        """Markers a lab sends over LSL become `marker` events."""
        if self.lsl_markers is not None:
            for text in self.lsl_markers.poll():
                self._event("marker", t_s, source="lsl", label=text)

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> int:
        """Run to the end of the source or a stop; returns the exit code."""
        status, reason, last_t = "finished", "end of source", 0.0
        try:
            with SignalGuard():
                self._open_edges()
                for notice in self.start_notices:
                    print(f"notice: {notice}", file=sys.stderr)
                last_t = self._loop()
                reason = getattr(self.mode, "end_reason", None) or reason  # a mode may say why it ended (study: protocol complete)
        except StopRequested as stop:
            status, reason = "aborted", stop.reason
        except KeyboardInterrupt:
            status, reason = "aborted", "SIGINT"
        except DiskFullError as exc:
            status, reason = "aborted", "disk full"
            self.notices.append(str(exc))
        finally:
            # A stop mid-frame leaves `last_t` unset; the last logged row's time is the truth.
            self._close(status, reason, max(last_t, self.last_t_s))
        for notice in self.notices + list(self.source.notices):
            print(f"notice: {notice}", file=sys.stderr)
        if status == "aborted" and reason == "disk full":
            return 1
        return 0

    def _loop(self) -> float:
        if self.display.headless:
            return self._loop_headless()
        return self._loop_window()

    def _present(self, outcome: FrameOutcome, controls: Controls | None = None) -> None:
        """Draw one avatar frame, record and log it: the presenting half of the pipeline."""
        s = self.settings
        # Headless with nothing that keeps pixels (no video, no screenshot), nobody can see a drawn
        # frame; the controls are the avatar's frame then, and drawing would only slow the run.
        if not self.display.headless or self.recorder is not None or self._screenshot_pending:
            self.draw(controls or outcome.controls, outcome)
        latency_ms = (time.perf_counter() - outcome.frame.capture_perf) * 1000.0
        self.last_latency_ms = latency_ms
        if self.recorder:
            self.recorder.write_surface(self.display.surface)
        self.write_logs(outcome, latency_ms)
        if self._screenshot_pending and outcome.frame.t_s >= s.screenshot_at_s:
            self.display.pygame.image.save(self.display.surface, str(s.screenshot))
            self._screenshot_pending = False
        self.frames_presented += 1

    def _frames(self):
        """Source frames, honouring --max-frames; a file is decoded ahead in its own thread."""
        frames = self.source if self.source.is_live else Prefetcher(self.source, name="decode")
        self._prefetcher = frames if isinstance(frames, Prefetcher) else None
        for frame in self._guarded(frames):
            if self.settings.max_frames is not None and self.frames_processed >= self.settings.max_frames:
                return
            yield frame

    def _guarded(self, frames):
        """A source that fails part way ends the run as if the file ended there, with a notice."""
        last_t = 0.0
        iterator = iter(frames)
        while True:
            try:
                frame = next(iterator)
            except StopIteration:
                return
            except (StopRequested, KeyboardInterrupt, DiskFullError):
                raise
            except Exception as exc:
                if self.settings.debug:
                    raise
                self._event("source_error", last_t, error=type(exc).__name__, message=str(exc)[:200])
                self.notices.append(f"{self.source.description} failed after {last_t:.2f} s ({type(exc).__name__}: {exc}); stopped there")
                return
            last_t = frame.t_s
            yield frame

    def _loop_headless(self) -> float:
        """Every frame is read, answered and logged, in order, in three overlapping threads.

        One decodes ahead, the main thread runs the face model (which releases the GIL), and a
        third turns each reading into the echo, draws and logs it while the next frame is read.
        The mode's hooks all run in that third thread, in frame order, so a block boundary falls
        on exactly the frame it would in a single thread.
        """
        last_t = 0.0
        timer_start = time.perf_counter()
        mode_done = threading.Event()

        def respond_and_present(item) -> None:
            frame, reading = item
            if mode_done.is_set():
                return
            if not self.mode.before_frame(self, frame):
                mode_done.set()
                return
            outcome = self._safely(frame, self.respond, frame, reading)
            if outcome is not None:
                self._present(outcome)

        presenter = Worker(respond_and_present, name="respond")
        try:
            for frame in self._frames():
                if mode_done.is_set():
                    break
                self._watch_camera(frame.t_s)
                self.poll_lab_markers(frame.t_s)
                reading = self._safely(frame, self.perceive, frame)
                if reading is None:
                    continue
                presenter.submit((frame, reading))
                self.frames_processed += 1
                last_t = frame.t_s
                elapsed = time.perf_counter() - timer_start
                self.fps_estimate = self.frames_processed / elapsed if elapsed > 0 else 0.0
        finally:
            presenter.close()
        self._finish_screenshot()
        return last_t

    def _loop_window(self) -> float:
        """Inference in its own thread; the window draws at 60 fps, interpolating between readings."""
        pygame = self.display.pygame
        outcomes: list[FrameOutcome] = []
        lock = threading.Lock()
        done = threading.Event()
        failure: list[BaseException] = []
        stop = threading.Event()

        def perceive() -> None:
            try:
                for frame in self._frames():
                    if stop.is_set() or not self.mode.before_frame(self, frame):
                        return
                    outcome = self.process_safely(frame)
                    if outcome is None:
                        continue
                    with lock:
                        outcomes.append(outcome)
                        del outcomes[:-8]  # never build a queue behind a slow window
                    self.frames_processed += 1
            except BaseException as exc:
                failure.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=perceive, name="perceive", daemon=True)
        thread.start()
        clock = pygame.time.Clock()
        previous = current = None
        arrived = time.perf_counter()
        interval = 1.0 / max(1.0, self.source.fps)
        last_t = 0.0
        try:
            while True:
                self._handle_window_events()
                self._watch_camera(last_t)
                with lock:
                    fresh, outcomes[:] = list(outcomes), []
                for outcome in fresh:
                    previous, current = current, outcome
                    arrived = time.perf_counter()
                    last_t = outcome.frame.t_s
                if failure:
                    raise failure[0]
                if current is None:
                    if done.is_set():
                        break
                    clock.tick(RENDER_FPS)
                    continue
                k = min(1.0, (time.perf_counter() - arrived) / interval)
                controls = current.controls if previous is None else previous.controls.lerp(current.controls, k)
                for skipped in fresh[:-1]:  # the window drew fewer frames than were read: log them all
                    self.write_logs(skipped, (time.perf_counter() - skipped.frame.capture_perf) * 1000.0)
                if fresh:
                    self._present(current, controls)
                else:
                    self.draw(controls, current)
                self.poll_lab_markers(last_t)
                self.display.present()
                self.fps_estimate = clock.get_fps()
                if done.is_set() and not fresh and k >= 1.0:
                    with lock:
                        if not outcomes:
                            break
                clock.tick(RENDER_FPS)
        finally:
            stop.set()
            if self._prefetcher is not None:
                self._prefetcher.close()
            thread.join(timeout=5.0)
        self._finish_screenshot()
        return last_t

    def _send_chat(self, text: str) -> None:
        from avatar.chat import FaceContext

        samples = list(self.face_history)
        t_s = samples[-1][0] if samples else 0.0
        context = FaceContext.from_expressions(samples, self.empathy.familiarity, window_s=3.0)
        self.chat.submit(text, context)
        self._flush_chat_events(t_s)

    def _flush_chat_events(self, t_s: float) -> None:
        for event in self.chat.pop_events():
            event = dict(event)
            self._event(event.pop("type"), t_s, **event)

    def _chat_tick(self, t_s: float):
        """Once per drawn frame in a window: the reply's progress, the extra load, the mouth."""
        if self.chat is None:
            return None, 0.0
        now = time.monotonic()
        reply = self.chat.poll(now)
        if reply is not None and self.speaker is not None:
            self.speaker.say(reply.text)
        self._flush_chat_events(t_s)
        self.chat_load = float(self.chat.load_extra(now))
        return self.chat.speaking_text(now) or None, float(self.chat.mouth_open(now))

    def _watch_camera(self, t_s: float) -> None:
        """Log a camera that drops out or comes back; the window shows the lost state meanwhile."""
        drain = getattr(self.source, "drain_state_changes", None)
        if drain is None:
            return
        for type_, change_t_s in drain():
            self._event(type_, change_t_s, source=self.source.description)
        self.camera_lost = bool(self.source.lost)

    def _finish_screenshot(self) -> None:
        if self._screenshot_pending:
            self.display.pygame.image.save(self.display.surface, str(self.settings.screenshot))
            self._screenshot_pending = False

    def _handle_window_events(self) -> None:
        pygame = self.display.pygame
        for event in pygame.event.get():
            if event.type == pygame.QUIT and self.mode.window_close_quits:
                raise StopRequested("window closed")
            if event.type == pygame.KEYDOWN:
                if self.text_input is not None and self.text_input.wants(event.key, getattr(event, "unicode", "")):
                    sent = self.text_input.feed(event)
                    if sent:
                        self._send_chat(sent)
                    continue
                if self.mode.on_key(self, event):
                    continue
                if event.key in (pygame.K_ESCAPE, pygame.K_q):
                    raise StopRequested("quit key")
                if event.key in (pygame.K_F11, pygame.K_f):
                    self.display.toggle_fullscreen()
                if event.key == pygame.K_h:
                    self.settings = dataclasses.replace(self.settings, show_status=not self.settings.show_status)

    def _close(self, status: str, reason: str, last_t: float) -> None:
        # Each edge closes on its own, so one failing never leaves another open.
        try:
            try:
                self.mode.on_end(self, status, reason)
            except Exception as exc:  # a failed report must not lose the session's closing lines
                self.notices.append(f"{self.mode.name} mode could not finish: {type(exc).__name__}: {exc}")
            if self.chat is not None:
                self.chat.close()
            if self.speaker is not None:
                self.speaker.close()
            if self.lsl is not None:
                try:
                    if status == "aborted":
                        self.lsl.push_marker("aborted", {"t": last_t, "reason": reason})
                    self.lsl.push_marker("session_end", {"t": last_t, "status": status, "reason": reason})
                finally:
                    if self.lsl_markers is not None:
                        self.lsl_markers.close()
                    self.lsl.close()
            if self.log is not None:
                try:
                    if status == "aborted":
                        self.log.event("aborted", last_t, reason=reason)
                    self.log.event("session_end", last_t, status=status, reason=reason, frames=self.frames_presented)
                    self.session_info.update(end=utc_now_iso(), status=status, frames=self.frames_presented)
                    self.log.write_session(self.session_info)
                except DiskFullError as exc:
                    self.notices.append(str(exc))
                finally:
                    self.log.close()
        finally:
            try:
                if self.recorder is not None:
                    self.recorder.close()
            finally:
                try:
                    if self._prefetcher is not None:
                        self._prefetcher.close()
                    self.reader.close()
                finally:
                    try:
                        self.source.close()
                    finally:
                        if self.display is not None:
                            self.display.close()
