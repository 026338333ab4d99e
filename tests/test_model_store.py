"""Versioned artifacts: atomic writes, the current switch, and checks before loading."""

import json
import os
import shutil
from pathlib import Path

import pytest

from model.classifier import StanceSentimentModel
from model.errors import ModelCompatibilityError, ModelIntegrityError, ModelNotFoundError
from model.store import CURRENT, METADATA_FILE, MODEL_FILE, ModelStore, is_version_name


@pytest.fixture()
def store(model_dir: Path, tmp_path: Path) -> ModelStore:
    """A private copy of the session model directory, safe to damage."""
    copy = tmp_path / "models"
    shutil.copytree(model_dir, copy, symlinks=True)
    return ModelStore(copy)


def current_dir(store: ModelStore) -> Path:
    return store.root / store.current_version()


def test_a_version_holds_model_metadata_and_card(store):
    """Each version directory has the joblib file, metadata.json and MODEL_CARD.md."""
    assert {"model.joblib", "metadata.json", "MODEL_CARD.md"} == {
        p.name for p in current_dir(store).iterdir()
    }


def test_metadata_records_provenance(store):
    """Metadata has hashes, library versions, data counts, parameters and CV metrics."""
    metadata = store.read_metadata()
    for key in (
        "version",
        "created_at",
        "git_commit",
        "sha256",
        "libraries",
        "training_data",
        "params",
        "cv_metrics",
    ):
        assert key in metadata
    assert {"python", "scikit-learn", "numpy", "scipy", "joblib"} == set(metadata["libraries"])
    assert 36 == metadata["training_data"]["rows"]
    assert {"support": 12, "oppose": 12, "neutral": 12} == metadata["training_data"]["counts"][
        "stance"
    ]


def test_model_card_names_the_version(store):
    """The card's title carries the real version name, not a placeholder."""
    card = (current_dir(store) / "MODEL_CARD.md").read_text()
    assert f"version {store.current_version()}" in card.splitlines()[0]


def test_current_is_a_symlink_to_a_version_name(store):
    """`current` is a relative symlink naming a version directory."""
    link = store.root / CURRENT
    assert link.is_symlink() and is_version_name(os.readlink(link))


def test_load_returns_the_current_version(store):
    """Loading without a version gives the current model, with its metadata."""
    model = store.load()
    assert store.current_version() == model.version


def test_promote_switches_current_atomically_and_leaves_no_temporaries(store, loaded_model):
    """promote replaces `current` in one rename; no temporary link stays behind."""
    first = store.current_version()
    second = store.save(loaded_model.estimator, {"note": "copy"}, "card {version}")
    assert first == store.current_version()  # saving alone does not switch
    store.promote(second)
    assert second == store.current_version()
    assert [] == [p.name for p in store.root.iterdir() if p.name.startswith(".")]


def test_failed_save_leaves_no_version_and_no_staging(store, loaded_model, monkeypatch):
    """A crash while writing a version removes the staging folder; current is untouched."""
    before = (store.current_version(), store.versions())

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("model.store.joblib.dump", explode)
    with pytest.raises(KeyboardInterrupt):
        store.save(loaded_model.estimator, {}, "card")
    assert before == (store.current_version(), store.versions())
    assert [] == list(store.root.glob(".staging-*"))


def test_truncated_model_file_is_refused(store):
    """A truncated joblib file fails the hash check with a message that says to retrain."""
    path = current_dir(store) / MODEL_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(
        ModelIntegrityError, match=r"does not match its recorded sha256.*run `make train`"
    ):
        store.load()


def test_swapped_model_file_is_refused(store):
    """A model file swapped for another valid model fails the hash check."""
    texts = ["join now", "never join", "meeting today"]
    other = StanceSentimentModel(char_ngram_range=None, use_vader=False).fit(
        texts, ["support", "oppose", "neutral"], ["positive", "negative", "neutral"]
    )
    version = store.save(other, {}, "card")
    shutil.copy(store.root / version / MODEL_FILE, current_dir(store) / MODEL_FILE)
    with pytest.raises(ModelIntegrityError, match="sha256"):
        store.load()


def test_missing_model_file_is_refused(store):
    """A version without its joblib file is an integrity error."""
    (current_dir(store) / MODEL_FILE).unlink()
    with pytest.raises(ModelIntegrityError, match="is missing"):
        store.load()


def test_corrupt_metadata_is_refused(store):
    """Unparseable metadata is an integrity error naming the file."""
    (current_dir(store) / METADATA_FILE).write_text("{not json")
    with pytest.raises(ModelIntegrityError, match="is not valid JSON"):
        store.load()


def test_other_library_versions_are_refused(store):
    """A model recorded with another scikit-learn version is refused before unpickling."""
    path = current_dir(store) / METADATA_FILE
    metadata = json.loads(path.read_text())
    metadata["libraries"]["scikit-learn"] = "0.24.2"
    path.write_text(json.dumps(metadata))
    with pytest.raises(
        ModelCompatibilityError, match=r"scikit-learn 0\.24\.2 \(installed .*\).*make train"
    ):
        store.load()


def test_no_current_model_says_to_train(tmp_path):
    """An empty model directory tells the user to run make train."""
    with pytest.raises(ModelNotFoundError, match=r"no current model.*make train"):
        ModelStore(tmp_path).load()


@pytest.mark.parametrize("name", ["../etc", "/tmp/x", "current", "20260101T000000Z-zzzzzz", ""])
def test_only_version_names_inside_the_directory_load(store, name):
    """Paths and other names are never loaded: only version names in the model directory."""
    with pytest.raises(ModelNotFoundError):
        store.load(name or "x")


def test_clean_staging_removes_leftovers(store):
    """Staging folders of interrupted runs are removed on request."""
    (store.root / ".staging-20260101T000000Z-abcdef").mkdir()
    assert [".staging-20260101T000000Z-abcdef"] == store.clean_staging()


def test_the_hashed_bytes_are_the_unpickled_bytes(store, monkeypatch):
    """The file is read once: replacing it on disk after its hash was checked changes
    nothing, because the bytes already checked are the ones unpickled (no check/use gap)."""
    from model import store as store_module

    path = current_dir(store) / MODEL_FILE
    read = store_module.read_regular_file

    def read_then_swap(target: Path) -> bytes:
        data = read(target)
        target.write_bytes(b"not a pickle")  # an attacker's swap, just after the read
        return data

    monkeypatch.setattr(store_module, "read_regular_file", read_then_swap)
    model = store.load()
    assert store.current_version() == model.version
    assert b"not a pickle" == path.read_bytes()


@pytest.mark.parametrize("format_version", [None, 0, 2, "1"])
def test_an_unknown_artifact_format_is_refused(store, format_version):
    """metadata.json's format_version must be the one this code writes; anything else (or
    none) is refused before the file is read, with a message that says to retrain."""
    path = current_dir(store) / METADATA_FILE
    metadata = json.loads(path.read_text())
    if format_version is None:
        del metadata["format_version"]
    else:
        metadata["format_version"] = format_version
    path.write_text(json.dumps(metadata))
    message = rf"has artifact format {format_version!r}; this code reads format 1;.*make train"
    with pytest.raises(ModelCompatibilityError, match=message):
        store.load()
    with pytest.raises(ModelCompatibilityError, match=message):
        store.verify()


def test_a_version_directory_that_is_a_symlink_is_refused(store, tmp_path):
    """A version name that is a symlink (to a directory elsewhere, or to another version) is
    refused, by name and through `current`: a model is loaded only from a directory that
    training wrote inside the model directory."""
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(current_dir(store), elsewhere)
    name = "20260101T000000Z-abcdef"
    (store.root / name).symlink_to(elsewhere)
    with pytest.raises(ModelIntegrityError, match=rf"{name} is a symlink; a model version must"):
        store.load(name)
    os.replace(store.root / CURRENT, store.root / "old-current")
    (store.root / CURRENT).symlink_to(name)
    with pytest.raises(ModelIntegrityError, match="is a symlink"):
        store.load()
    with pytest.raises(ModelIntegrityError, match="is a symlink"):
        store.verify()
    assert name not in store.versions()


def test_a_model_file_that_is_a_symlink_is_refused(store, tmp_path):
    """model.joblib must be the file itself, even a symlink to identical bytes is refused."""
    path = current_dir(store) / MODEL_FILE
    shutil.move(path, tmp_path / MODEL_FILE)
    path.symlink_to(tmp_path / MODEL_FILE)
    with pytest.raises(ModelIntegrityError, match=r"model\.joblib is a symlink"):
        store.load()


def test_verify_checks_the_hash_without_unpickling(store, monkeypatch):
    """verify (what the gunicorn master runs) returns the metadata of a good model without
    unpickling it, and refuses a truncated file just as load does."""

    def no_unpickling(*args, **kwargs):
        raise AssertionError("verify must not unpickle the model")

    monkeypatch.setattr("model.store.joblib.load", no_unpickling)
    metadata = store.verify()
    assert store.current_version() == metadata["version"]
    path = current_dir(store) / MODEL_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelIntegrityError, match="does not match its recorded sha256"):
        store.verify()
