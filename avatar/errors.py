"""Named errors that library code raises and only the CLI turns into a one-line message.

Each message names the file, flag or key at fault, so the CLI can print it as it is.
"""


class AvatarError(Exception):
    """Base for every error a user can cause or fix; the CLI prints it in one line."""


class SourceError(AvatarError):
    """A video, image or camera that cannot be opened or read."""


class ModelError(AvatarError):
    """The face model file is missing, corrupt or not a model."""


class ConfigError(AvatarError):
    """A command-line value, config or protocol TOML that is wrong."""


class LogError(AvatarError):
    """A log folder that cannot be created or written."""


class DisplayError(AvatarError):
    """No display to open a window on."""


def first_line(exc: BaseException) -> str:
    """A native library's exception as one line for our messages (its first line, or its type)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class CliError(ConfigError):
    """A command-line value that is wrong: the CLI prints it in one line and exits with code 2."""


class StopRequested(Exception):
    """A signal, a key or the window asked the run to stop; `reason` says which. Not an error."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
