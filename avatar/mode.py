"""How a mode (exhibit, classroom, study) plugs into a run: the `Mode` hooks and the narrow context they get.

The runners (runners.py) call the hooks; a mode never sees the session. It may emit events, send
commands to the empathy model, leave notices, and draw on the surface it is handed with the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from avatar.contract import Column
from avatar.empathy import EmpathySettings, ModelCommand
from avatar.events import Event, SessionStatus
from avatar.outcome import Frame, FrameOutcome
from avatar.rig import Controls


@dataclass(frozen=True)
class KeyPress:
    """A key pressed in the window: pygame's key code and the character it typed ('' for none)."""

    key: int
    char: str = ""


@dataclass(frozen=True)
class PointerPress:
    """A click or a touch in the window, as fractions of its width and height from the top left (0-1)."""

    x_frac: float
    y_frac: float
    device: str = "mouse"  # mouse | touch


class AvatarPainter(Protocol):
    """What draws the avatar (render.AvatarRenderer): onto a surface, with an optional caption."""

    def draw(self, surface: Any, controls: Controls, caption: str | None = None) -> None: ...


class ModeContext(Protocol):
    """What a mode may use. Hooks marked [respond] run in the thread that answers frames, in order;
    [present] in the one that draws; [main] in the main thread. Every method is safe from any of them."""

    def emit(self, t_s: float | None, event: Event) -> None:
        """Log the event and send it as an LSL marker."""

    def send(self, command: ModelCommand) -> None:
        """Change the empathy model; applied in order before the next frame is answered."""

    def model_settings(self) -> EmpathySettings:
        """The model's settings once every command sent so far has been applied."""

    def notice(self, text: str) -> None:
        """A line said on the terminal when the run ends."""

    @property
    def painter(self) -> AvatarPainter: ...

    @property
    def camera_lost(self) -> bool: ...

    @property
    def windowed(self) -> bool:
        """True in a real window (keys, a mouse); False headless."""

    @property
    def log_folder(self) -> Path | None: ...


class Mode:
    """The hooks by which a mode shapes a run; the plain mirror uses none of them."""

    name = "mirror"
    window_close_quits = True  # an unattended exhibit ignores a visitor's Alt-F4
    shows_cursor = True
    needs_landmarks = False  # the face reader copies all 478 points only when a mode draws them
    columns: tuple[Column, ...] = ()  # this mode's own frames.csv columns, read from its ModeFrame

    def session_name(self) -> str | None:
        """[main] The log folder's name; None for the default."""
        return None

    def session_info(self) -> dict[str, Any]:
        """[main] Keys this mode adds to session.json at the start."""
        return {}

    def on_start(self, context: ModeContext) -> None:
        """[main] After the window and logs are open, before the first frame."""

    def before_frame(self, context: ModeContext, frame: Frame) -> bool:
        """[respond] Before a frame is answered; return False to end the run normally."""
        return True

    def after_frame(self, context: ModeContext, outcome: FrameOutcome) -> FrameOutcome:
        """[respond] After a frame is answered: the outcome as this mode shows and logs it."""
        return outcome

    def draw(self, context: ModeContext, surface: Any, outcome: FrameOutcome | None, controls: Controls) -> bool:
        """[present] Draw the whole view; return False to let the plain avatar be drawn."""
        return False

    def on_key(self, context: ModeContext, key: KeyPress) -> bool:
        """[main] A key in the window; return True if the mode used it."""
        return False

    def on_pointer(self, context: ModeContext, press: PointerPress) -> bool:
        """[main] A left click or a touch in the window; return True if the mode used it."""
        return False

    def on_pointer_drag(self, context: ModeContext, press: PointerPress) -> bool:
        """[main] The pointer moved while the left button or the finger that went down stays down
        (a slider follows it); return True if the mode used it."""
        return False

    def on_pointer_release(self, context: ModeContext, press: PointerPress) -> bool:
        """[main] The left button or the finger came up; return True if the mode used it."""
        return False

    def on_line(self, context: ModeContext, line: str) -> None:
        """[main] A line typed into the chat and sent (in a window with the chat on)."""

    def on_control(self, context: ModeContext, name: str, value: Any) -> bool:
        """[main] A control from outside that is not the model's (OSC: `attract_text`); return True
        if the mode used it (the caller then logs it as a `control` event)."""
        return False

    def finished_reason(self) -> str | None:
        """[respond] Why the mode ended the run (for session_end), once before_frame said False."""
        return None

    def on_end(self, context: ModeContext, status: SessionStatus, reason: str) -> dict[str, Any]:
        """[main] After the last frame, before the logs close: keys to add to session.json."""
        return {}

    def after_records(self, context: ModeContext, status: SessionStatus) -> None:
        """[main] After session.json is final and the logs are closed (e.g. build a report from them).
        A signal now stops this step only; `context.emit` writes nothing any more."""

    def last_screen_s(self, context: ModeContext, status: SessionStatus) -> float | None:
        """[main] After the records are closed, in a window: how long a last screen (a study's thank-you)
        stays up, in seconds (math.inf: until Enter or Esc); None for none. Drawn by draw_last_screen."""
        return None

    def draw_last_screen(self, context: ModeContext, surface: Any, left_s: float) -> None:
        """[main] The last screen, drawn while it stays up; `left_s` until it closes by itself (math.inf: never)."""
