"""The README documents every command a user can run."""

import re
from pathlib import Path

import pytest

from cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TARGETS = re.findall(r"^([a-z][a-z-]*):.*## ", (ROOT / "Makefile").read_text(), re.M)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_stance_subcommand_is_in_the_readme(command):
    """Each `stance` subcommand appears in the README as `stance <command>`."""
    assert f"stance {command}" in README


@pytest.mark.parametrize("target", TARGETS)
def test_every_make_target_is_in_the_readme(target):
    """Each documented Makefile target appears in the README as `make <target>`."""
    assert f"make {target}" in README


def test_the_readme_shows_the_two_first_commands():
    """A newcomer finds `make serve` and `make test` in the quick start."""
    quick_start = README.split("## Quick start", 1)[1].split("## ", 1)[0]
    assert "make serve" in quick_start and "make test" in quick_start
