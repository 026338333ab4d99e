"""The model a service process serves, and the swap to a new one that never drops the old."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from model.errors import ModelError
from model.store import LoadedModel, ModelStore

log = logging.getLogger("stance.service")


class ModelHolder:
    """Holds one verified `LoadedModel`; `reload` replaces it only with another verified one."""

    def __init__(self, model_dir: Path | str | None, version: str | None = None) -> None:
        self.store = ModelStore(model_dir)
        self._lock = threading.Lock()
        self._model: LoadedModel = self.store.load(version)
        log.info("serving model %s from %s", self._model.version, self.store.root)

    @property
    def model(self) -> LoadedModel:
        return self._model

    def reload(self, version: str | None = None) -> bool:
        """Load `version` (default: current); on any failure keep serving the old model."""
        try:
            candidate = self.store.load(version)
        except ModelError as exc:
            log.error("reload refused, still serving %s: %s", self._model.version, exc)
            return False
        with self._lock:
            previous, self._model = self._model, candidate
        log.info("reloaded: now serving model %s (was %s)", candidate.version, previous.version)
        return True
