"""`stance learning-curve`: what more rows of a corpus's kind would buy."""

from __future__ import annotations

import json
import math

import pytest

from cli.main import main
from model.classifier import StanceSentimentModel
from training.corpus_comparison import DEFAULT_C, in_subsample
from training.dataset import load_labelled_csv
from training.learning_curve import log_line, rows_for
from training.train import evaluate_labelled


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_smaller_share_of_a_subsample_is_inside_every_larger_one():
    texts = [f"Statement number {i} about the Alliance." for i in range(2000)]
    for k in range(3):
        half = {t for t in texts if in_subsample(t, k, 0.5)}
        three_quarters = {t for t in texts if in_subsample(t, k, 0.75)}
        assert half < three_quarters
        assert 0.45 < len(half) / len(texts) < 0.55


def test_the_fitted_line_gives_the_gain_per_doubling_and_the_rows_for_a_target():
    rows = [1000, 2000, 4000, 8000]
    values = [0.60, 0.62, 0.64, 0.66]
    intercept, slope = log_line(rows, values)
    assert slope == pytest.approx(0.02)
    assert rows_for(0.70, intercept, slope) == pytest.approx(32_000)
    # A curve that does not rise never reaches a higher target.
    flat_intercept, flat_slope = log_line(rows, [0.6, 0.6, 0.6, 0.6])
    assert rows_for(0.7, flat_intercept, flat_slope) is None
    # Nor does one that rises too slowly to reach it in any corpus that could exist.
    assert rows_for(0.99, 0.6, 1e-6) is None


def test_the_whole_corpus_point_is_the_model_trained_on_every_row(tiny_csv, capsys):
    argv = ["learning-curve", tiny_csv, "--data", tiny_csv, "--fractions", "0.75,1"]
    code, out, err = run(capsys, *argv, "--subsamples", "2", "--target", "stance=0.99", "--json")
    assert 0 == code
    assert (
        "75.0% of the corpus, model 2 of 2" in err and "100.0% of the corpus, model 1 of 1" in err
    )
    result = json.loads(out)
    assert 36 == result["rows"]
    stance = result["sets"][str(tiny_csv)]["stance"]
    [part, whole] = stance["points"]
    assert (0.75, 2, 1.0, 1, 36) == (
        part["fraction"],
        part["models"],
        whole["fraction"],
        whole["models"],
        whole["rows"],
    )
    assert part["rows"] < 36
    quotes = load_labelled_csv(tiny_csv)
    settings = {"stance_C": DEFAULT_C["stance"], "sentiment_C": DEFAULT_C["sentiment"]}
    model = StanceSentimentModel(**settings).fit(quotes.texts, quotes.stance, quotes.sentiment)
    assert whole["macro_f1"] == evaluate_labelled(model, quotes)["stance"]["macro_f1"]
    slope = (whole["macro_f1"] - part["macro_f1"]) / math.log2(whole["rows"] / part["rows"])
    assert stance["per_doubling"] == pytest.approx(slope)
    assert 0.99 == stance["target"]["macro_f1"]
    assert "target" not in result["sets"][str(tiny_csv)]["sentiment"]
    code, out, _ = run(capsys, *argv, "--subsamples", "2")
    assert 0 == code and "per doubling of the rows" in out and "36 rows" in out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--fractions", "0.5"], "--fractions needs at least two different shares"),
        (["--fractions", "0.5,1.5"], "--fractions: 1.5 is not above 0 and at most 1"),
        (["--fractions", "0,1"], "--fractions: 0 is not above 0 and at most 1"),
        (["--subsamples", "0"], "--subsamples must be at least 1"),
        (["--target", "tone=0.7"], "--target tone=0.7: name a head (stance or sentiment)"),
        (["--target", "stance=75"], "--target stance=75: name a head"),
    ],
)
def test_bad_options_are_one_line_errors(tiny_csv, capsys, options, message):
    code, out, err = run(capsys, "learning-curve", tiny_csv, "--data", tiny_csv, *options)
    assert 1 == code and "" == out
    assert err.startswith(f"stance learning-curve: error: {message}")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--fractions", "half,1"], "is not a comma-separated list of numbers"),
        (["--target", "stance"], "is not HEAD=MACRO_F1"),
    ],
)
def test_unreadable_options_are_usage_errors(tiny_csv, capsys, options, message):
    with pytest.raises(SystemExit) as exit_:
        main(["learning-curve", str(tiny_csv), "--data", str(tiny_csv), *options])
    assert 2 == exit_.value.code
    assert message in capsys.readouterr().err


def test_a_share_too_small_to_hold_two_labels_is_a_clear_error(tiny_csv, capsys):
    argv = ["learning-curve", tiny_csv, "--data", tiny_csv, "--fractions", "0.001,1"]
    code, _, err = run(capsys, *argv, "--subsamples", "1")
    assert 1 == code
    assert "a subsample has fewer than two stance labels" in err
    assert "a larger share of it" in err
