"""Cross-validation folds: stratified, and holding out whole batches when the corpus has them."""

from __future__ import annotations

import csv

import numpy as np

from cli.main import main
from model.store import ModelStore
from training.search import fold_splits


def test_folds_hold_out_whole_batches():
    rng = np.random.default_rng(0)
    strata = rng.choice(["support", "oppose", "neutral"], size=300)
    groups = [f"batch-{i % 12}" for i in range(300)]
    splits, grouped = fold_splits(strata, groups, 5, seed=0)
    assert grouped and 5 == len(splits)
    tested = np.concatenate([test for _, test in splits])
    assert sorted(tested) == list(range(300))  # every row is tested exactly once
    for train, test in splits:
        assert not {groups[i] for i in train} & {groups[i] for i in test}


def test_with_fewer_batches_than_folds_rows_are_split_one_by_one():
    strata = np.array(["support", "oppose", "neutral"] * 20)
    groups = ["a", "b", "c"] * 20
    splits, grouped = fold_splits(strata, groups, 5, seed=0)
    assert not grouped and 5 == len(splits)
    assert sorted(np.concatenate([test for _, test in splits])) == list(range(60))
    # Each batch then appears on both sides of a fold.
    train, test = splits[0]
    assert {groups[i] for i in train} & {groups[i] for i in test}


def test_batches_that_would_hide_a_label_from_training_are_not_held_out():
    # Every neutral row is in one batch: holding it out would train a fold without neutral.
    strata = np.array(["support", "oppose"] * 50 + ["neutral"] * 20)
    groups = [f"batch-{i % 10}" for i in range(100)] + ["neutral-batch"] * 20
    splits, grouped = fold_splits(strata, groups, 5, seed=0, heads=[strata])
    assert not grouped
    for train, _ in splits:
        assert {"support", "oppose", "neutral"} == set(strata[train])


def test_training_on_a_corpus_with_batches_holds_them_out_and_says_so(tiny_csv, tmp_path, capsys):
    with tiny_csv.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    batched = tmp_path / "batched.csv"
    with batched.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*rows[0], "batch"])
        writer.writeheader()
        writer.writerows({**row, "batch": f"part-{i % 6}"} for i, row in enumerate(rows))
    models = tmp_path / "models"
    argv = ["train", "--data", batched, "--out", models, "--folds", "3"]
    code = main([str(a) for a in [*argv, "--quality-floor", "0", "--no-gate"]])
    out = capsys.readouterr().out
    assert 0 == code
    assert "cross-validated (3-fold, whole batches held out, out-of-fold)" in out
    store = ModelStore(models)
    version = store.current_version()
    assert "batch" == store.read_metadata(version)["cv_grouped_by"]
    card = (models / version / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "3-fold stratified, whole batches held out, out-of-fold" in card
