"""Evaluation on real-statement sets: subsets, speaker groups, and paired model comparison."""

from __future__ import annotations

import csv
import json
import random

import pytest

from cli.main import main
from training.evaluation import certainty_table, speaker_group
from training.metrics import head_metrics, paired_bootstrap

LABELS = ("support", "oppose", "neutral")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("role", "group"),
    [
        ("NATO Secretary General", "nato_official"),
        ("President of Ukraine", "head_of_state_or_government"),
        ("Prime Minister of Hungary", "head_of_state_or_government"),
        ("Deputy Foreign Minister of Russia", "minister"),
        ("US Secretary of State", "minister"),
        ("Kremlin spokesman", "spokesperson"),
        ("Russian Ambassador to the OSCE", "diplomat"),
        ("MP, Verkhovna Rada", "legislator"),
        ("Newspaper editorial", "media"),
        ("Political scientist", "analyst"),
        ("Blogger", "other"),
        ("", "unknown"),
    ],
)
def test_free_text_roles_fall_into_speaker_groups(role, group):
    assert group == speaker_group(role)


def test_paired_bootstrap_finds_a_real_improvement_and_none_between_equals():
    rng = random.Random(7)
    gold = [rng.choice(LABELS) for _ in range(400)]
    weak = [g if rng.random() < 0.5 else rng.choice(LABELS) for g in gold]
    strong = [g if rng.random() < 0.8 else rng.choice(LABELS) for g in gold]
    better = paired_bootstrap(gold, weak, strong, LABELS, samples=500)
    observed = head_metrics(gold, strong, LABELS)["macro_f1"]
    observed -= head_metrics(gold, weak, LABELS)["macro_f1"]
    assert better["delta"] == pytest.approx(observed)
    assert 0 < better["low"] < better["delta"] < better["high"]
    assert better["p_not_better"] < 0.01
    same = paired_bootstrap(gold, weak, weak, LABELS, samples=500)
    assert (0.0, 0.0, 0.0, 1.0) == (same["delta"], same["low"], same["high"], same["p_not_better"])


@pytest.fixture()
def real_style_csv(tmp_path, tiny_csv):
    """The tiny corpus in the layout of a real-statement set: confidence and speaker_role."""
    with tiny_csv.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    path = tmp_path / "real.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "speaker_role", "stance", "sentiment", "confidence"])
        for i, row in enumerate(rows):
            role = ("President of Poland", "NATO Spokesperson", "Blogger")[i % 3]
            confidence = "high" if i % 2 else "medium"
            writer.writerow([i, row["text"], role, row["stance"], row["sentiment"], confidence])
    return path, len(rows)


def test_evaluate_reports_high_confidence_rows_and_errors_by_speaker(
    real_style_csv, model_dir, capsys
):
    path, n = real_style_csv
    code, out, _ = run(capsys, "evaluate", "--data", path, "--model-dir", model_dir, "--json")
    assert 0 == code
    report = json.loads(out)
    assert n // 2 == report["high_confidence"]["n"]
    groups = report["by_speaker"]
    assert {"head_of_state_or_government", "nato_official", "other"} == set(groups)
    assert n == sum(g["n"] for g in groups.values())
    wrong = n - round(report["metrics"]["stance"]["accuracy"] * n)
    assert wrong == sum(g["errors"] for g in groups.values())
    assert {"rates", "gate", "counts", "failures"} <= set(report["behaviour"])


def test_certainty_table_says_how_often_each_level_of_top_probability_is_right():
    top = [0.45, 0.55, 0.95, 0.92, 1.0, 0.91]
    correct = [False, True, True, False, True, True]
    table = certainty_table(top, correct)
    bins = {(b["low"], b["high"]): b for b in table["bins"]}
    assert [(0.0, 0.5), (0.5, 0.6), (0.9, 1.0)] == list(bins)  # empty bins are left out
    assert 1 == bins[(0.0, 0.5)]["n"] and 0.0 == bins[(0.0, 0.5)]["right"]
    top_bin = bins[(0.9, 1.0)]  # a probability of exactly 1 belongs to the last bin
    assert 4 == top_bin["n"] and 0.75 == top_bin["right"]
    assert top_bin["mean"] == pytest.approx(0.945)
    # Rows-weighted gap between mean probability and share right: (0.45 + 0.45 + 4 * 0.195) / 6.
    assert table["calibration_error"] == pytest.approx((0.45 + 0.45 + 4 * 0.195) / 6)


def test_a_model_right_as_often_as_it_says_has_no_calibration_error():
    top = [0.65] * 20
    correct = [True] * 13 + [False] * 7
    assert certainty_table(top, correct)["calibration_error"] == pytest.approx(0.0)


def test_evaluate_reports_how_often_the_model_is_right_at_each_certainty(
    real_style_csv, model_dir, capsys
):
    path, n = real_style_csv
    code, out, _ = run(capsys, "evaluate", "--data", path, "--model-dir", model_dir, "--json")
    assert 0 == code
    report = json.loads(out)
    for head in ("stance", "sentiment"):
        bins = report["certainty"][head]["bins"]
        assert n == sum(b["n"] for b in bins)
        right = sum(round(b["right"] * b["n"]) for b in bins)
        assert right == round(report["metrics"][head]["accuracy"] * n)
    code, out, _ = run(capsys, "evaluate", "--data", path, "--model-dir", model_dir)
    assert "how often the model is right at each level of its top probability" in out
    assert "calibration error" in out


def test_evaluate_prints_the_subset_the_groups_and_the_behavioural_suite(
    real_style_csv, model_dir, capsys
):
    path, _ = real_style_csv
    code, out, _ = run(capsys, "evaluate", "--data", path, "--model-dir", model_dir)
    assert 0 == code
    assert "high-confidence rows" in out
    assert "stance errors by speaker group" in out and "nato_official" in out
    assert "behavioural tests: gate" in out


def test_compare_a_version_with_itself_shows_no_difference(tiny_csv, model_dir, capsys):
    from model.store import ModelStore

    version = ModelStore(model_dir).current_version()
    argv = ["compare", version, version, "--data", tiny_csv, "--model-dir", model_dir]
    code, out, _ = run(capsys, *argv, "--samples", "200", "--json")
    assert 0 == code
    result = json.loads(out)
    for head in ("stance", "sentiment"):
        assert result[head]["a"] == result[head]["b"]
        assert 0.0 == result[head]["delta"]
    code, out, _ = run(capsys, *argv, "--samples", "200")
    assert 0 == code and "B-A +0.000" in out


def test_compare_refuses_too_few_samples_and_unknown_versions(tiny_csv, model_dir, capsys):
    code, _, err = run(capsys, "compare", "a", "b", "--data", tiny_csv, "--samples", "5")
    assert 2 == code and "--samples must be at least 100" in err
    code, _, err = run(
        capsys, "compare", "nope", "nope", "--data", tiny_csv, "--model-dir", model_dir
    )
    assert 1 == code and "stance compare: error:" in err


def test_compare_reports_a_bad_data_file_as_a_clear_error(tmp_path, model_dir, capsys):
    from model.store import ModelStore

    version = ModelStore(model_dir).current_version()
    unlabelled = tmp_path / "unlabelled.csv"
    unlabelled.write_text("id,text\n1,Ukraine should join NATO.\n", encoding="utf-8")
    for data in (tmp_path / "missing.csv", unlabelled):
        argv = ["compare", version, version, "--data", data, "--model-dir", model_dir]
        code, out, err = run(capsys, *argv)
        assert 1 == code and "" == out
        assert err.startswith(f"stance compare: error: {data}:")
        assert "Traceback" not in err
    assert "missing required column(s) stance, sentiment" in err


def test_profile_puts_sets_side_by_side(tiny_csv, real_style_csv, capsys):
    path, n = real_style_csv
    code, out, _ = run(capsys, "profile", tiny_csv, path, "--json")
    assert 0 == code
    profiles = json.loads(out)
    tiny, real = profiles[str(tiny_csv)], profiles[str(path)]
    assert n == tiny["rows"] == real["rows"]
    assert tiny["names NATO"] == real["names NATO"]
    assert 1.0 == pytest.approx(sum(tiny[f"stance {label}"] for label in LABELS))
    assert "speaker nato_official" in real and "speaker legislator" in tiny
    code, out, _ = run(capsys, "profile", tiny_csv, path)
    assert 0 == code and out.startswith(f"| | {tiny_csv} | {path} |")
    assert "| names NATO |" in out


def test_profile_counts_negation_per_stance_label():
    """The share of each label's rows with a negation (not, no, never, n't, ...) is reported."""
    from training.dataset import LabelledQuotes
    from training.profile import profile

    quotes = LabelledQuotes(
        texts=["Ukraine must not join.", "Kyiv won't wait.", "Kyiv joins.", "A meeting today."],
        stance=["oppose", "support", "support", "neutral"],
        sentiment=["neutral"] * 4,
        source="test",
        sha256="0",
        columns={},
    )
    shares = profile(quotes)
    assert 1.0 == shares["  oppose rows with a negation"]
    assert 0.5 == shares["  support rows with a negation"]
    assert 0.0 == shares["  neutral rows with a negation"]
