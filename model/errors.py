"""Expected failures of the model layer, each with a message a user can act on."""


class ModelError(Exception):
    """Base class for model errors that the edges (CLI, HTTP) turn into clean messages."""


class ModelNotFoundError(ModelError):
    """No model (or not the requested version) exists in the model directory."""


class ModelIntegrityError(ModelError):
    """An artifact is missing, truncated, corrupt or does not match its recorded hash."""


class ModelCompatibilityError(ModelError):
    """An artifact was written with library versions other than the installed ones."""


class InputTextError(ModelError, ValueError):
    """A text given for scoring is not a string."""
