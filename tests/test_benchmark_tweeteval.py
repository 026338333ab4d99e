"""The TweetEval benchmark library (`training.benchmark`) on tiny synthetic data in its layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

import training.benchmark as benchmark
from training.benchmark import (
    BenchmarkDataError,
    LabelledLines,
    format_tweeteval,
    read_tweeteval_stance,
    run_tweeteval_sentiment,
    run_tweeteval_stance,
)

# Integer labels of the files: 0 none, 1 against, 2 favor.
NONE, AGAINST, FAVOR = 0, 1, 2


def write_split(folder: Path, split: str, rows: list[tuple[str, int]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{split}_text.txt").write_text("".join(f"{text}\n" for text, _ in rows))
    (folder / f"{split}_labels.txt").write_text("".join(f"{label}\n" for _, label in rows))


def separable_rows(target: str, per_label: int, start: int = 0) -> list[tuple[str, int]]:
    """Texts whose words give the label away: trivially learnable, one model per target."""
    rows = []
    for i in range(start, start + per_label):
        rows.append((f"i love {target} yes wonderful support {i} #SemST", FAVOR))
        rows.append((f"i hate {target} no terrible oppose {i} #SemST", AGAINST))
        rows.append((f"the weather lunch tuesday bus {i} #SemST", NONE))
    return rows


def separable_dataset(root: Path, targets: tuple[str, ...] = ("abortion", "climate")) -> Path:
    """Per target: 6 rows of each label in train, 3 in val, 2 in test."""
    for target in targets:
        write_split(root / target, "train", separable_rows(target, 6))
        write_split(root / target, "val", separable_rows(target, 3, start=100))
        write_split(root / target, "test", separable_rows(target, 2, start=200))
    return root


# -- reading ------------------------------------------------------------------------------


def test_read_maps_file_labels_to_project_labels_per_target(tmp_path):
    """0/1/2 become neutral/oppose/support; texts are kept line for line, per target folder."""
    write_split(tmp_path / "hillary", "val", [("Go Hillary ", FAVOR), ("No way", AGAINST)])
    write_split(tmp_path / "atheism", "val", [("Pray ", NONE)])
    data = read_tweeteval_stance(tmp_path, "val")
    assert ["atheism", "hillary"] == list(data)
    assert LabelledLines(["Pray "], ["neutral"]) == data["atheism"]
    assert LabelledLines(["Go Hillary ", "No way"], ["support", "oppose"]) == data["hillary"]


def test_read_uses_only_the_known_target_folders_present(tmp_path):
    """A target without a folder is skipped; a folder that is not a target is ignored."""
    write_split(tmp_path / "climate", "train", [("Act now", FAVOR)])
    write_split(tmp_path / "notes", "train", [("scratch", NONE)])
    assert ["climate"] == list(read_tweeteval_stance(tmp_path, "train"))


def test_read_splits_on_newline_only(tmp_path):
    """A tweet holding a Unicode line separator stays one text (str.splitlines would split it)."""
    folder = tmp_path / "feminist"
    folder.mkdir()
    (folder / "val_text.txt").write_text("one\u2028still one\nnext\n", encoding="utf-8")
    (folder / "val_labels.txt").write_text("2\n1\n")
    assert ["one\u2028still one", "next"] == read_tweeteval_stance(tmp_path, "val")[
        "feminist"
    ].texts


def test_missing_data_folder_is_named(tmp_path):
    """A data folder that does not exist is reported as such."""
    missing = tmp_path / "nowhere"
    with pytest.raises(BenchmarkDataError) as error:
        read_tweeteval_stance(missing, "val")
    assert f"{missing}: folder not found" == str(error.value)


def test_folder_without_targets_lists_the_expected_ones(tmp_path):
    """A folder holding no target folder says which folders it should hold."""
    with pytest.raises(BenchmarkDataError) as error:
        read_tweeteval_stance(tmp_path, "val")
    assert (
        f"{tmp_path}: no target folder found; expected one or more of abortion, atheism, "
        "climate, feminist, hillary (the TweetEval `datasets/stance` layout)"
    ) == str(error.value)


def test_missing_split_file_is_named(tmp_path):
    """A target folder without the requested split names the missing file."""
    write_split(tmp_path / "abortion", "train", [("a", NONE)])
    with pytest.raises(BenchmarkDataError) as error:
        read_tweeteval_stance(tmp_path, "test")
    assert f"{tmp_path / 'abortion' / 'test_text.txt'}: file not found" == str(error.value)


def test_line_count_mismatch_names_both_files(tmp_path):
    """Texts and labels that do not pair up line for line are refused with both counts."""
    folder = tmp_path / "atheism"
    folder.mkdir()
    (folder / "val_text.txt").write_text("a\nb\nc\n")
    (folder / "val_labels.txt").write_text("0\n1\n")
    with pytest.raises(BenchmarkDataError) as error:
        read_tweeteval_stance(tmp_path, "val")
    assert (
        f"{folder / 'val_text.txt'} has 3 lines but {folder / 'val_labels.txt'} has 2; "
        "they must match line for line"
    ) == str(error.value)


def test_unknown_label_names_file_and_line(tmp_path):
    """A label outside 0/1/2 is reported with its file, 1-based line and the valid labels."""
    folder = tmp_path / "climate"
    folder.mkdir()
    (folder / "train_text.txt").write_text("a\nb\nc\n")
    (folder / "train_labels.txt").write_text("0\n2\nfavor\n")
    with pytest.raises(BenchmarkDataError) as error:
        read_tweeteval_stance(tmp_path, "train")
    assert (
        f"{folder / 'train_labels.txt'}, line 3: unknown label 'favor' "
        "(expected 0 none, 1 against, 2 favor)"
    ) == str(error.value)


def test_undecodable_file_names_file_and_line(tmp_path):
    """A text file that is not UTF-8 is reported with the line of the first bad byte."""
    folder = tmp_path / "hillary"
    folder.mkdir()
    (folder / "val_text.txt").write_bytes(b"fine\nbad \xff byte\n")
    (folder / "val_labels.txt").write_text("0\n1\n")
    with pytest.raises(BenchmarkDataError) as error:
        read_tweeteval_stance(tmp_path, "val")
    assert f"{folder / 'val_text.txt'}, line 2: not valid UTF-8 (column 5)" == str(error.value)


def test_unknown_split_is_refused(tmp_path):
    """Only val and test can be scored; train is what models learn from."""
    with pytest.raises(ValueError, match="split must be one of val, test, got 'train'"):
        run_tweeteval_stance(separable_dataset(tmp_path), split="train")


# -- stance benchmark ---------------------------------------------------------------------


def test_separable_data_scores_perfectly_with_the_project_training(tmp_path):
    """Trained by the project's own search and features, a give-away dataset scores 100."""
    result = run_tweeteval_stance(separable_dataset(tmp_path), "val", n_jobs=1)
    assert 100.0 == result["f_avg"]
    assert {"abortion": 100.0, "climate": 100.0} == {
        target: t["f_avg"] for target, t in result["per_target"].items()
    }
    assert ["train"] == result["trained_on"]
    assert 9 == result["per_target"]["abortion"]["n"]
    assert 18 == result["per_target"]["abortion"]["n_train"]
    assert 5 == result["per_target"]["abortion"]["cv_folds"]


def test_split_test_trains_on_train_plus_val(tmp_path):
    """For the test split each target trains on its train and val rows and scores test."""
    result = run_tweeteval_stance(separable_dataset(tmp_path), "test", n_jobs=1)
    assert ["train", "val"] == result["trained_on"]
    assert {"abortion": 18 + 9, "climate": 18 + 9} == {
        target: t["n_train"] for target, t in result["per_target"].items()
    }
    assert 2 * 27 == result["n_train"]
    assert {"abortion": 6, "climate": 6} == {
        target: t["n"] for target, t in result["per_target"].items()
    }
    assert 100.0 == result["f_avg"]


class FixedPredictions:
    """Stands in for a trained stance model: a fixed label per text."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.params = {"stance_C": 1.0, "stance_temperature": 1.0, "min_df": 1}

    def predict(self, texts):
        return [self.answers[t] for t in texts]


def test_f_avg_is_computed_over_the_pooled_predictions(tmp_path, monkeypatch):
    """F_avg is mean F1(against, favor) over all targets' predictions pooled, not a mean of targets."""
    gold = {
        "abortion": [FAVOR, FAVOR, AGAINST, AGAINST, NONE, NONE],
        "climate": [FAVOR, AGAINST, AGAINST, NONE],
    }
    predicted = {
        "abortion": ["support", "oppose", "oppose", "oppose", "neutral", "support"],
        "climate": ["neutral", "oppose", "support", "support"],
    }
    answers = {}
    for target, labels in gold.items():
        rows = [(f"{target} tweet {i}", label) for i, label in enumerate(labels)]
        write_split(tmp_path / target, "train", rows)
        write_split(tmp_path / target, "val", rows)
        answers |= {text: p for (text, _), p in zip(rows, predicted[target], strict=True)}

    def fake_train(texts, stance, params=None, n_jobs=-1, folds=5, seed=0):
        return FixedPredictions(answers), {"stance_C": 1.0, "stance_temperature": 1.0}

    monkeypatch.setattr(benchmark, "train_stance", fake_train)
    result = run_tweeteval_stance(tmp_path, "val")

    names = {NONE: "neutral", AGAINST: "oppose", FAVOR: "support"}
    gold_labels = {target: [names[g] for g in labels] for target, labels in gold.items()}

    def f_avg(gold_list, predicted_list):
        return 100 * f1_score(
            gold_list, predicted_list, labels=["oppose", "support"], average="macro"
        )

    pooled_gold = gold_labels["abortion"] + gold_labels["climate"]
    pooled_predicted = predicted["abortion"] + predicted["climate"]
    against, favor = f1_score(
        pooled_gold, pooled_predicted, labels=["oppose", "support"], average=None
    )
    assert pytest.approx(100 * against) == result["f1_against"]
    assert pytest.approx(100 * favor) == result["f1_favor"]
    assert pytest.approx(f_avg(pooled_gold, pooled_predicted)) == result["f_avg"]
    for target in gold:
        assert (
            pytest.approx(f_avg(gold_labels[target], predicted[target]))
            == result["per_target"][target]["f_avg"]
        )
    # The pooled figure is not the mean of the targets' figures (51.8 against 49.2 here).
    per_target_mean = np.mean([t["f_avg"] for t in result["per_target"].values()])
    assert pytest.approx(per_target_mean) != result["f_avg"]
    assert 10 == result["n"]


def test_format_lists_each_target_and_the_official_figure(tmp_path):
    """The table has a row per target, the pooled row and the official F_avg line."""
    result = run_tweeteval_stance(separable_dataset(tmp_path), "val", n_jobs=1)
    text = format_tweeteval(result)
    lines = text.splitlines()
    assert lines[0].startswith("TweetEval stance, val split (trained on train,")
    assert ["abortion", "climate", "pooled"] == [line.split()[0] for line in lines[2:5]]
    assert lines[5].startswith("  official F_avg (pooled over targets): 100.00")


# -- sentiment benchmark ------------------------------------------------------------------


class AlwaysNeutral:
    """A model whose sentiment head always says neutral."""

    def predict_proba(self, texts):
        sentiment = np.tile([0.1, 0.1, 0.8], (len(texts), 1))
        return np.tile([0.1, 0.1, 0.8], (len(texts), 1)), sentiment


def sentiment_data(root: Path) -> Path:
    folder = root / "tweeteval-sentiment"
    write_split(
        folder,
        "val",
        [
            ("I love this, what a wonderful day!", 2),
            ("This is terrible, I hate it.", 0),
            ("The bus leaves at nine.", 1),
        ],
    )
    return folder


def test_sentiment_reports_the_head_and_vader_alone(tmp_path):
    """Macro-averaged recall of the model's sentiment head and of VADER, both in percent."""
    result = run_tweeteval_sentiment(sentiment_data(tmp_path), AlwaysNeutral())
    assert 3 == result["n"]
    assert pytest.approx(100 / 3) == result["model_macro_recall"]
    assert {"positive": 0.0, "negative": 0.0, "neutral": 100.0} == result["model_recall"]
    assert 100.0 == result["vader_macro_recall"]


def test_sentiment_accepts_the_parent_folder_and_a_loaded_model(tmp_path, loaded_model):
    """The benchmarks folder (holding tweeteval-sentiment/) works too, with a real model."""
    sentiment_data(tmp_path)
    result = run_tweeteval_sentiment(tmp_path, loaded_model)
    assert str(tmp_path / "tweeteval-sentiment") == result["data"]
    assert 0.0 <= result["model_macro_recall"] <= 100.0
    assert 100.0 == result["vader_macro_recall"]
    lines = format_tweeteval(result).splitlines()
    assert ["sentiment", "VADER"] == [line.split()[0] for line in lines[2:4]]


def test_sentiment_unknown_label_is_named(tmp_path):
    """Sentiment labels outside 0/1/2 are refused with file and line."""
    folder = sentiment_data(tmp_path)
    (folder / "val_labels.txt").write_text("2\n0\n3\n")
    with pytest.raises(BenchmarkDataError) as error:
        run_tweeteval_sentiment(folder, AlwaysNeutral())
    assert (
        f"{folder / 'val_labels.txt'}, line 3: unknown label '3' "
        "(expected 0 negative, 1 neutral, 2 positive)"
    ) == str(error.value)


def test_cli_benchmark_prints_the_table_and_ends_with_json(tmp_path, capsys):
    """`stance benchmark tweeteval --json` prints per-target rows and ends with one JSON object."""
    from cli.main import main

    data = separable_dataset(tmp_path)
    assert 0 == main(["benchmark", "tweeteval", "--data", str(data), "--split", "test", "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert {"abortion", "climate"} == set(result["per_target"])
    assert "f_avg" in result and "official F_avg" in "\n".join(out[:-1])


def test_cli_benchmark_on_a_missing_folder_is_one_clean_error(tmp_path, capsys):
    """A wrong --data folder gives exit status 1 and one line naming it, no traceback."""
    from cli.main import main

    assert 1 == main(["benchmark", "tweeteval", "--data", str(tmp_path / "nope")])
    assert (
        f"stance benchmark: error: {tmp_path / 'nope'}: folder not found\n"
        == capsys.readouterr().err
    )
