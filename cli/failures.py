"""Exit codes of the `stance` command and the failure a command reports as one clean line."""

from __future__ import annotations

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class CommandFailed(Exception):
    """An expected failure of a command; `main` prints it as `stance COMMAND: error: ...`."""
