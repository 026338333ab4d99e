"""Expected failures of the model layer, each with a message a user can act on.

A message that names a scoring option holds it as an `Option`, not as text: the command line
spells it `--encoding cp1252`, the HTTP API `?encoding=cp1252`, and each edge renders the
message with its own spelling (`ModelError.render`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """A scoring option named in a message: `name` as in `score_file` (`text_column`), and
    optionally an example value."""

    name: str
    value: str | None = None


OptionSpelling = Callable[[Option], str]


def command_line_spelling(option: Option) -> str:
    """`--text-column`, `--encoding cp1252`: how `stance score` and the library docs name it."""
    flag = "--" + option.name.replace("_", "-")
    return flag if option.value is None else f"{flag} {option.value}"


class ModelError(Exception):
    """Base class for model errors that the edges (CLI, HTTP) turn into clean messages.

    The message is text and `Option` parts; `options` names the options it mentions, and
    `str()` spells them as on the command line.
    """

    def __init__(self, *parts: str | Option) -> None:
        self.parts = parts
        super().__init__(self.render(command_line_spelling))

    @property
    def options(self) -> tuple[str, ...]:
        return tuple(part.name for part in self.parts if isinstance(part, Option))

    def render(self, spell: OptionSpelling) -> str:
        """The message with each option spelled by `spell`."""
        return "".join(part if isinstance(part, str) else spell(part) for part in self.parts)


class ModelNotFoundError(ModelError):
    """No model (or not the requested version) exists in the model directory."""


class ModelIntegrityError(ModelError):
    """An artifact is missing, truncated, corrupt or does not match its recorded hash."""


class ModelCompatibilityError(ModelError):
    """An artifact was written with library versions other than the installed ones."""


class InputTextError(ModelError, ValueError):
    """A text given for scoring is not a string."""


class BatchInputError(ModelError):
    """The input cannot be read as the format it claims; the message names the line."""


class BatchInterrupted(Exception):
    """A run was stopped (Ctrl-C, SIGTERM, SIGHUP); nothing was written under the output name.
    Not a `ModelError`: the edges report it as an interruption, not as a failure."""
