"""What tests share besides fixtures: the tiny labelled corpus, a trainer for it, and service
limits small enough to cross cheaply. Imported by conftest.py and by test modules (which import
no other test module, and not conftest.py itself)."""

from __future__ import annotations

from pathlib import Path

from training.train import TrainConfig, train

FIXTURES = Path(__file__).parent / "fixtures"
TINY_CSV = FIXTURES / "tiny.csv"

# Limits small enough that tests can cross them cheaply.
TEST_LIMITS = {
    "MAX_TEXTS": 5,
    "MAX_CHARS": 200,
    "MAX_JSON_BYTES": 20_000,
    "MAX_CSV_BYTES": 50_000,
}


def train_tiny(model_dir: Path, data: Path = TINY_CSV) -> str:
    """Train on the tiny corpus into `model_dir`; returns the new (current) version."""
    config = TrainConfig(
        data=data, model_dir=model_dir, quality_floor=0.0, gate=None, folds=3, n_jobs=1
    )
    return train(config, say=lambda _: None).version
