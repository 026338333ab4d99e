"""`python -m training` runs the `stance` command."""

from training.cli import console

console()
