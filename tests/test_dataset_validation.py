"""Validation of labelled CSVs: every problem listed with its line number, nothing trained."""

import pytest

from training.dataset import DatasetError, load_labelled_csv, parse_labelled_csv

GOOD = "text,stance,sentiment\nKyiv belongs in NATO,support,positive\nNot now,oppose,neutral\n"


def problems_of(raw: bytes) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        parse_labelled_csv(raw, "data.csv")
    return caught.value.problems


def test_valid_csv_is_read_with_labels_in_order():
    """A valid file gives its texts and labels in file order."""
    quotes = parse_labelled_csv(GOOD.encode(), "data.csv")
    assert ["Kyiv belongs in NATO", "Not now"] == quotes.texts
    assert ["support", "oppose"] == quotes.stance
    assert ["positive", "neutral"] == quotes.sentiment


def test_byte_order_mark_is_accepted():
    """A UTF-8 BOM before the header is not part of the first column's name."""
    quotes = parse_labelled_csv(b"\xef\xbb\xbf" + GOOD.encode(), "data.csv")
    assert 2 == len(quotes)


def test_optional_and_unknown_columns_are_ignored_and_order_is_free():
    """Extra columns and any column order are fine; labels are case- and space-insensitive."""
    raw = b"id,speaker,sentiment,text,stance,whatever\n1,X, Positive ,Yes to NATO,SUPPORT,z\n"
    quotes = parse_labelled_csv(raw, "data.csv")
    assert (["Yes to NATO"], ["support"], ["positive"]) == (
        quotes.texts,
        quotes.stance,
        quotes.sentiment,
    )


def test_missing_columns_are_named_with_the_columns_found():
    """A header without a required column names what is missing and what is there."""
    [problem] = problems_of(b"quote,stance\nx,support\n")
    assert "line 1: missing required column(s) text, sentiment; found 'quote', 'stance'" in problem


def test_unknown_labels_are_reported_per_line():
    """Each unknown stance or sentiment label is reported with its line and the allowed values."""
    problems = problems_of(b"text,stance,sentiment\na,suport,positive\nb,oppose,angry\n")
    assert [
        "line 2: unknown stance 'suport' (expected one of support, oppose, neutral)",
        "line 3: unknown sentiment 'angry' (expected one of positive, negative, neutral)",
    ] == problems


def test_empty_text_is_reported():
    """A row whose text is empty or whitespace is a problem on its line."""
    assert ["line 2: empty text"] == problems_of(b"text,stance,sentiment\n   ,support,positive\n")


def test_duplicate_text_names_the_first_occurrence():
    """Texts equal up to case and spacing are duplicates, reported with the first line."""
    raw = b"text,stance,sentiment\nKyiv in NATO,support,positive\nkyiv  in NATO ,oppose,negative\n"
    assert ["line 3: duplicate text (same as line 2)"] == problems_of(raw)


def test_undecodable_bytes_are_reported_with_their_line():
    """Bytes that are not UTF-8 are reported with the line they are on."""
    raw = b"text,stance,sentiment\nok,support,positive\ncaf\xe9,oppose,negative\n"
    assert ["line 3: bytes that are not UTF-8 at column 4 (save the file as UTF-8)"] == problems_of(
        raw
    )


def test_every_problem_is_listed_not_just_the_first():
    """Several bad rows give one error that lists all of them."""
    raw = b"text,stance,sentiment\n,support,positive\nb,maybe,positive\nc,oppose,meh\n"
    assert 3 == len(problems_of(raw))


def test_line_numbers_count_quoted_newlines():
    """A quoted text spanning lines shifts the line numbers of later rows correctly."""
    raw = b'text,stance,sentiment\n"two\nlines",support,positive\nx,bad,positive\n'
    assert [
        "line 4: unknown stance 'bad' (expected one of support, oppose, neutral)"
    ] == problems_of(raw)


def test_wrong_field_count_is_reported():
    """A row with more fields than the header is reported with a hint about quoting."""
    raw = b"text,stance,sentiment\nyes, to NATO,support,positive\n"
    assert [
        "line 2: 4 fields, expected 3 like the header (quote texts that contain commas)"
    ] == problems_of(raw)


def test_header_only_file_has_no_rows():
    """A file with a header and no rows cannot train anything."""
    assert ["no data rows after the header"] == problems_of(b"text,stance,sentiment\n")


def test_empty_file_is_reported():
    """An empty file is a problem, not a crash."""
    assert ["the file is empty (expected a header row)"] == problems_of(b"")


def test_error_message_says_nothing_was_trained():
    """The exception message names the file, the count, and that nothing was trained."""
    with pytest.raises(DatasetError, match=r"data.csv: 1 problem found, nothing was trained"):
        parse_labelled_csv(b"text,stance,sentiment\n,support,positive\n", "data.csv")


def test_missing_file_is_a_clear_error(tmp_path):
    """A path that does not exist is a DatasetError, not a traceback."""
    with pytest.raises(DatasetError, match="file not found"):
        load_labelled_csv(tmp_path / "nope.csv")


@pytest.mark.parametrize("codec", ["utf-16", "utf-32"])
def test_a_file_with_a_utf16_or_utf32_byte_order_mark_is_read(codec):
    """The dataset reader shares the batch scorer's decoder: a byte-order mark names the
    encoding, as it does for `stance score`."""
    raw = "text,stance,sentiment\nKyiv's place is in NATO.,support,positive\n".encode(codec)
    quotes = parse_labelled_csv(raw, "x.csv")
    assert quotes.texts == ["Kyiv's place is in NATO."]
    assert quotes.stance == ["support"]
