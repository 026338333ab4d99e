"""`python -m cli` runs the `stance` command."""

from cli.main import console

console()
