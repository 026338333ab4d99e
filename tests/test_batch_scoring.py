"""Batch scoring (`model.batch`, `model.batch_files`, `stance score`): every input row comes
out once, in order, with its fields unchanged and the documented columns added; bad input gets
a clear error naming the line; and nothing ever appears under the output name unless the whole
run succeeded."""

from __future__ import annotations

import codecs
import csv
import errno
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli.main import main as stance_main
from model import batch_files
from model.batch import EXPLAIN_COLUMNS, choose_text_column, output_columns, score_texts
from model.batch_files import atomic_output, score_file
from model.labels import SENTIMENT_LABELS, STANCE_LABELS

STANCE = Path(sys.executable).with_name("stance")
COLUMNS = output_columns()
N_SCORES = len(COLUMNS) - 1
NUMERIC = [name for name in COLUMNS if "_score" in name or "_p_" in name]
TIMING = re.compile(r" in \d+\.\d s \([\d,]+ rows/s\)")
ENOSPC_MESSAGE = os.strerror(errno.ENOSPC)

SUBJECTS = ["Ukraine", "Kyiv", "The Alliance", "NATO", "Our government", "Україна", "Berlin"]
VERBS = ["should join", "must never join", "will discuss", "welcomes", "rejects", "delays"]
OBJECTS = ["membership this year", "the accession talks", "a security guarantee", "the summit"]
ENDINGS = [".", "!", "?", ", said the minister.", ' — "now", they said.', " 🇺🇦"]


# -- helpers -------------------------------------------------------------------------------


def expected_cells(model: Any, texts: Sequence[str]) -> list[list[str]]:
    """The ten score cells per text, straight from the model's probabilities: label of the
    highest probability, P(first) - P(second) as the score, then the three probabilities."""
    stance, sentiment = model.predict_proba(list(texts))
    rows = []
    for ps, pt in zip(stance, sentiment, strict=True):
        rows.append(
            [STANCE_LABELS[int(np.argmax(ps))], f"{ps[0] - ps[1]:.6f}"]
            + [f"{p:.6f}" for p in ps]
            + [SENTIMENT_LABELS[int(np.argmax(pt))], f"{pt[0] - pt[1]:.6f}"]
            + [f"{p:.6f}" for p in pt]
        )
    return rows


def flagged(reason: str) -> list[str]:
    """The added cells of a row that was not scored."""
    return [""] * N_SCORES + [reason]


def sentence(rng: random.Random, i: int) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} (#{i}){rng.choice(ENDINGS)}"


def write_csv(path: Path, rows: Sequence[Sequence[str]], lineterminator: str = "\n") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator=lineterminator).writerows(rows)
    return path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def summary(stderr: str) -> str:
    """stderr with the run's timing replaced by fixed placeholders."""
    return TIMING.sub(" in T s (R rows/s)", stderr)


def score(model_dir: Path, *args: Any, jobs: int = 1) -> int:
    """`stance score ARGS` in this process, one job unless told otherwise."""
    argv = ["score", *map(str, args), "--jobs", str(jobs), "--model-dir", str(model_dir)]
    return stance_main(argv)


def _default_sigint() -> None:
    # A shell that starts pytest in the background ignores SIGINT, and children inherit that.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# -- rows, order and columns ---------------------------------------------------------------


def test_output_columns_are_the_documented_ones():
    """The added columns are exactly the issue's list, in its order, with `error` last."""
    expected = [
        "stance",
        "stance_score",
        "stance_p_support",
        "stance_p_oppose",
        "stance_p_neutral",
        "sentiment",
        "sentiment_score",
        "sentiment_p_positive",
        "sentiment_p_negative",
        "sentiment_p_neutral",
        "error",
    ]
    assert expected == output_columns()
    assert ["x_" + name for name in expected] == output_columns("x_")
    assert expected[:-1] + list(EXPLAIN_COLUMNS) + ["error"] == output_columns(explain=True)


def test_tricky_fields_come_back_unchanged_in_order(model_dir, loaded_model, tmp_path):
    """Quoted newlines, commas, double quotes, emoji and non-Latin scripts survive the round trip:
    same row count and order, every input field unchanged, then the scores and an empty error."""
    rows = [
        ["1", "Ukraine, NATO and the EU: all three, now.", "comma, inside"],
        ["2", 'He said "never" twice, then ""maybe"".', 'quote "x"'],
        ["3", "First line\nsecond line\r\nthird\rline", "multi\nline"],
        ["4", "Україна має стати членом НАТО вже цього року.", "Ukrainian"],
        ["5", "يجب أن تنضم أوكرانيا إلى حلف الناتو", "Arabic"],
        ["6", "乌克兰应该加入北约。ウクライナはNATOに加盟すべきだ。", "CJK"],
        ["7", "NATO 🇺🇦🤝🇪🇺 👩‍👩‍👧 💙💛", "emoji 🚀"],
        ["8", "  padded with spaces  ", "  "],
        ["9", "=1+2 ; 'single' | tab\there", ""],
    ]
    source = write_csv(tmp_path / "in.csv", [["id", "text", "note"], *rows], "\r\n")
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target, "--quiet")
    scores = expected_cells(loaded_model, [row[1] for row in rows])
    expected = [["id", "text", "note", *COLUMNS]] + [
        row + cells + [""] for row, cells in zip(rows, scores, strict=True)
    ]
    assert expected == read_csv(target)


def test_many_rows_across_chunks_keep_their_order(model_dir, loaded_model, tmp_path):
    """With many small chunks, row i of the output is row i of the input, scored on its own text."""
    rng = random.Random(1)
    rows = [[str(i), sentence(rng, i)] for i in range(257)]
    source = write_csv(tmp_path / "in.csv", [["id", "text"], *rows])
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target, "--chunk-rows", "10", "--quiet")
    scores = expected_cells(loaded_model, [row[1] for row in rows])
    expected = [["id", "text", *COLUMNS]] + [
        row + cells + [""] for row, cells in zip(rows, scores, strict=True)
    ]
    assert expected == read_csv(target)


def test_very_long_texts_are_kept_whole_and_scored(model_dir, loaded_model, tmp_path):
    """Texts of 100,000 characters (beyond csv's default field limit) pass through whole."""
    latin = ("Ukraine belongs in NATO, " * 4000)[:100_000]
    cyrillic = ("Україна — це Європа. " * 5000)[:100_000]
    rows = [["1", latin], ["2", "short one"], ["3", cyrillic]]
    source = write_csv(tmp_path / "in.csv", [["id", "text"], *rows])
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target, "--quiet")
    out = read_csv(target)
    scores = expected_cells(loaded_model, [row[1] for row in rows])
    assert [100_000, 9, 100_000] == [len(row[1]) for row in out[1:]]
    expected = [["id", "text", *COLUMNS]] + [
        row + cells + [""] for row, cells in zip(rows, scores, strict=True)
    ]
    assert expected == out


def test_header_only_input_gives_header_only_output(model_dir, tmp_path, capsys):
    """A header without rows is a valid empty input: the output is the extended header."""
    source = tmp_path / "in.csv"
    source.write_text("id,text\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target)
    assert [["id", "text", *COLUMNS]] == read_csv(target)
    expected = f"scored 0 of 0 rows, flagged 0, in T s (R rows/s) -> {target}\n"
    assert expected == summary(capsys.readouterr().err)


def test_explain_adds_feature_columns_before_error(model_dir, loaded_model, tmp_path):
    """--explain adds stance_features and sentiment_features (top features toward the label)
    between the scores and `error`; flagged rows leave them empty."""
    text = "Ukraine belongs in NATO and the allies should invite it"
    source = write_csv(tmp_path / "in.csv", [["text"], [text], [""]])
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target, "--explain", "--quiet")
    explanation = loaded_model.explain(text, 5)
    features = [
        "; ".join(f"{f['feature']} ({f['weight']:+.3f})" for f in explanation[head]["toward"])
        for head in ("stance", "sentiment")
    ]
    expected = [
        ["text", *output_columns(explain=True)],
        [text, *expected_cells(loaded_model, [text])[0], *features, ""],
        ["", *[""] * (N_SCORES + 2), "empty text"],
    ]
    assert expected == read_csv(target)


# -- the error column ----------------------------------------------------------------------


def test_empty_and_whitespace_texts_are_flagged_in_place(model_dir, loaded_model, tmp_path):
    """Empty and whitespace-only texts keep their place with empty scores and `empty text`."""
    rows = [["1", "Ukraine must join NATO"], ["2", ""], ["3", "  \t "], ["4", "Never in NATO"]]
    source = write_csv(tmp_path / "in.csv", [["id", "text"], *rows])
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target, "--quiet")
    first, last = expected_cells(loaded_model, ["Ukraine must join NATO", "Never in NATO"])
    expected = [
        ["id", "text", *COLUMNS],
        ["1", "Ukraine must join NATO", *first, ""],
        ["2", "", *flagged("empty text")],
        ["3", "  \t ", *flagged("empty text")],
        ["4", "Never in NATO", *last, ""],
    ]
    assert expected == read_csv(target)


def test_short_rows_are_padded_scored_if_text_present_flagged_if_missing(
    model_dir, loaded_model, tmp_path
):
    """A row with fewer fields than the header is padded with empty fields; it is scored when
    its text field is present and flagged `missing text` (with the counts) when it is not."""
    source = tmp_path / "in.csv"
    source.write_text(
        "id,text,speaker\n1,Kyiv must be invited,minister\n2,Ukraine belongs in NATO\n3\n",
        encoding="utf-8",
    )
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target, "--quiet")
    full, short = expected_cells(loaded_model, ["Kyiv must be invited", "Ukraine belongs in NATO"])
    expected = [
        ["id", "text", "speaker", *COLUMNS],
        ["1", "Kyiv must be invited", "minister", *full, ""],
        ["2", "Ukraine belongs in NATO", "", *short, ""],
        ["3", "", "", *flagged("missing text (row has 1 of 3 fields)")],
    ]
    assert expected == read_csv(target)


def test_row_with_more_fields_than_header_is_an_error_with_its_line(model_dir, tmp_path, capsys):
    """A row with more fields than the header stops the run with its physical line number
    (a quoted newline earlier counts as a line) and writes nothing."""
    source = tmp_path / "in.csv"
    source.write_text('id,text\n1,"two\nlines"\n2,Ukraine, NATO\n3,fine\n', encoding="utf-8")
    target = tmp_path / "out.csv"
    assert 1 == score(model_dir, source, "-o", target)
    expected = (
        "stance score: error: line 4: 3 fields but the header has 2; "
        "quote texts that contain commas\n"
    )
    assert expected == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


# -- text column detection and collisions --------------------------------------------------


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        (["statement", "quote", "text"], "text"),
        (["statement", "quote", "id"], "quote"),
        (["id", "statement"], "statement"),
    ],
)
def test_text_column_is_text_then_quote_then_statement(
    model_dir, loaded_model, tmp_path, header, chosen
):
    """Without --text-column the first of text, quote, statement present is scored."""
    text = "Ukraine should be invited to join NATO"
    row = [text if name == chosen else "" for name in header]
    source = write_csv(tmp_path / "in.csv", [header, row])
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target, "--quiet")
    assert [header + COLUMNS, row + expected_cells(loaded_model, [text])[0] + [""]] == read_csv(
        target
    )
    assert chosen == choose_text_column(header, None)


def test_text_column_option_overrides_detection(model_dir, loaded_model, tmp_path):
    """--text-column scores the named column even when a `text` column exists."""
    rows = [["", "NATO membership for Ukraine now"]]
    source = write_csv(tmp_path / "in.csv", [["text", "headline"], *rows])
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target, "--text-column", "headline", "--quiet")
    cells = expected_cells(loaded_model, ["NATO membership for Ukraine now"])[0]
    assert [["text", "headline", *COLUMNS], ["", rows[0][1], *cells, ""]] == read_csv(target)


def test_no_text_column_is_an_error_listing_the_columns(model_dir, tmp_path, capsys):
    """An input without text/quote/statement fails, listing its columns and naming the option."""
    source = write_csv(tmp_path / "in.csv", [["id", "body"], ["1", "Ukraine in NATO"]])
    assert 1 == score(model_dir, source, "-o", tmp_path / "out.csv")
    expected = (
        "stance score: error: no text column found (looked for text, quote, statement); "
        "the columns are: 'id', 'body'; name the column with --text-column\n"
    )
    assert expected == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


def test_unknown_text_column_option_is_an_error_listing_the_columns(model_dir, tmp_path, capsys):
    """--text-column naming an absent column fails and lists the columns that exist."""
    source = write_csv(tmp_path / "in.csv", [["id", "text"], ["1", "Ukraine in NATO"]])
    assert 1 == score(model_dir, source, "-o", tmp_path / "out.csv", "--text-column", "body")
    expected = "stance score: error: text column 'body' not found; the columns are: 'id', 'text'\n"
    assert expected == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


def test_input_with_an_output_column_is_refused(model_dir, tmp_path, capsys):
    """An input that already has `stance` or `error` is refused (never silently overwritten),
    with the clashing names and a --prefix suggestion."""
    source = write_csv(tmp_path / "in.csv", [["text", "stance", "error"], ["Join", "pro", ""]])
    assert 1 == score(model_dir, source, "-o", tmp_path / "out.csv")
    expected = (
        "stance score: error: the input already has output column(s) 'stance', 'error'; "
        "they would be overwritten. Use --prefix (e.g. --prefix new_) to name the output "
        "columns apart\n"
    )
    assert expected == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


def test_prefix_resolves_a_column_collision(model_dir, loaded_model, tmp_path):
    """With --prefix the added columns are renamed and the input's own `stance` is kept."""
    source = write_csv(tmp_path / "in.csv", [["text", "stance"], ["Ukraine joins NATO", "pro"]])
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target, "--prefix", "model_", "--quiet")
    cells = expected_cells(loaded_model, ["Ukraine joins NATO"])[0]
    expected = [
        ["text", "stance", *(f"model_{name}" for name in COLUMNS)],
        ["Ukraine joins NATO", "pro", *cells, ""],
    ]
    assert expected == read_csv(target)


# -- encodings and malformed CSV -----------------------------------------------------------


def test_utf8_with_and_without_bom_give_the_same_output(model_dir, tmp_path):
    """A UTF-8 BOM (even right before the text column's name) changes nothing in the output."""
    content = "text,id\nУкраїна в НАТО,1\nNATO now 🇺🇦,2\n".encode()
    plain = tmp_path / "plain.csv"
    plain.write_bytes(content)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + content)
    assert 0 == score(model_dir, plain, "-o", tmp_path / "plain.out.csv", "--quiet")
    assert 0 == score(model_dir, bom, "-o", tmp_path / "bom.out.csv", "--quiet")
    expected = (tmp_path / "plain.out.csv").read_bytes()
    assert expected == (tmp_path / "bom.out.csv").read_bytes()
    assert expected.startswith(b"text,id,stance,")


WIDE_ENCODINGS = [
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-32-le", codecs.BOM_UTF32_LE),
    ("utf-32-be", codecs.BOM_UTF32_BE),
]
# Non-ASCII text, CRLF line ends, a quoted newline and characters whose UTF-16 bytes hold
# 0x0A (U+010A, U+0A0A): a reader that split the bytes at 0x0A would cut them apart.
WIDE_CONTENT = 'id,text\r\n1,Україна в НАТО 🇺🇦\r\n2,"two\r\nlines, NATO Ċ"\r\n3,Kyiv ਊ now\r\n'


@pytest.mark.parametrize(("encoding", "mark"), WIDE_ENCODINGS, ids=[e for e, _ in WIDE_ENCODINGS])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_utf16_and_utf32_with_a_byte_order_mark_score_like_utf8(
    model_dir, tmp_path, encoding, mark, suffix
):
    """A CSV or JSON Lines file in UTF-16 or UTF-32 with its byte-order mark is read as such
    without --encoding: the output (UTF-8) is byte for byte that of the same file in UTF-8."""
    content = WIDE_CONTENT
    if suffix == ".jsonl":
        content = "".join(
            json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
            for i, t in enumerate(["Україна в НАТО 🇺🇦", "NATO Ċ ਊ now"])
        )
    utf8 = tmp_path / f"utf8{suffix}"
    utf8.write_bytes(content.encode("utf-8"))
    wide = tmp_path / f"wide{suffix}"
    wide.write_bytes(mark + content.encode(encoding))
    assert 0 == score(model_dir, utf8, "-o", tmp_path / f"utf8.out{suffix}", "--quiet")
    assert 0 == score(model_dir, wide, "-o", tmp_path / f"wide.out{suffix}", "--quiet")
    expected = (tmp_path / f"utf8.out{suffix}").read_bytes()
    assert expected == (tmp_path / f"wide.out{suffix}").read_bytes()


def test_utf16_from_stdin_is_read_by_its_byte_order_mark(model_dir, tmp_path, monkeypatch, capsys):
    """The byte-order mark works on stdin too (the input is decoded as it streams)."""
    data = codecs.BOM_UTF16_LE + WIDE_CONTENT.encode("utf-16-le")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert 0 == score(model_dir, "-", "-o", tmp_path / "out.csv", "--quiet")
    rows = read_csv(tmp_path / "out.csv")
    assert ["1", "2", "3"] == [row[0] for row in rows[1:]]
    assert "two\r\nlines, NATO Ċ" == rows[2][1]


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (
            codecs.BOM_UTF16_LE + "id,text\n1,NATO\n".encode("utf-16-le") + b"\x00\xdc",
            [],
            "line 3: bytes that are not valid UTF-16 (little-endian) at column 1; the file is "
            "read as UTF-16 (little-endian) because it starts with that byte-order mark",
        ),
        (
            codecs.BOM_UTF16_BE + "id,text\n1,NATO\n".encode("utf-16-be") + b"\x00",
            [],
            "line 3: the input ends in the middle of a UTF-16 (big-endian) character; "
            "the file looks truncated",
        ),
        (
            codecs.BOM_UTF32_LE + "id,text\n1,NATO\n".encode("utf-32-le"),
            ["--encoding", "cp1252"],
            "the input starts with a UTF-32 (little-endian) byte-order mark, but the encoding "
            "given is cp1252; leave --encoding out to read it as UTF-32 (little-endian)",
        ),
    ],
    ids=["lone-surrogate", "truncated", "other-encoding-given"],
)
def test_broken_utf16_and_utf32_are_clear_errors(
    model_dir, tmp_path, capsys, data, options, message
):
    """A damaged or truncated UTF-16/32 file, or one given another --encoding, is refused
    with the line and the reason, and nothing is written."""
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    assert 1 == score(model_dir, source, "-o", tmp_path / "out.csv", *options)
    assert f"stance score: error: {message}\n" == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


def test_utf16_without_a_mark_is_read_when_named(model_dir, tmp_path):
    """--encoding utf-16-le reads a file without a byte-order mark (decoded in blocks, since
    its newlines are not single 0x0A bytes)."""
    source = tmp_path / "in.csv"
    source.write_bytes(WIDE_CONTENT.encode("utf-16-le"))
    assert 0 == score(model_dir, source, "-o", tmp_path / "out.csv", "--encoding", "utf-16-le")
    assert ["1", "2", "3"] == [row[0] for row in read_csv(tmp_path / "out.csv")[1:]]


def test_non_utf8_bytes_are_an_error_naming_line_and_encoding_option(model_dir, tmp_path, capsys):
    """cp1252 bytes in a UTF-8 read fail with the line, the byte column and --encoding advice,
    and nothing is written."""
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,text\n1,Kyiv\n2,Caf\xe9 \x93NATO\x94\n")
    assert 1 == score(model_dir, source, "-o", tmp_path / "out.csv")
    expected = (
        "stance score: error: line 3: bytes that are not valid utf-8 at column 6; "
        "if the file has another encoding, pass it with --encoding (e.g. --encoding cp1252)\n"
    )
    assert expected == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


@pytest.mark.parametrize(
    ("encoding", "raw", "text"),
    [
        ("cp1252", b"Caf\xe9 \x93NATO\x94 \x96 now", "Café “NATO” – now"),
        ("latin-1", b"Caf\xe9 na\xefve NATO", "Café naïve NATO"),
    ],
)
def test_encoding_option_reads_other_encodings(
    model_dir, loaded_model, tmp_path, encoding, raw, text
):
    """--encoding decodes the input; the output is UTF-8 with the text intact."""
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,text\n1," + raw + b"\n")
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target, "--encoding", encoding, "--quiet")
    cells = expected_cells(loaded_model, [text])[0]
    assert [["id", "text", *COLUMNS], ["1", text, *cells, ""]] == read_csv(target)


def test_unknown_encoding_is_a_clear_error(model_dir, tmp_path, capsys):
    """An encoding name Python does not know is reported as such."""
    source = write_csv(tmp_path / "in.csv", [["text"], ["NATO"]])
    assert 1 == score(model_dir, source, "-o", tmp_path / "out.csv", "--encoding", "klingon")
    expected = "stance score: error: unknown encoding 'klingon' (try utf-8, cp1252 or latin-1)\n"
    assert expected == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (
            'id,text\n1,fine\n2,"two\nlines"\n3,"unclosed\n4,more\n5,rows\n',
            5,
            "unexpected end of data",
        ),
        ('id,text\n1,fine\n2,"quoted"tail\n3,fine\n', 3, "',' expected after '\"'"),
    ],
)
def test_malformed_csv_is_an_error_with_the_line_number(
    model_dir, tmp_path, capsys, content, line, reason
):
    """An unclosed or stray quote stops the run at the line where the bad row starts."""
    source = tmp_path / "in.csv"
    source.write_text(content, encoding="utf-8")
    assert 1 == score(model_dir, source, "-o", tmp_path / "out.csv")
    expected = f"stance score: error: line {line}: malformed CSV ({reason}); check the quoting of that row\n"
    assert expected == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


def test_empty_input_is_an_error(model_dir, tmp_path, capsys):
    """A file without even a header is refused and nothing is written."""
    source = tmp_path / "in.csv"
    source.write_bytes(b"")
    assert 1 == score(model_dir, source, "-o", tmp_path / "out.csv")
    expected = "stance score: error: the input is empty: expected a header row naming the columns\n"
    assert expected == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


# -- stdin and stdout ----------------------------------------------------------------------


def test_stdin_to_stdout_in_process(model_dir, tmp_path, monkeypatch, capsys):
    """`-` reads stdin and writes stdout: the bytes equal a file-to-file run, the summary goes
    to stderr."""
    data = 'id,text\n1,"Ukraine, NATO"\n2,\n3,Україна 🇺🇦\n'.encode()
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    assert 0 == score(model_dir, source, "-o", tmp_path / "out.csv", "--quiet")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert 0 == score(model_dir, "-", "-o", "-")
    stdout.flush()
    assert (tmp_path / "out.csv").read_bytes() == stdout.buffer.getvalue()
    expected = "scored 2 of 3 rows, flagged 1, in T s (R rows/s) -> -\n"
    assert expected == summary(capsys.readouterr().err)


def test_stdin_defaults_to_stdout(model_dir, tmp_path, monkeypatch, capsys):
    """Input `-` without -o writes to stdout."""
    data = b"text\nNATO now\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert 0 == score(model_dir, "-", "--quiet")
    stdout.flush()
    lines = stdout.buffer.getvalue().decode().splitlines()
    assert ["text," + ",".join(COLUMNS)] == lines[:1]
    assert 2 == len(lines)
    assert "" == capsys.readouterr().err


def test_stdin_to_stdout_subprocess(model_dir, tmp_path):
    """The installed `stance score - -o -` with STANCE_MODEL_DIR (here with two workers) writes
    to stdout the bytes of a file-to-file run, and only the summary line to stderr."""
    data = 'id,text\n1,"Ukraine, ""NATO""\nnow"\n2,   \n3,乌克兰 北约\n'.encode()
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    assert 0 == score(model_dir, source, "-o", tmp_path / "out.csv", "--quiet")
    result = subprocess.run(
        [str(STANCE), "score", "-", "-o", "-", "--jobs", "2", "--chunk-rows", "1"],
        input=data,
        capture_output=True,
        env={**os.environ, "STANCE_MODEL_DIR": str(model_dir)},
        timeout=60,
        check=False,
    )
    assert 0 == result.returncode
    assert (tmp_path / "out.csv").read_bytes() == result.stdout
    expected = "scored 2 of 3 rows, flagged 1, in T s (R rows/s) -> -\n"
    assert expected == summary(result.stderr.decode())


def test_stdin_with_jsonl_output_name_reads_json_lines(
    model_dir, loaded_model, tmp_path, monkeypatch
):
    """From stdin the format follows the output name: `-o x.jsonl` reads and writes JSON Lines."""
    data = b'{"text": "Ukraine in NATO"}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    target = tmp_path / "out.jsonl"
    assert 0 == score(model_dir, "-", "-o", target, "--quiet")
    cells = expected_cells(loaded_model, ["Ukraine in NATO"])[0]
    values = [float(c) if n in NUMERIC else c for n, c in zip(COLUMNS, cells, strict=False)]
    expected = {
        "text": "Ukraine in NATO",
        **dict(zip(COLUMNS, values, strict=False)),
        "error": None,
    }
    assert [expected] == read_jsonl(target)


# -- JSON Lines ----------------------------------------------------------------------------


def test_jsonl_round_trip_numbers_nulls_and_errors(model_dir, loaded_model, tmp_path):
    """.jsonl in gives .jsonl out: every object keeps its fields and order, then the score
    fields (probabilities and scores as JSON numbers) and `error`; flagged objects get null
    scores and the reason; blank lines are not records."""
    objects = [
        {"id": 1, "text": 'Ukraine, NATO: "now"\nplease', "meta": {"tags": ["a", 2]}, "w": 0.5},
        {"id": 2, "text": ""},
        {"id": 3, "note": "no text here"},
        {"id": 4, "text": None},
        {"id": 5, "text": 42},
        {"id": 6, "text": "Україна в НАТО 🇺🇦 يجب 北约"},
    ]
    lines = [json.dumps(obj, ensure_ascii=False) for obj in objects]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines[:3] + [""] + lines[3:]) + "\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    assert 0 == score(model_dir, source, "-o", target, "--quiet")
    first, last = expected_cells(loaded_model, [objects[0]["text"], objects[5]["text"]])

    def scored(obj: dict[str, Any], cells: list[str]) -> dict[str, Any]:
        values = [float(c) if n in NUMERIC else c for n, c in zip(COLUMNS, cells, strict=False)]
        return {**obj, **dict(zip(COLUMNS, values, strict=False)), "error": None}

    def nulls(obj: dict[str, Any], reason: str) -> dict[str, Any]:
        return {**obj, **dict.fromkeys(COLUMNS[:-1]), "error": reason}

    expected = [
        scored(objects[0], first),
        nulls(objects[1], "empty text"),
        nulls(objects[2], "missing text"),
        nulls(objects[3], "missing text"),
        nulls(objects[4], "text is int, not a string"),
        scored(objects[5], last),
    ]
    out = read_jsonl(target)
    assert expected == out
    assert [list(obj) + COLUMNS for obj in objects] == [list(obj) for obj in out]
    assert [float] * len(NUMERIC) == [type(out[0][name]) for name in NUMERIC]
    assert "Україна в НАТО 🇺🇦" in target.read_text(encoding="utf-8")


def test_jsonl_prefix_keeps_labels_as_strings(model_dir, loaded_model, tmp_path):
    """A prefix containing `_p_` or `_score` renames the fields but labels stay strings
    (they were once converted to numbers by name and crashed)."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "Kyiv must join NATO", "stance": "pro"}\n', encoding="utf-8")
    target = tmp_path / "out.jsonl"
    assert 0 == score(model_dir, source, "-o", target, "--prefix", "m_p_score_", "--quiet")
    cells = expected_cells(loaded_model, ["Kyiv must join NATO"])[0]
    values = [float(c) if n in NUMERIC else c for n, c in zip(COLUMNS, cells, strict=False)]
    expected = {
        "text": "Kyiv must join NATO",
        "stance": "pro",
        **{f"m_p_score_{n}": v for n, v in zip(COLUMNS, values, strict=False)},
        "m_p_score_error": None,
    }
    assert [expected] == read_jsonl(target)


def test_jsonl_collision_is_refused(model_dir, tmp_path, capsys):
    """A JSON object that already has an output field is refused, suggesting --prefix."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "NATO", "sentiment": "good"}\n', encoding="utf-8")
    assert 1 == score(model_dir, source, "-o", tmp_path / "out.jsonl")
    expected = (
        "stance score: error: the input already has output column(s) 'sentiment'; they would "
        "be overwritten. Use --prefix (e.g. --prefix new_) to name the output columns apart\n"
    )
    assert expected == capsys.readouterr().err
    assert ["in.jsonl"] == names(tmp_path)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ('{"id": 3, "text": }', "line 4: not valid JSON (Expecting value at column 19)"),
        ('{"id": 3 "text": "x"}', "line 4: not valid JSON (Expecting ',' delimiter at column 10)"),
        ('["Ukraine", "NATO"]', "line 4: expected a JSON object, got list"),
    ],
)
def test_invalid_json_line_is_an_error_with_its_line_number(
    model_dir, tmp_path, capsys, bad, message
):
    """A line that is not a JSON object stops the run with its physical line number (blank
    lines count) and writes nothing."""
    source = tmp_path / "in.jsonl"
    source.write_text(f'{{"text": "a"}}\n\n{{"text": "b"}}\n{bad}\n', encoding="utf-8")
    assert 1 == score(model_dir, source, "-o", tmp_path / "out.jsonl")
    assert f"stance score: error: {message}\n" == capsys.readouterr().err
    assert ["in.jsonl"] == names(tmp_path)


# -- the interrupted-run guarantee ---------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_error_near_the_end_leaves_no_output_and_no_partial(model_dir, tmp_path, capsys, jobs):
    """A malformed row after many chunks were written leaves no file under the output name,
    no `.partial` file, and an existing output file byte for byte as it was."""
    rng = random.Random(2)
    rows = [[str(i), sentence(rng, i)] for i in range(300)]
    source = write_csv(tmp_path / "in.csv", [["id", "text"], *rows])
    with source.open("a", encoding="utf-8") as handle:
        handle.write("300,Ukraine,NATO\n301,fine\n")
    fresh = tmp_path / "fresh.csv"
    kept = tmp_path / "kept.csv"
    kept.write_bytes(b"id,text,stance\nprevious,results,stay\n")
    message = (
        "stance score: error: line 302: 3 fields but the header has 2; "
        "quote texts that contain commas\n"
    )
    for target in (fresh, kept):
        assert 1 == score(model_dir, source, "-o", target, "--chunk-rows", "10", jobs=jobs)
        assert message == capsys.readouterr().err
    assert ["in.csv", "kept.csv"] == names(tmp_path)
    assert b"id,text,stance\nprevious,results,stay\n" == kept.read_bytes()


def test_atomic_output_appears_only_when_the_block_completes(tmp_path):
    """atomic_output writes to a hidden temporary file and renames it into place on success;
    an exception removes it and leaves the previous file untouched."""
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_output(str(target)) as handle:
        handle.write("new, half written\n")
        handle.flush()
        [partial] = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
        assert partial.name.startswith(".out.csv.")
        raise RuntimeError("stop")
    assert ["out.csv"] == names(tmp_path)
    assert "old\n" == target.read_text(encoding="utf-8")
    with atomic_output(str(target)) as handle:
        handle.write("new\n")
    assert ["out.csv"] == names(tmp_path)
    assert "new\n" == target.read_text(encoding="utf-8")


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_output_file_gets_the_mode_of_any_new_file(loaded_model, tmp_path, umask):
    """The output is not left private like its temporary file: it gets the mode a file
    created with open() gets under the same umask."""
    source = write_csv(tmp_path / "in.csv", [["text"], ["NATO"]])
    previous = os.umask(umask)
    try:
        reference = tmp_path / "reference"
        reference.write_text("x", encoding="utf-8")
        score_file(loaded_model, str(source), str(tmp_path / "out.csv"))
    finally:
        os.umask(previous)
    assert reference.stat().st_mode == (tmp_path / "out.csv").stat().st_mode


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200,000 rows of varied statements: minutes of scoring, so a signal lands mid-run."""
    rng = random.Random(3)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "text"])
    writer.writerows([i, sentence(rng, i)] for i in range(200_000))
    path = tmp_path_factory.mktemp("big") / "statements.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize(
    ("sig", "message"),
    [
        pytest.param(
            signal.SIGTERM,
            "stance score: stopped by SIGTERM; no output file was written\n",
            id="SIGTERM",
        ),
        pytest.param(
            signal.SIGINT,
            "stance score: interrupted (Ctrl-C); no output file was written\n",
            id="SIGINT",
        ),
    ],
)
def test_signal_mid_run_leaves_no_output_and_no_partial(
    model_dir, big_csv, tmp_path, sig, message, jobs
):
    """SIGTERM or SIGINT while `stance score` is writing: it exits 130 promptly, says it was
    stopped, and leaves neither the output file nor its temporary file (with workers too)."""
    target = tmp_path / "scored.csv"
    proc = subprocess.Popen(
        [str(STANCE), "score", str(big_csv), "-o", str(target), "--jobs", str(jobs)]
        + ["--chunk-rows", "500"],
        env={**os.environ, "STANCE_MODEL_DIR": str(model_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 60
        written = 0
        while written == 0:  # wait until a truncated file really exists
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no partial output within 60 s"
            time.sleep(0.02)
            partials = list(tmp_path.glob(".scored.csv.*.partial"))
            written = partials[0].stat().st_size if partials else 0
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:  # hung: kill it and its workers so the suite goes on
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert 130 == proc.returncode
    assert message == stderr.decode()
    assert b"" == stdout
    assert [] == names(tmp_path)


class FullDiskHandle:
    """A text handle that accepts `room` writes, then fails as a full disk does."""

    def __init__(self, handle: Any, room: int) -> None:
        self._handle = handle
        self._room = room

    def write(self, text: str) -> int:
        if self._room == 0:
            raise OSError(errno.ENOSPC, ENOSPC_MESSAGE)
        self._room -= 1
        return self._handle.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> FullDiskHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


@pytest.mark.parametrize("existing", [False, True])
def test_full_disk_while_writing_leaves_no_output(
    model_dir, tmp_path, capsys, monkeypatch, existing
):
    """ENOSPC part way through the writes: the CLI says so, exits 1, removes the temporary
    file and leaves any existing output untouched."""
    rows = [[str(i), f"Ukraine and NATO, statement {i}"] for i in range(20)]
    source = write_csv(tmp_path / "in.csv", [["id", "text"], *rows])
    target = tmp_path / "out.csv"
    if existing:
        target.write_bytes(b"earlier run\n")
    real_fdopen = os.fdopen
    monkeypatch.setattr(
        batch_files.os, "fdopen", lambda *a, **k: FullDiskHandle(real_fdopen(*a, **k), 2)
    )
    assert 1 == score(model_dir, source, "-o", target, "--chunk-rows", "3")
    expected = (
        f"stance score: error: {ENOSPC_MESSAGE} while writing; nothing was written under {target}\n"
    )
    assert expected == capsys.readouterr().err
    if existing:
        assert ["in.csv", "out.csv"] == names(tmp_path)
        assert b"earlier run\n" == target.read_bytes()
    else:
        assert ["in.csv"] == names(tmp_path)


def test_full_disk_at_fsync_leaves_no_output(model_dir, tmp_path, capsys, monkeypatch):
    """ENOSPC surfacing only when the data is synced to disk still leaves no output file."""
    source = write_csv(tmp_path / "in.csv", [["text"], ["Ukraine in NATO"]])

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, ENOSPC_MESSAGE)

    monkeypatch.setattr(batch_files.os, "fsync", full)
    target = tmp_path / "out.csv"
    assert 1 == score(model_dir, source, "-o", target)
    expected = (
        f"stance score: error: {ENOSPC_MESSAGE} while writing; nothing was written under {target}\n"
    )
    assert expected == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


# -- parallel scoring ----------------------------------------------------------------------


def _mixed_rows(n: int) -> list[list[str]]:
    rng = random.Random(4)
    rows = []
    for i in range(n):
        text = "" if i % 17 == 0 else "   " if i % 29 == 0 else sentence(rng, i)
        rows.append([str(i), text, rng.choice(["mp", "minister", "citizen"])])
    return rows


def test_jobs_2_gives_byte_identical_csv(model_dir, tmp_path, capsys):
    """--jobs 2 with many small chunks writes exactly the bytes of --jobs 1, same summary."""
    source = write_csv(tmp_path / "in.csv", [["id", "text", "speaker"], *_mixed_rows(300)])
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert 0 == score(model_dir, source, "-o", one, "--chunk-rows", "7", jobs=1)
    first = summary(capsys.readouterr().err)
    assert 0 == score(model_dir, source, "-o", two, "--chunk-rows", "7", jobs=2)
    second = summary(capsys.readouterr().err)
    assert one.read_bytes() == two.read_bytes()
    assert 301 == len(read_csv(two))
    assert first.replace("one.csv", "two.csv") == second


def test_jobs_2_gives_byte_identical_jsonl(model_dir, tmp_path):
    """--jobs 2 on JSON Lines writes exactly the bytes of --jobs 1."""
    rows = _mixed_rows(200)
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps({"id": int(i), "text": t, "who": w}) + "\n" for i, t, w in rows),
        encoding="utf-8",
    )
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert 0 == score(model_dir, source, "-o", one, "--chunk-rows", "9", "--quiet", jobs=1)
    assert 0 == score(model_dir, source, "-o", two, "--chunk-rows", "9", "--quiet", jobs=2)
    assert one.read_bytes() == two.read_bytes()
    assert 200 == len(read_jsonl(two))


# -- the command line ----------------------------------------------------------------------


def test_summary_line_counts_scored_and_flagged_rows(model_dir, tmp_path, capsys):
    """The one-line summary on stderr gives rows scored of total, rows flagged, the time and
    the output; nothing goes to stdout."""
    rows = [["Ukraine in NATO"], [""], ["Never"], ["  "], ["Kyiv"]]
    source = write_csv(tmp_path / "in.csv", [["text"], *rows])
    target = tmp_path / "out.csv"
    assert 0 == score(model_dir, source, "-o", target)
    captured = capsys.readouterr()
    expected = f"scored 3 of 5 rows, flagged 2, in T s (R rows/s) -> {target}\n"
    assert expected == summary(captured.err)
    assert "" == captured.out


def test_quiet_silences_the_summary(model_dir, tmp_path, capsys):
    """--quiet prints nothing at all and still writes the output."""
    source = write_csv(tmp_path / "in.csv", [["text"], ["Ukraine in NATO"]])
    assert 0 == score(model_dir, source, "-o", tmp_path / "out.csv", "--quiet")
    assert ("", "") == tuple(capsys.readouterr())
    assert ["in.csv", "out.csv"] == names(tmp_path)


@pytest.mark.parametrize(
    ("name", "default"), [("in.csv", "in.scored.csv"), ("in.jsonl", "in.scored.jsonl")]
)
def test_default_output_name_is_beside_the_input(model_dir, tmp_path, capsys, name, default):
    """Without -o the output is INPUT with `.scored` before the suffix."""
    source = tmp_path / name
    if name.endswith(".jsonl"):
        source.write_text('{"text": "NATO"}\n', encoding="utf-8")
    else:
        source.write_text("text\nNATO\n", encoding="utf-8")
    assert 0 == score(model_dir, source)
    assert sorted([name, default]) == names(tmp_path)
    expected = f"scored 1 of 1 rows, flagged 0, in T s (R rows/s) -> {tmp_path / default}\n"
    assert expected == summary(capsys.readouterr().err)


def test_missing_input_file_is_a_clear_error(model_dir, tmp_path, capsys):
    """An input file that does not exist is named in the error and nothing is written."""
    missing = tmp_path / "nope.csv"
    assert 1 == score(model_dir, missing, "-o", tmp_path / "out.csv")
    assert f"stance score: error: input file {missing} not found\n" == capsys.readouterr().err
    assert [] == names(tmp_path)


@pytest.mark.parametrize("spelling", ["in.csv", "./in.csv", "link.csv"])
def test_output_equal_to_input_is_refused(model_dir, tmp_path, capsys, monkeypatch, spelling):
    """-o naming the input itself (directly, via ./ or a symlink) is refused and the input is
    left as it was."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.csv").write_text("text\nNATO\n", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(tmp_path / "in.csv")
    assert 1 == score(model_dir, "in.csv", "-o", spelling)
    expected = (
        "stance score: error: the output file is the input file; choose another output name\n"
    )
    assert expected == capsys.readouterr().err
    assert "text\nNATO\n" == (tmp_path / "in.csv").read_text(encoding="utf-8")
    assert ["in.csv", "link.csv"] == names(tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sub"], "input {sub} is a directory; give a CSV, JSON Lines or Parquet file"),
        (["in.csv", "-o", "sub"], "output {sub} is a directory; give a file name"),
        (["in.csv", "-o", "gone/out.csv"], "output folder {gone} does not exist"),
    ],
)
def test_bad_paths_are_clear_errors(model_dir, tmp_path, capsys, args, message):
    """A directory as input or output, or a missing output folder, is a clear error."""
    (tmp_path / "in.csv").write_text("text\nNATO\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    paths = [a if a == "-o" else str(tmp_path / a) for a in args]
    assert 1 == score(model_dir, *paths)
    text = message.format(sub=tmp_path / "sub", gone=tmp_path / "gone")
    assert f"stance score: error: {text}\n" == capsys.readouterr().err
    assert ["in.csv", "sub"] == names(tmp_path)
    assert [] == names(tmp_path / "sub")


@pytest.mark.parametrize("option", ["--jobs", "--chunk-rows"])
def test_jobs_and_chunk_rows_must_be_positive(model_dir, tmp_path, capsys, option):
    """--jobs 0 or --chunk-rows 0 is a usage error (exit 2) before anything is read."""
    source = write_csv(tmp_path / "in.csv", [["text"], ["NATO"]])
    argv = ["score", str(source), "--model-dir", str(model_dir), "--quiet"]
    argv += ["--jobs", "1", option, "0"] if option == "--chunk-rows" else [option, "0"]
    assert 2 == stance_main(argv)
    expected = "stance score: error: --jobs and --chunk-rows must be at least 1\n"
    assert expected == capsys.readouterr().err
    assert ["in.csv"] == names(tmp_path)


def test_blank_lines_are_not_rows(model_dir, loaded_model, tmp_path):
    """Blank lines (a trailing one included) carry no row: they are neither scored nor flagged."""
    source = tmp_path / "in.csv"
    source.write_text("id,text\n1,Ukraine belongs in NATO\n\n2,Never in NATO\n\n", encoding="utf-8")
    assert 0 == score(model_dir, source, "-o", tmp_path / "out.csv")
    rows = read_csv(tmp_path / "out.csv")
    assert [["1", "Ukraine belongs in NATO"], ["2", "Never in NATO"]] == [
        row[:2] for row in rows[1:]
    ]
    assert ["", ""] == [row[-1] for row in rows[1:]]


def test_a_closed_stdout_ends_the_run_quietly(model_dir, tmp_path):
    """`stance score IN -o - | head -1` stops with SIGPIPE's status and no traceback or false claim."""
    source = write_csv(
        tmp_path / "in.csv", [["text"], *[[f"Kyiv should join now {i}"] for i in range(5000)]]
    )
    command = f"'{STANCE}' score '{source}' -o - --jobs 1 --model-dir '{model_dir}' | head -1"
    completed = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, text=True, timeout=120
    )
    assert "text,stance" == completed.stdout[:11]
    assert "" == completed.stderr
    assert 141 == completed.returncode


def test_batch_cells_are_the_description_the_api_answers_with(loaded_model):
    """A scored row's cells come from the same {label, score, probabilities} that
    `POST /v1/score` returns, rounded to six decimals."""
    text = "Ukraine's future is in NATO, and we will say so at the summit."
    [prediction] = loaded_model.predict([text])
    [cells] = score_texts(loaded_model, [text])
    expected = []
    for head in ("stance", "sentiment"):
        described = prediction[head]
        expected += [described["label"], described["score"], *described["probabilities"].values()]
    assert cells[0] == expected[0] and cells[5] == expected[5]
    for i in (1, 2, 3, 4, 6, 7, 8, 9):
        assert float(cells[i]) == pytest.approx(expected[i], abs=1e-6)


def test_max_chars_scores_each_text_on_its_first_characters(loaded_model):
    """`BatchOptions.max_chars` (what the HTTP upload sets to MAX_CHARS) is the one place a
    text is cut: the cells are those of the cut text, for scores and explanations alike."""
    text = "Ukraine must join NATO without delay. " + "The weather in Brussels was grey. " * 40
    limit = 38
    cut = score_texts(loaded_model, [text], explain=True, max_chars=limit)
    assert cut == score_texts(loaded_model, [text[:limit]], explain=True)
    assert cut != score_texts(loaded_model, [text], explain=True)
