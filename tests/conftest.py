"""Shared fixtures: a tiny labelled corpus and a model trained on it once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tiny_model import TEST_LIMITS, TINY_CSV, train_tiny

from model.store import LoadedModel, ModelStore
from service import create_app


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
