"""The `stance` command's edge: scoring and metadata never load the training package."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", ["cli.main", "cli.score", "cli.info"])
def test_the_score_and_info_path_loads_no_training_module(module):
    """Importing the CLI (parser, dispatch, `score`, `info`) loads no `training` module: the
    training commands import it only when they run."""
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m == 'training' or m.startswith('training.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert "[]" == result.stdout.strip()
