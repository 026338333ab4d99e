"""`stance compare-corpora`: two training corpora judged by the models they make."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from cli.main import main
from training.corpus_comparison import in_subsample

ROTATE = {"support": "oppose", "oppose": "neutral", "neutral": "support"}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def rotated_stance_copy(source: Path, target: Path) -> Path:
    """The corpus with every stance label moved to another label; sentiment untouched."""
    with source.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["stance"] = ROTATE[row["stance"]]
    with target.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_a_row_is_in_the_same_subsamples_whichever_corpus_it_is_in():
    texts = [f"Statement number {i} about the Alliance." for i in range(2000)]
    for k in range(3):
        kept = [in_subsample(text, k, 0.9) for text in texts]
        assert kept == [in_subsample(text, k, 0.9) for text in texts]
        assert 0.87 < sum(kept) / len(texts) < 0.93
    # Different subsamples leave out different rows.
    assert [in_subsample(t, 0, 0.9) for t in texts] != [in_subsample(t, 1, 0.9) for t in texts]


def test_a_corpus_compared_with_itself_shows_no_difference(tiny_csv, capsys):
    argv = ["compare-corpora", tiny_csv, tiny_csv, "--data", tiny_csv, "--subsamples", "2"]
    code, out, err = run(capsys, *argv, "--json")
    assert 0 == code
    assert "subsample 2 of 2: training on B" in err
    result = json.loads(out)
    assert {"a": 36, "b": 36} == result["rows"]
    for head in ("stance", "sentiment"):
        r = result["sets"][str(tiny_csv)][head]
        assert r["a"] == r["b"] and 0.0 == r["delta"] == r["sd"]
        assert (0, 2, 0) == (r["wins"], r["ties"], r["losses"])
    code, out, _ = run(capsys, *argv)
    assert 0 == code and "B-A +0.000" in out and "means over 2 subsamples of 90%" in out


def test_a_corpus_with_wrong_stance_labels_measures_worse_on_stance_only(
    tiny_csv, tmp_path, capsys
):
    wrong = rotated_stance_copy(tiny_csv, tmp_path / "rotated.csv")
    argv = ["compare-corpora", tiny_csv, wrong, "--data", tiny_csv, "--subsamples", "2"]
    code, out, _ = run(capsys, *argv, "--json")
    assert 0 == code
    figures = json.loads(out)["sets"][str(tiny_csv)]
    assert figures["stance"]["delta"] < -0.5
    assert 2 == figures["stance"]["losses"]
    assert 0.0 == figures["sentiment"]["delta"]


def test_bad_options_and_files_get_clear_errors(tiny_csv, tmp_path, capsys):
    base = ["compare-corpora", tiny_csv, tiny_csv, "--data", tiny_csv]
    for option, message in (
        (["--subsamples", "1"], "--subsamples must be at least 2"),
        (["--fraction", "1"], "--fraction must be at least 0.5 and below 1"),
        (["--fraction", "0.2"], "--fraction must be at least 0.5 and below 1"),
    ):
        code, out, err = run(capsys, *base, *option)
        assert 1 == code and "" == out
        assert f"stance compare-corpora: error: {message}" in err
    missing = tmp_path / "missing.csv"
    code, _, err = run(capsys, "compare-corpora", tiny_csv, missing, "--data", tiny_csv)
    assert 1 == code and err.startswith(f"stance compare-corpora: error: {missing}:")
    assert "Traceback" not in err
