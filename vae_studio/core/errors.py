"""Exceptions the core raises for conditions a user can act on.

Every one carries a message written for a person, so the CLI and the window can show
``str(error)`` as it is, without a traceback.
"""


class VaeStudioError(Exception):
    """Base class: something the user can fix or should know about."""

    #: process exit status the CLI uses for this kind of error
    exit_code = 1

    def __init__(self, message: str = "", *, window_text: str | None = None):
        super().__init__(message)
        #: the same error as a window user should read it, where the remedy differs (a menu, not a flag)
        self.window_text = window_text or message


def for_window(exc: BaseException) -> str:
    """An error's text as the window shows it."""
    return getattr(exc, "window_text", None) or str(exc)


class ConfigError(VaeStudioError, ValueError):
    """A setting is out of range or inconsistent with another."""

    exit_code = 2


class DataError(VaeStudioError):
    """A dataset is missing, unreadable or malformed."""

    exit_code = 2


class CheckpointError(VaeStudioError):
    """A checkpoint file is missing, corrupt, foreign, unsafe or from a newer version."""

    exit_code = 2


class OutputError(VaeStudioError):
    """An output file cannot be written there (a folder in its place, no permission, too long a name)."""

    exit_code = 2


class TrainingError(VaeStudioError):
    """Training had to stop (non-finite loss, out of memory)."""


class NonFiniteLossError(TrainingError):
    """A loss term became NaN or infinite; the last good weights were restored."""

    def __init__(self, message: str, term: str, step: int):
        super().__init__(message)
        self.term = term
        self.step = step
