"""`python -m training` runs the `stance` command (an alias of `python -m cli`)."""

from cli.main import console

console()
