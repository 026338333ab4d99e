"""Shared fixtures: a tiny labelled corpus and a model trained on it once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from model.store import LoadedModel, ModelStore
from service import create_app
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


@pytest.fixture(scope="session")
def tiny_csv() -> Path:
    return TINY_CSV


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory whose current model was trained on the tiny corpus (read-only use)."""
    directory = tmp_path_factory.mktemp("models")
    train_tiny(directory)
    return directory


@pytest.fixture(scope="session")
def loaded_model(model_dir: Path) -> LoadedModel:
    return ModelStore(model_dir).load()


@pytest.fixture()
def app(model_dir: Path) -> Iterator[Flask]:
    application = create_app({"MODEL_DIR": str(model_dir), "TESTING": True, **TEST_LIMITS})
    yield application


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()
