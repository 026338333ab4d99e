"""Versioned model artifacts: write a version atomically, switch `current`, load with checks.

Layout of a model directory (default `model/artifacts/`, or `$STANCE_MODEL_DIR`):

    <version>/model.joblib     the fitted estimator (joblib; loading it runs code)
    <version>/metadata.json    provenance: hashes, library versions, data, metrics
    <version>/MODEL_CARD.md    the human-readable card
    current -> <version>       a symlink, replaced atomically

Models are only ever loaded from this directory, by version name, from a real directory (not
a symlink), after the artifact format, the recorded library versions and the joblib file's
sha256 have been checked. The bytes that are hashed are the bytes that are unpickled: the file
is read once, so it cannot be swapped between the check and the load.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import platform
import re
import shutil
import stat
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy
import scipy
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from model.classifier import StanceSentimentModel
from model.errors import ModelCompatibilityError, ModelIntegrityError, ModelNotFoundError

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
CARD_FILE = "MODEL_CARD.md"
CURRENT = "current"
FORMAT_VERSION = 1
_VERSION_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$")
RETRAIN_HINT = "run `make train` to build a model with the installed libraries"


def default_model_dir() -> Path:
    """`$STANCE_MODEL_DIR` if set, else `model/artifacts/` next to this package."""
    configured = os.environ.get("STANCE_MODEL_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent / "artifacts"


def library_versions() -> dict[str, str]:
    """The versions that must match between training and loading."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_regular_file(path: Path) -> bytes:
    """The bytes of `path`, which must be a regular file and not a symlink."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError as exc:
        raise ModelIntegrityError(f"{path} is missing; {RETRAIN_HINT}") from exc
    except OSError as exc:  # ELOOP: a symlink
        if path.is_symlink():
            raise ModelIntegrityError(
                f"{path} is a symlink; a model file must be the file training wrote"
            ) from exc
        raise ModelIntegrityError(f"{path} cannot be read ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ModelIntegrityError(f"{path} is not a regular file; {RETRAIN_HINT}")
        return handle.read()


def new_version_name(now: datetime | None = None) -> str:
    """A sortable, unique version name: UTC timestamp plus six random hex digits."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{os.urandom(3).hex()}"


def is_version_name(name: str) -> bool:
    return bool(_VERSION_NAME.match(name))


@dataclass(frozen=True)
class LoadedModel:
    """A verified model and its metadata; `predict` and `explain` delegate to the estimator."""

    estimator: StanceSentimentModel
    metadata: dict[str, Any]
    path: Path

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    def predict(self, texts: list[str]) -> list[dict[str, dict[str, Any]]]:
        return self.estimator.predict(texts)

    def predict_proba(self, texts: list[str]) -> Any:
        return self.estimator.predict_proba(texts)

    def explain(self, text: str, k: int = 5) -> dict[str, dict[str, Any]]:
        return self.estimator.explain(text, k)


class ModelStore:
    """The versions in one model directory."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_model_dir()

    # -- reading -------------------------------------------------------------------------

    def versions(self) -> list[str]:
        """Complete version directories, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and not p.is_symlink() and is_version_name(p.name)
        )

    def current_version(self) -> str | None:
        link = self.root / CURRENT
        if not link.is_symlink():
            return None
        target = os.readlink(link)
        return target if is_version_name(target) else None

    def version_dir(self, version: str) -> Path:
        """The directory of `version`: a version name, and a real directory in the root."""
        if not is_version_name(version):
            raise ModelNotFoundError(
                f"{version!r} is not a model version name (expected e.g. 20260101T120000Z-a1b2c3)"
            )
        path = self.root / version
        if path.is_symlink():
            raise ModelIntegrityError(
                f"{path} is a symlink; a model version must be a directory that training "
                f"wrote in {self.root}"
            )
        if not path.is_dir():
            raise ModelNotFoundError(f"model version {version} does not exist in {self.root}")
        return path

    def read_metadata(self, version: str | None = None) -> dict[str, Any]:
        path = self.version_dir(version or self._require_current()) / METADATA_FILE
        try:
            metadata = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelIntegrityError(f"{path} is missing; {RETRAIN_HINT}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelIntegrityError(f"{path} is not valid JSON ({exc}); {RETRAIN_HINT}") from exc
        if not isinstance(metadata, dict) or "sha256" not in metadata:
            raise ModelIntegrityError(f"{path} lacks the model's sha256; {RETRAIN_HINT}")
        return metadata

    def verify(self, version: str | None = None) -> dict[str, Any]:
        """Check `version` (default: current) without unpickling it: artifact format, library
        versions and the joblib file's sha256. Returns its metadata. Cheap enough for the
        gunicorn master to run before it lets workers load a model."""
        version = version or self._require_current()
        metadata = self._checked_metadata(version)
        self._check_hash(self.version_dir(version) / MODEL_FILE, metadata)
        return metadata

    def load(self, version: str | None = None) -> LoadedModel:
        """Load `version` (default: current) after the checks of `verify`, unpickling the
        very bytes that were hashed."""
        version = version or self._require_current()
        metadata = self._checked_metadata(version)
        directory = self.version_dir(version)
        model_path = directory / MODEL_FILE
        data = self._check_hash(model_path, metadata)
        estimator = self._unpickle(data, model_path)
        return LoadedModel(estimator=estimator, metadata=metadata, path=directory)

    def _checked_metadata(self, version: str) -> dict[str, Any]:
        metadata = self.read_metadata(version)
        found = metadata.get("format_version")
        if found != FORMAT_VERSION:
            raise ModelCompatibilityError(
                f"model {version} has artifact format {found!r}; this code reads format "
                f"{FORMAT_VERSION}; {RETRAIN_HINT}"
            )
        self._check_libraries(metadata, version)
        return metadata

    @staticmethod
    def _check_hash(model_path: Path, metadata: dict[str, Any]) -> bytes:
        """The file's bytes, once their sha256 matches the recorded one."""
        data = read_regular_file(model_path)
        actual = hashlib.sha256(data).hexdigest()
        if actual != metadata["sha256"]:
            raise ModelIntegrityError(
                f"{model_path} does not match its recorded sha256 (expected "
                f"{str(metadata['sha256'])[:12]}..., found {actual[:12]}...): the file was "
                f"changed, truncated or swapped; {RETRAIN_HINT}"
            )
        return data

    def _require_current(self) -> str:
        current = self.current_version()
        if current is None:
            raise ModelNotFoundError(f"no current model in {self.root}; run `make train` first")
        return current

    @staticmethod
    def _check_libraries(metadata: dict[str, Any], version: str) -> None:
        recorded = metadata.get("libraries", {})
        installed = library_versions()
        mismatched = [
            f"{name} {recorded.get(name)} (installed {installed[name]})"
            for name in ("scikit-learn", "numpy", "scipy", "joblib")
            if recorded.get(name) != installed[name]
        ]
        if mismatched:
            raise ModelCompatibilityError(
                f"model {version} was trained with " + ", ".join(mismatched) + f"; {RETRAIN_HINT}"
            )

    @staticmethod
    def _unpickle(data: bytes, path: Path) -> StanceSentimentModel:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", InconsistentVersionWarning)
                estimator = joblib.load(io.BytesIO(data))
        except InconsistentVersionWarning as exc:
            raise ModelCompatibilityError(f"{path}: {exc}; {RETRAIN_HINT}") from exc
        except Exception as exc:  # a hash-verified file that still fails to unpickle
            raise ModelIntegrityError(
                f"{path} could not be loaded ({exc}); {RETRAIN_HINT}"
            ) from exc
        if not isinstance(estimator, StanceSentimentModel):
            raise ModelIntegrityError(
                f"{path} holds a {type(estimator).__name__}, not a stance model"
            )
        return estimator

    # -- writing -------------------------------------------------------------------------

    def save(
        self,
        estimator: StanceSentimentModel,
        metadata: dict[str, Any],
        card: str,
        version: str | None = None,
    ) -> str:
        """Write a complete version directory (staged, fsynced, then renamed into place).

        `metadata` is completed with the version, creation time, library versions and the
        joblib file's sha256. Returns the version name. Does not switch `current`.
        """
        version = version or new_version_name()
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".staging-{version}"
        try:
            staging.mkdir()
            model_path = staging / MODEL_FILE
            joblib.dump(estimator, model_path)
            full = {
                "format_version": FORMAT_VERSION,
                "version": version,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **metadata,
                "libraries": library_versions(),
                "sha256": sha256_file(model_path),
                "size_bytes": model_path.stat().st_size,
            }
            (staging / METADATA_FILE).write_text(
                json.dumps(full, indent=2) + "\n", encoding="utf-8"
            )
            (staging / CARD_FILE).write_text(card.replace("{version}", version), encoding="utf-8")
            for path in staging.iterdir():
                _fsync(path)
            os.rename(staging, self.root / version)
            _fsync(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return version

    def promote(self, version: str) -> None:
        """Point `current` at `version` with one atomic rename of a fresh symlink."""
        self.version_dir(version)
        temporary = self.root / f".current-{os.getpid()}-{os.urandom(2).hex()}"
        os.symlink(version, temporary)
        try:
            os.replace(temporary, self.root / CURRENT)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        _fsync(self.root)

    def clean_staging(self) -> list[str]:
        """Remove staging folders left by interrupted runs; returns their names."""
        removed = []
        if self.root.is_dir():
            for path in self.root.glob(".staging-*"):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
