"""A run of the mirror: opens the source, the pipeline, the sinks and the window, runs, and closes them all.

The composition root below the CLI: it builds the parts (pipeline.py, sinks.py, presenter.py) and
hands them to a runner (runners.py). Modes plug in through avatar.mode; nothing here knows a mode.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from avatar import __version__, contract, isolation
from avatar.empathy import EmpathySettings
from avatar.errors import StopRequested, first_line
from avatar.events import SessionStart, SessionStatus
from avatar.face import ModelFile, resolve_model
from avatar.logs import DiskFullError, SessionLog, utc_now_iso
from avatar.mode import Mode
from avatar.pipeline import Pipeline, PipelineFactory, PipelineSettings
from avatar.presenter import Presenter, PresentSettings
from avatar.runners import Run, RunContext, SignalGuard, WindowRunner, hold_last_screen, run_headless
from avatar.sinks import LogSink, LslSink, Sinks
from avatar.sources import Source, SourceKind, open_source
from avatar.strings import say
from avatar.ui_scale import set_ui_scale
from avatar.window import Display, VideoRecorder

if TYPE_CHECKING:
    from avatar.chat.settings import ChatSettings
    from avatar.osc_in import OscInSettings
    from avatar.virtual_camera import VirtualCameraSettings
    from avatar.vmc import VmcSettings


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
    overwrite: bool = False  # --overwrite: --save-video and --screenshot may replace an existing file
    log_dir: Path | None = None
    model: str | None = None
    seed: int = 0
    empathy: EmpathySettings = field(default_factory=EmpathySettings)
    max_frames: int | None = None
    show_status: bool = True
    lang: str = "en"  # --lang: the screens' words (avatar.strings), a code or a .toml path
    ui_scale: float = 1.0  # --ui-scale: every screen's text this much larger than its design (avatar.ui_scale)
    avatar: str | None = None  # style name or path; None for the default style
    self_similarity: float | None = None  # --self-similarity: the visitor's face blended into the portrait by S
    # Headless: decode ahead and answer in threads of their own, for speed on one run; a batch worker
    # sets False and uses one core, as its Dask worker's single thread promises (avatar/batch_worker.py).
    overlap_threads: bool = True
    calibrate_s: float = 0.0
    debug: bool = False
    lsl: bool = False
    wait_for_recorder_s: float | None = None  # --wait-for-recorder: start once a recorder takes the LSL streams (docs/lsl.md)
    labrecorder: tuple[str, int] | None = None  # --labrecorder: LabRecorder's remote control, told to start and stop
    screen: int = 0  # which display the window opens on (--display)
    chat: ChatSettings | None = None  # typing to the avatar (a window only)
    chat_opens_on_typing: bool = False  # --chat: any letter opens the text line (else Enter does)
    speak: bool = False
    vmc: VmcSettings | None = None  # --vmc: the avatar to a VMC protocol receiver (docs/vmc.md)
    osc_in: OscInSettings | None = None  # --osc-in: controls from a show's OSC sender (docs/osc.md)
    virtual_camera: VirtualCameraSettings | None = None  # --virtual-camera: the avatar as a webcam

    def to_json(self) -> dict:
        return _plain(self)


def _plain(value):
    """A settings value as JSON: dataclasses as objects, enums by value, paths as text."""
    if dataclasses.is_dataclass(value):
        return {name: _plain(field_value) for name, field_value in vars(value).items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _session_name(mode: Mode, source: Source) -> str:
    name = mode.session_name()
    if name:
        return name
    stem = Path(source.description).stem if source.kind is not SourceKind.CAMERA else source.description
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{stem}"


def _session_info(settings: RunSettings, source: Source, model: ModelFile, mode: Mode) -> dict:
    info = {
        "version": __version__,
        "settings": settings.to_json(),
        "source": {"spec": settings.source, "path": source.description, "kind": source.kind.value, "fps": source.fps},
        "model": {"path": model.path, "sha256": model.sha256},
        "seed": settings.seed,
        "network": isolation.current().to_json(),
        "start": utc_now_iso(),
        "end": None,
        "status": SessionStatus.STARTED.value,
        "mode": mode.name,
    }
    info.update(mode.session_info())
    return info


def _open_lsl(settings: RunSettings, source: Source, mode: Mode, columns, sinks: Sinks, stack: ExitStack):
    """The LSL streams as a sink; returns the listener for a lab's markers and the gate that meets its recorder."""
    from avatar.lsl import IRREGULAR_RATE, LslStreams, MarkerListener, RecorderGate, default_source_id

    rate = source.fps if (source.is_live or settings.realtime) else IRREGULAR_RATE
    streams = LslStreams(
        contract.streamed(columns),
        default_source_id(mode.name),
        rate,
        metadata={"mode": mode.name, "source": source.description, "condition": settings.empathy.condition.value},
    )
    sinks.add(LslSink(streams, columns))
    listener = stack.enter_context(contextlib.closing(MarkerListener()))
    gate = None
    if settings.wait_for_recorder_s is not None or settings.labrecorder is not None:
        # Closed before the streams: LabRecorder is told to stop while they still exist.
        gate = stack.enter_context(contextlib.closing(RecorderGate(streams, settings.wait_for_recorder_s, settings.labrecorder)))
    return listener, gate


@dataclass(frozen=True)
class RunSummary:
    """What a finished run did, for its one closing line."""

    frames: int  # answered and logged
    with_face: int
    duration_s: float  # on the source's clock: a file's own time, not the wall clock
    log_folder: Path | None
    video: Path | None
    lsl: bool
    stopped: str | None = None  # why the run ended before its source did (a quit key, a signal), else None

    def line(self) -> str:
        share = f" ({100 * self.with_face / self.frames:.0f}%)" if self.frames else ""
        kept = [f"logs in {self.log_folder}"] if self.log_folder is not None else []
        kept += [f"video in {self.video}"] if self.video is not None else []
        kept += ["streamed over LSL"] if self.lsl else []
        ended = "done" if self.stopped is None else f"stopped ({self.stopped})"
        return (f"{ended}: {self.frames} frames, a face in {self.with_face}{share}, {self.duration_s:.1f} s of source time; "
                f"{'; '.join(kept) if kept else 'no logs kept'}")


def _keeps_data(settings: RunSettings) -> bool:
    """True when the run writes what it reads somewhere: a log, a video or an LSL stream (the window's red dot)."""
    return settings.log_dir is not None or settings.save_video is not None or settings.lsl


def _summary(run: Run, settings: RunSettings, ended: Ended) -> RunSummary:
    counts = run.counts
    # The last frame's time plus its own length: a 360-frame clip at 30 fps lasts 12.0 s.
    duration_s = counts.last_t_s + 1.0 / max(1.0, run.source.fps) if counts.logged else 0.0
    stopped = ended.reason if ended.status is SessionStatus.ABORTED else None
    return RunSummary(counts.logged, counts.with_face, duration_s, run.context.log_folder, settings.save_video, settings.lsl,
                      stopped)


def run_mirror(settings: RunSettings, mode: Mode | None = None, source: Source | None = None,
               start_notices: tuple[str, ...] = (), pipeline_factory: PipelineFactory = Pipeline,
               on_summary: Callable[[RunSummary], None] | None = None) -> int:
    """Run to the end of the source or a stop; returns the exit code (1 when the disk filled or the run failed).

    `pipeline_factory` makes the run's Pipeline (the benchmark passes one that times its stages);
    `on_summary` is given the run's summary once it is closed (the command line prints it)."""
    mode = mode or Mode()
    model = resolve_model(settings.model)
    with SignalGuard() as signals:
        with ExitStack() as window:
            with ExitStack() as stack:
                # Closed in reverse: the logs first (their closing lines), then the video, the model and
                # the source; the window last, after the mode's last screen (a study's thank-you).
                source = source or open_source(settings.source, settings.duration_s, settings.realtime, settings.loop)
                stack.callback(source.close)
                run, session_info = _open_run(settings, mode, source, model, stack, pipeline_factory, window)
                ended = _run(run, settings, session_info, start_notices, signals)
            _last_screen(run, ended, signals)
        finished_whole = _after_records(run, ended, signals)
    for notice in run.context.notices + run.notices + list(run.source.notices):
        print(f"notice: {notice}", file=sys.stderr)
    if on_summary is not None and ended.error is None:
        on_summary(_summary(run, settings, ended))
    if ended.error is not None:
        raise ended.error
    disk_full = ended.status is SessionStatus.ABORTED and ended.reason == "disk full"
    return 1 if disk_full or not finished_whole else 0


def _open_run(settings: RunSettings, mode: Mode, source: Source, model: ModelFile, stack: ExitStack,
              pipeline_factory: PipelineFactory = Pipeline, window: ExitStack | None = None) -> tuple[Run, dict]:
    from avatar.portrait import PortraitRenderer, load_portrait_face, make_renderer
    from avatar.portrait_self import portrait_spec_for

    set_ui_scale(settings.ui_scale)
    # A bad style or portrait photo fails here, before any window opens.
    self_portrait = portrait_spec_for(settings.avatar, settings.self_similarity)
    if self_portrait is None:
        renderer = make_renderer(settings.avatar, model)
    else:
        base_face = load_portrait_face(self_portrait[0], model)
        renderer = PortraitRenderer(self_portrait[0], model, face=base_face)
    display = Display(settings.size, settings.headless, settings.fullscreen, screen=settings.screen)
    (window or stack).callback(display.close)
    columns = contract.frame_columns(mode.columns)
    sinks = Sinks(columns)
    pipeline = pipeline_factory(model, PipelineSettings(settings.empathy, settings.seed, settings.calibrate_s,
                                                         mode.needs_landmarks or self_portrait is not None),
                        emit=sinks.event)
    stack.callback(pipeline.close)
    recorder = None
    if settings.save_video:
        recorder = VideoRecorder(settings.save_video, source.fps, display.surface.get_size(), settings.overwrite)
        stack.callback(recorder.close)
    if settings.virtual_camera is not None:  # a frame consumer like the mp4: each presented frame
        from avatar.virtual_camera import FrameTee, VirtualCamera

        camera = VirtualCamera(display.surface.get_size(), source.fps, settings.virtual_camera)
        stack.callback(camera.close)
        recorder = camera if recorder is None else FrameTee(recorder, camera)
    stack.callback(sinks.close)
    lab_markers, lab_recorder = _open_lsl(settings, source, mode, columns, sinks, stack) if settings.lsl else (None, None)
    log_folder = None
    session_info = _session_info(settings, source, model, mode)
    if settings.log_dir is not None:
        log = SessionLog.create(settings.log_dir, _session_name(mode, source), [c.name for c in columns])
        sinks.add(LogSink(log, session_info))
        log_folder = log.folder
    context = RunContext(sinks, pipeline, renderer, windowed=not settings.headless, log_folder=log_folder)
    if settings.vmc is not None:
        from avatar.vmc import VmcSink

        sinks.add(VmcSink(settings.vmc, notice=context.notice))
    inputs = ()
    if settings.osc_in is not None:
        from avatar.osc_in import OscControlInput

        inputs = (stack.enter_context(contextlib.closing(OscControlInput(settings.osc_in, notice=context.notice))),)
    chat = None
    if settings.chat is not None and not settings.headless:
        from avatar.chat.overlay import ChatOverlay

        chat = ChatOverlay(settings.chat, sinks.event, settings.chat_opens_on_typing, settings.speak)
        stack.callback(chat.close)
    presenter = Presenter(display, renderer, mode, context,
                          PresentSettings(source.description, settings.show_status, settings.calibrate_s,
                                          settings.screenshot, settings.screenshot_at_s, settings.overwrite,
                                          recording=_keeps_data(settings)),
                          recorder=recorder, overlay=chat)
    if self_portrait is not None:
        from avatar.portrait_self import SelfPortrait

        visitor_face = SelfPortrait(renderer, base_face, dataclasses.replace(self_portrait[1], in_background=not settings.headless),
                                    context.emit)
        stack.callback(visitor_face.close)
        presenter.follow_visitor(visitor_face)
    run = Run(source, pipeline, sinks, mode, context, presenter, settings.max_frames, settings.debug,
              lab_markers=lab_markers, lab_recorder=lab_recorder, chat=chat, inputs=inputs)
    return run, session_info


@dataclass(frozen=True)
class Ended:
    """How a run ended: its status and reason as the records say, and an unexpected error to report."""

    status: SessionStatus
    reason: str
    error: BaseException | None = None


def _run(run: Run, settings: RunSettings, session_info: dict, start_notices: tuple[str, ...], signals: SignalGuard) -> Ended:
    status, reason, last_t, error = SessionStatus.FINISHED, "end of source", 0.0, None
    try:
        if run.lab_recorder is not None:  # --wait-for-recorder, --labrecorder: the recording gets session_start
            run.lab_recorder.meet(_say, None if settings.headless else _waiting_caption(run))
        run.context.emit(0.0, SessionStart(run.source.description, __version__, run.mode.name))
        if not settings.headless and not run.mode.shows_cursor:
            run.presenter.display.pygame.mouse.set_visible(False)
        run.mode.on_start(run.context)
        for notice in start_notices:
            print(f"notice: {notice}", file=sys.stderr)
        last_t = run_headless(run, overlap=settings.overlap_threads) if settings.headless else WindowRunner(run).loop()
        reason = run.mode.finished_reason() or reason
    except StopRequested as stop:
        status, reason = SessionStatus.ABORTED, stop.reason
    except KeyboardInterrupt:
        status, reason = SessionStatus.ABORTED, "SIGINT"
    except DiskFullError as exc:
        status, reason = SessionStatus.ABORTED, "disk full"
        run.notices.append(str(exc))
    except Exception as exc:  # the records say the run failed, and why; the CLI then says it in one line
        status, reason, error = SessionStatus.ABORTED, f"error: {type(exc).__name__}: {first_line(exc)}"[:300], exc
    finally:
        # From here a signal is only remembered: the closing lines are written whole.
        signals.defer()
        # A stop mid-frame leaves `last_t` unset; the last logged row's time is the truth.
        _end(run, status, reason, max(last_t, run.counts.last_t_s))
    return Ended(status, reason, error)


def _say(text: str) -> None:
    """A notice now, not at the end of the run (the person at the recorder needs it while the run waits)."""
    print(f"notice: {text}", file=sys.stderr, flush=True)


def _waiting_caption(run: Run):
    """While the session waits for the recorder, the window shows it and still takes Esc, q and its close box."""
    display, renderer = run.presenter.display, run.presenter.renderer
    pygame = display.pygame

    def show(remaining_s: float) -> None:
        for event in pygame.event.get():
            if event.type == pygame.QUIT and run.mode.window_close_quits:
                raise StopRequested("window closed")
            if event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q):
                raise StopRequested("quit key")
        renderer.draw(display.surface, caption=say("notices.waiting_for_recorder", seconds=f"{remaining_s:.0f}"))
        display.present()

    return show


def _end(run: Run, status: SessionStatus, reason: str, last_t: float) -> None:
    mode_info = {}
    try:
        mode_info = run.mode.on_end(run.context, status, reason)
    except Exception as exc:  # a mode's failure must not lose the session's closing lines
        run.notices.append(f"{run.mode.name} mode could not finish: {type(exc).__name__}: {exc}")
    for control_input in run.inputs:  # --osc-in: what came in and what was refused, in session.json
        mode_info = {**mode_info, **control_input.session_info()}
    if run.lab_markers is not None:  # --lsl: what became of the lab's markers
        mode_info = {**mode_info, **run.lab_markers.session_info()}
    if run.lab_recorder is not None:  # --wait-for-recorder, --labrecorder: how the recorder was met
        mode_info = {**mode_info, **run.lab_recorder.session_info()}
    run.notices.extend(run.sinks.end(status, reason, last_t, run.counts.presented, mode_info))


def _last_screen(run: Run, ended: Ended, signals: SignalGuard) -> None:
    """The mode's last screen, once the records are closed and on disk (pulling the plug now loses
    nothing); a signal ends it, and is kept for _after_records as before."""
    if not run.context.windowed:
        return
    try:
        hold_s = run.mode.last_screen_s(run.context, ended.status)
        if hold_s is not None and hold_s > 0:
            shown_s = hold_last_screen(run, hold_s, lambda: signals.deferred is not None)
            run.notices.append(f"the last screen stayed {shown_s:.1f} s")
    except Exception as exc:  # the records are complete: a failing last screen only ends sooner
        run.notices.append(f"{run.mode.name} mode's last screen failed: {type(exc).__name__}: {first_line(exc)}")


def _after_records(run: Run, ended: Ended, signals: SignalGuard) -> bool:
    """Work on the closed, final records (a study's report); a signal now skips it, as one before did.
    False when the disk filled during it (the run then exits non-zero)."""
    try:
        signals.resume()
        run.mode.after_records(run.context, ended.status)
    except StopRequested as stop:
        run.notices.append(f"{stop.reason}: {run.mode.name} mode's last step skipped; the records are complete")
    except Exception as exc:
        if isinstance(exc, DiskFullError) or (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)):
            run.notices.append(f"disk full: {run.mode.name} mode's last step not written; the records are complete")
            return False
        run.notices.append(f"{run.mode.name} mode could not finish: {type(exc).__name__}: {first_line(exc)}")
    return True
