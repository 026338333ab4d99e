"""The `stance` command: train, evaluate, info, and the messages of every failure."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.main import main
from model.store import ModelStore
from training.train import DEFAULT_CHALLENGE, TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_writes_a_current_version_and_prints_metrics(tiny_csv, tmp_path, capsys):
    """`stance train` prints CV figures per class and makes the new version current."""
    code, out, _ = run(
        capsys,
        "train",
        "--data",
        tiny_csv,
        "--out",
        tmp_path,
        "--quality-floor",
        "0",
        "--no-gate",
        "--folds",
        "3",
    )
    store = ModelStore(tmp_path)
    assert 0 == code
    assert [store.current_version()] == store.versions()
    assert "cross-validated (3-fold, out-of-fold)" in out
    assert "stance: macro-F1" in out and "sentiment: macro-F1" in out
    assert f"model {store.current_version()} is now current" in out


def test_the_model_card_says_how_often_each_certainty_is_right_on_the_dev_set(
    tiny_csv, tmp_path, capsys
):
    argv = ["train", "--data", tiny_csv, "--out", tmp_path, "--dev", tiny_csv, "--folds", "3"]
    code, out, _ = run(capsys, *argv, "--quality-floor", "0", "--no-gate")
    assert 0 == code and "how often the model is right at each level" in out
    store = ModelStore(tmp_path)
    version = store.current_version()
    certainty = store.read_metadata(version)["dev_metrics"]["certainty"]
    card = (tmp_path / version / "MODEL_CARD.md").read_text()
    assert "How often it is right at each level of its top probability" in card
    error = certainty["stance"]["calibration_error"]
    assert f"(expected calibration error: stance {error:.3f}, sentiment" in card
    for b in certainty["stance"]["bins"]:
        name = f"below {b['high']:.2f}" if b["low"] == 0.0 else f"{b['low']:.2f}-{b['high']:.2f}"
        assert f"| {name} | {b['n']} | {b['right']:.2f} |" in card


def test_train_below_quality_floor_keeps_the_old_current(tiny_csv, model_dir, tmp_path, capsys):
    """A model under the quality floor is written but not made current, and the command fails."""
    models = tmp_path / "models"
    shutil.copytree(model_dir, models, symlinks=True)
    before = ModelStore(models).current_version()
    code, _, err = run(
        capsys,
        "train",
        "--data",
        tiny_csv,
        "--out",
        models,
        "--quality-floor",
        "0.99",
        "--folds",
        "3",
    )
    store = ModelStore(models)
    assert 1 == code
    assert before == store.current_version()
    assert 2 == len(store.versions())
    assert "NOT made current" in err and "below the quality floor 0.990" in err


def test_train_on_invalid_data_lists_problems_and_trains_nothing(tmp_path, capsys):
    """Bad data is reported line by line and no version is written."""
    data = tmp_path / "bad.csv"
    data.write_text(
        "text,stance,sentiment\nYes,support,positive\n,oppose,negative\nNo,against,negative\n"
    )
    code, _, err = run(capsys, "train", "--data", data, "--out", tmp_path / "models")
    assert 1 == code
    assert "2 problems found, nothing was trained" in err
    assert "line 3: empty text" in err
    assert "line 4: unknown stance 'against'" in err
    assert [] == ModelStore(tmp_path / "models").versions()


def test_train_with_too_few_rows_of_a_label_says_which(tmp_path, capsys):
    """Cross-validation needs two rows per label; the message names the short labels."""
    data = tmp_path / "few.csv"
    data.write_text(
        "text,stance,sentiment\na,support,positive\nb,support,negative\nc,oppose,neutral\n"
    )
    code, _, err = run(capsys, "train", "--data", data, "--out", tmp_path / "m")
    assert 1 == code
    assert "at least 2 rows" in err
    assert "stance oppose (1), stance neutral (0), sentiment positive (1)" in err


def test_interrupted_training_leaves_current_untouched(
    tiny_csv, model_dir, tmp_path, capsys, monkeypatch
):
    """Ctrl-C during the final fit changes nothing: same current, no new or partial version."""
    models = tmp_path / "models"
    shutil.copytree(model_dir, models, symlinks=True)
    before = (ModelStore(models).current_version(), ModelStore(models).versions())

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("training.train.StanceSentimentModel.fit", interrupted)
    code, _, err = run(
        capsys,
        "train",
        "--data",
        tiny_csv,
        "--out",
        models,
        "--quality-floor",
        "0",
        "--no-gate",
        "--folds",
        "3",
    )
    assert 130 == code
    assert "interrupted; nothing was changed" in err
    assert before == (ModelStore(models).current_version(), ModelStore(models).versions())
    assert [] == list(models.glob(".*"))


@pytest.mark.slow
def test_training_killed_at_any_moment_never_breaks_current(tiny_csv, model_dir, tmp_path):
    """SIGKILL at several points of a real training run always leaves a loadable current model."""
    models = tmp_path / "models"
    shutil.copytree(model_dir, models, symlinks=True)
    before = ModelStore(models).current_version()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.3, 1.0, 2.0):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "training",
                "train",
                "--data",
                str(tiny_csv),
                "--out",
                str(models),
                "--quality-floor",
                "0",
                "--no-gate",
                "--folds",
                "3",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        store = ModelStore(models)
        current = store.current_version()
        assert current == before or current in store.versions()
        assert current == store.load().version


def test_evaluate_prints_per_class_figures_and_confusion(tiny_csv, model_dir, capsys):
    """`stance evaluate` prints precision/recall/F1 per class, macro-F1, F_avg and the confusion matrix."""
    code, out, _ = run(capsys, "evaluate", "--data", tiny_csv, "--model-dir", model_dir)
    assert 0 == code
    for expected in (
        "support",
        "oppose",
        "neutral",
        "macro-F1",
        "F_avg(support/oppose)",
        "confusion",
    ):
        assert expected in out


def test_evaluate_json_gives_one_object_with_both_heads(tiny_csv, model_dir, capsys):
    """With --json the output is one JSON object with per-class figures for both heads."""
    code, out, _ = run(capsys, "evaluate", "--data", tiny_csv, "--model-dir", model_dir, "--json")
    report = json.loads(out)
    assert 0 == code
    assert {"stance", "sentiment"} == set(report["metrics"])
    stance = report["metrics"]["stance"]
    assert 36 == stance["n"]
    assert 36 == sum(map(sum, stance["confusion"]))
    expected_f_avg = (
        stance["per_class"]["support"]["f1"] + stance["per_class"]["oppose"]["f1"]
    ) / 2
    assert pytest.approx(expected_f_avg) == stance["f_avg"]


def test_evaluate_reports_the_challenge_set_separately(tiny_csv, model_dir, tmp_path, capsys):
    """A --challenge file gets its own section (and its own JSON key), apart from --data."""
    hard = tmp_path / "hard.csv"
    hard.write_text(
        "text,stance,sentiment\nNot against it at all,support,neutral\nNo never,oppose,negative\n"
    )
    code, out, _ = run(
        capsys, "evaluate", "--data", tiny_csv, "--model-dir", model_dir, "--challenge", hard
    )
    assert 0 == code
    assert f"challenge set ({hard}), never trained on" in out
    code, out, _ = run(
        capsys,
        "evaluate",
        "--data",
        tiny_csv,
        "--model-dir",
        model_dir,
        "--challenge",
        hard,
        "--json",
    )
    assert 2 == json.loads(out)["challenge"]["metrics"]["stance"]["n"]


def test_evaluate_without_a_model_says_to_train(tiny_csv, tmp_path, capsys):
    """No model: a one-line error telling the user to run make train."""
    code, _, err = run(capsys, "evaluate", "--data", tiny_csv, "--model-dir", tmp_path)
    assert 1 == code
    assert "no current model" in err and "make train" in err


def test_info_prints_the_current_metadata(model_dir, capsys):
    """`stance info` prints the current model's metadata as JSON."""
    code, out, _ = run(capsys, "info", "--model-dir", model_dir)
    assert 0 == code
    assert ModelStore(model_dir).current_version() == json.loads(out)["version"]


def test_training_is_reproducible_for_a_seed(tiny_csv, tmp_path):
    """Two runs on the same data and seed choose the same parameters and CV figures."""
    reports = [
        train(
            TrainConfig(
                data=tiny_csv,
                model_dir=tmp_path / str(i),
                quality_floor=0,
                gate=None,
                folds=3,
                n_jobs=1,
            ),
            say=lambda _: None,
        )
        for i in range(2)
    ]
    assert reports[0].metadata["params"] == reports[1].metadata["params"]
    assert reports[0].metadata["cv_metrics"] == reports[1].metadata["cv_metrics"]
    assert (
        reports[0].metadata["training_data"]["sha256"]
        == reports[1].metadata["training_data"]["sha256"]
    )


def test_train_with_an_empty_challenge_skips_it_even_on_the_bundled_corpus(monkeypatch, capsys):
    """`--challenge ''` means no challenge set, where the bundled corpus would otherwise get
    the bundled one (before, '' became Path('.') and failed as a directory)."""
    import training.train

    configs = []
    monkeypatch.setattr(training.train, "train", configs.append)
    assert 0 == main(["train", "--challenge", ""])
    assert 0 == main(["train"])
    skipped, default = configs
    assert not skipped.challenge
    assert DEFAULT_CHALLENGE == default.challenge


def test_train_with_an_empty_challenge_trains_without_one(tiny_csv, tmp_path, capsys):
    """A real run with `--challenge ''` trains, and records no challenge figures."""
    code, out, err = run(
        capsys,
        "train",
        "--data",
        tiny_csv,
        "--out",
        tmp_path,
        "--challenge",
        "",
        "--quality-floor",
        "0",
        "--no-gate",
        "--folds",
        "3",
    )
    assert (0, "") == (code, err)
    metadata = ModelStore(tmp_path).read_metadata()
    assert "challenge_metrics" not in metadata
    assert "challenge set" not in out


def test_evaluate_with_an_empty_challenge_skips_it(tiny_csv, model_dir, capsys):
    """`stance evaluate --challenge ''` (documented as "skip") reports the data alone."""
    code, out, err = run(
        capsys, "evaluate", "--data", tiny_csv, "--challenge", "", "--model-dir", model_dir
    )
    assert (0, "") == (code, err)
    assert "challenge set" not in out
