"""Property tests (hypothesis): the model on arbitrary Unicode, CSV scoring of arbitrary rows,
and POST /v1/score with arbitrary JSON. Bounded: the module runs in well under a minute."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from tiny_model import TEST_LIMITS

from model.batch import (
    EMPTY_TEXT,
    MISSING_TEXT,
    SCORE_COLUMNS,
    TEXT_COLUMN_CANDIDATES,
    BatchOptions,
    BatchSummary,
    output_columns,
)
from model.batch_formats import CSV, stream_scored
from model.errors import InputTextError
from model.labels import SENTIMENT_LABELS, STANCE_LABELS
from model.store import LoadedModel
from service import create_app

PROPERTY_SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Any code point, lone surrogates (category Cs) included: Python strings can hold them, and
# JSON's "\ud800" escape puts them in a request.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
SPECIAL = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\x1b[31m",
        "\r\n",
        "\t",
        "\u200b",  # zero-width space
        "\u202e",  # right-to-left override
        "\ufeff",  # byte-order mark
        "\ud800",  # lone high surrogate
        "\udfff",  # lone low surrogate
        "🇺🇦",  # flag: two regional indicators
        "👩🏽‍🚀",  # emoji with skin tone and zero-width joiner
        "НАТО",
        "مرحبا بالناتو",  # Arabic, right to left
        "שלום נאט״ו",  # Hebrew
        "e\u0301" * 3,  # combining accents
        "Ｕｋｒａｉｎｅ",  # full-width
        "\U0010ffff",
    ]
)
TEXTS = st.lists(st.text(ANY_CHAR, max_size=200) | SPECIAL, min_size=1, max_size=8)
HEADS = {"stance": STANCE_LABELS, "sentiment": SENTIMENT_LABELS}


def check_prediction(prediction: dict[str, Any]) -> None:
    """A valid result: fixed labels in order, probabilities in [0, 1] summing to 1, the label
    their argmax, the score P(first) - P(second) in [-1, 1]."""
    assert list(prediction) == ["stance", "sentiment"]
    for head, labels in HEADS.items():
        result = prediction[head]
        assert list(result) == ["label", "score", "probabilities"]
        probabilities = result["probabilities"]
        assert tuple(probabilities) == labels
        values = list(probabilities.values())
        assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in values)
        assert math.fsum(values) == pytest.approx(1.0, abs=1e-6)
        assert result["label"] in labels
        assert probabilities[result["label"]] == max(values)
        assert -1.0 <= result["score"] <= 1.0
        assert result["score"] == probabilities[labels[0]] - probabilities[labels[1]]


# -- model.predict ------------------------------------------------------------------------


@given(texts=TEXTS)
@settings(PROPERTY_SETTINGS, max_examples=150)
def test_predict_on_arbitrary_unicode_returns_valid_results(
    loaded_model: LoadedModel, texts: list[str]
) -> None:
    """Any strings (empty, control characters, lone surrogates, emoji, RTL, ...) get one valid
    result each, in order: a batch scores each text as it scores alone."""
    predictions = loaded_model.predict(texts)
    assert len(predictions) == len(texts)
    for text, prediction in zip(texts, predictions, strict=True):
        check_prediction(prediction)
        [alone] = loaded_model.predict([text])
        for head in HEADS:
            assert prediction[head]["probabilities"] == pytest.approx(
                alone[head]["probabilities"], abs=1e-9
            )


@given(text=st.text(ANY_CHAR, max_size=120) | SPECIAL)
@settings(PROPERTY_SETTINGS, max_examples=60)
def test_explain_on_arbitrary_unicode_names_the_predicted_label(
    loaded_model: LoadedModel, text: str
) -> None:
    """explain works on the same inputs and agrees with predict."""
    explanation = loaded_model.explain(text, 5)
    [prediction] = loaded_model.predict([text])
    for head in HEADS:
        assert explanation[head]["label"] == prediction[head]["label"]
        assert all(f["weight"] > 0 for f in explanation[head]["toward"])
        assert all(f["weight"] < 0 for f in explanation[head]["against"])


MIB = 1024 * 1024


@given(
    piece=st.text(ANY_CHAR, min_size=1, max_size=50) | SPECIAL.filter(bool),
    length=st.integers(min_value=100_000, max_value=MIB),
)
@example(piece="Ukraine belongs in NATO 🇺🇦 مرحبا \ud800 ", length=MIB)
@settings(PROPERTY_SETTINGS, max_examples=3)
def test_predict_on_texts_up_to_one_mebibyte(
    loaded_model: LoadedModel, piece: str, length: int
) -> None:
    """Very long texts (the batch scorer has no MAX_CHARS) are scored, not rejected."""
    text = (piece * (length // len(piece) + 1))[:length]
    [prediction] = loaded_model.predict([text])
    check_prediction(prediction)


NOT_STRINGS = st.none() | st.booleans() | st.integers() | st.floats() | st.binary(max_size=10)


@given(texts=st.lists(st.text(max_size=20) | NOT_STRINGS, min_size=1, max_size=5))
@settings(PROPERTY_SETTINGS, max_examples=60)
def test_predict_refuses_non_strings_with_input_text_error(
    loaded_model: LoadedModel, texts: list[Any]
) -> None:
    """A list holding anything but strings is refused with InputTextError naming the first
    bad item; a list of strings is scored."""
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if not bad:
        assert len(loaded_model.predict(texts)) == len(texts)
        return
    with pytest.raises(InputTextError, match=rf"^text {bad[0]} is \w+, expected a string$"):
        loaded_model.predict(texts)


def test_predict_refuses_a_bare_string(loaded_model: LoadedModel) -> None:
    """A single string (not a list) is refused, not scored character by character."""
    with pytest.raises(InputTextError, match="got a single string; wrap it in a list"):
        loaded_model.predict("Ukraine belongs in NATO")  # type: ignore[arg-type]


# -- CSV scoring --------------------------------------------------------------------------

CELL = st.lists(
    st.characters(codec="utf-8")  # decodable text, lone "\r" included: what a CSV can hold
    | st.sampled_from([",", '"', "\n", "\r\n", "\r", " ", "\t", '""', ";", "NATO"]),
    max_size=20,
).map("".join)
RESERVED = {*output_columns(), *TEXT_COLUMN_CANDIDATES}
COLUMN_NAME = st.text(st.characters(codec="utf-8"), max_size=12).filter(
    lambda name: name not in RESERVED
)


@st.composite
def csv_tables(draw: st.DrawFn) -> tuple[list[str], int, list[list[str]]]:
    """(header, index of the `text` column, rows): rows may be short (missing the text),
    never empty (a blank line is not a row)."""
    others = draw(st.lists(COLUMN_NAME, max_size=3, unique=True))
    text_index = draw(st.integers(min_value=0, max_value=len(others)))
    header = [*others[:text_index], "text", *others[text_index:]]
    width = len(header)
    row = st.lists(CELL, min_size=width, max_size=width)
    short = st.integers(min_value=1, max_value=max(width - 1, 1)).flatmap(
        lambda n: st.lists(CELL, min_size=n, max_size=n)
    )
    rows = draw(st.lists(row | short, max_size=12))
    return header, text_index, rows


def to_csv(
    rows: list[list[str]], terminator: str, quote_all: bool = False, blank_after: Any = ()
) -> str:
    """The rows as CSV text, with a blank line after each row index in `blank_after`.

    With "\n" as line end, Python 3.11's csv.writer leaves a lone "\r" in a cell unquoted
    (it quotes only the line end's characters), which a reader splits on: such input is
    written with every field quoted."""
    if terminator == "\n" and any("\r" in cell for row in rows for cell in row):
        quote_all = True
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        lineterminator=terminator,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    for i, row in enumerate(rows):
        writer.writerow(row)
        if i in blank_after:
            buffer.write(terminator)
    return buffer.getvalue()


def expected_problem(row: list[str], text_index: int) -> str | None:
    """What the scorer must say about a row: None (scored), or the reason it is flagged."""
    if text_index >= len(row):
        return MISSING_TEXT
    return None if row[text_index].strip() else EMPTY_TEXT


@given(
    table=csv_tables(),
    terminator=st.sampled_from(["\n", "\r\n"]),
    quote_all=st.booleans(),
    blank_after=st.sets(st.integers(min_value=0, max_value=12), max_size=3),
    newline=st.sampled_from(["", "\n"]),
    chunk_rows=st.integers(min_value=1, max_value=5),
)
@settings(PROPERTY_SETTINGS, max_examples=150)
def test_csv_scoring_keeps_every_row(
    loaded_model: LoadedModel,
    table: tuple[list[str], int, list[list[str]]],
    terminator: str,
    quote_all: bool,
    blank_after: set[int],
    newline: str,
    chunk_rows: int,
) -> None:
    """Arbitrary rows (commas, quotes, CR, LF, empty cells, short rows, any Unicode; blank
    lines between them) come back all of them, in order, their input columns unchanged when
    parsed with csv; a flagged row has empty scores and its reason in `error`, a scored row
    valid scores and no error. Blank lines are not rows."""
    header, text_index, rows = table
    text = to_csv([header, *rows], terminator, quote_all, blank_after)
    source = io.StringIO(text, newline=newline)
    summary = BatchSummary()
    pieces: Iterator[str] = stream_scored(
        loaded_model, source, CSV, BatchOptions(chunk_rows=chunk_rows), summary
    )
    out = list(csv.reader(io.StringIO("".join(pieces), newline="")))
    width = len(header)
    assert out[0] == header + output_columns()
    assert len(out) == len(rows) + 1
    assert summary.rows == len(rows)
    flagged = 0
    for row, scored in zip(rows, out[1:], strict=True):
        assert len(scored) == width + len(SCORE_COLUMNS) + 1
        assert scored[: len(row)] == row
        assert scored[len(row) : width] == [""] * (width - len(row))  # short rows padded
        scores, error = scored[width:-1], scored[-1]
        problem = expected_problem(row, text_index)
        if problem is not None:
            flagged += 1
            assert error.startswith(problem)
            assert scores == [""] * len(SCORE_COLUMNS)
            continue
        assert error == ""
        fields = dict(zip(SCORE_COLUMNS, scores, strict=True))
        assert fields["stance"] in STANCE_LABELS
        assert fields["sentiment"] in SENTIMENT_LABELS
        for head, labels in HEADS.items():
            probabilities = [float(fields[f"{head}_p_{label}"]) for label in labels]
            assert all(0.0 <= p <= 1.0 for p in probabilities)
            assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)  # six decimals each
            assert -1.0 <= float(fields[f"{head}_score"]) <= 1.0
    assert summary.flagged == flagged
    event(f"rows {min(len(rows), 5)}+, flagged {min(flagged, 2)}+")


def test_csv_scoring_keeps_a_cell_with_a_lone_carriage_return(loaded_model: LoadedModel) -> None:
    """A quoted cell holding a bare carriage return survives the round trip (before the
    batch output switched to CRLF line ends, it came back unquoted and split the row)."""
    rows = [["id", "text"], ["1", "line one\rline two"], ["2", "Ukraine in NATO"]]
    source = io.StringIO(to_csv(rows, "\r\n"), newline="")
    pieces = stream_scored(loaded_model, source, CSV, BatchOptions())
    out = list(csv.reader(io.StringIO("".join(pieces), newline="")))
    assert [row[:2] for row in out] == rows


# -- POST /v1/score -----------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(ANY_CHAR, max_size=30)
    | SPECIAL
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(
            st.text(max_size=8) | st.sampled_from(["text", "id"]), children, max_size=4
        )
    ),
    max_leaves=25,
)
FIELDS = st.sampled_from(["text", "texts", "quotes"])
STATEMENT = st.text(ANY_CHAR, min_size=1, max_size=300) | SPECIAL
SCORE_BODIES = (
    JSON_VALUES
    | st.dictionaries(FIELDS, JSON_VALUES, max_size=3)
    | st.builds(lambda f, v: {f: v}, FIELDS, JSON_VALUES)
    | st.builds(lambda v: {"texts": v}, st.lists(JSON_SCALARS, max_size=7))
    | st.builds(
        lambda v: {"quotes": v},
        st.lists(st.fixed_dictionaries({"text": JSON_SCALARS}, optional={"id": JSON_SCALARS})),
    )
    # well-formed requests with arbitrary statements and ids, so that many are scored
    | st.builds(lambda t: {"text": t}, STATEMENT)
    | st.builds(lambda v: {"texts": v}, st.lists(STATEMENT, min_size=1, max_size=5))
    | st.builds(
        lambda v: {"quotes": v},
        st.lists(
            st.fixed_dictionaries(
                {"text": STATEMENT}, optional={"id": st.integers() | st.text(ANY_CHAR)}
            ),
            min_size=1,
            max_size=5,
        ),
    )
)


@pytest.fixture(scope="module")
def module_app(model_dir: Any) -> Flask:
    return create_app({"MODEL_DIR": str(model_dir), "TESTING": True, **TEST_LIMITS})


@pytest.fixture(scope="module")
def module_client(module_app: Flask) -> FlaskClient:
    return module_app.test_client()


@given(body=SCORE_BODIES, explain=st.sampled_from(["", "?explain=true", "?explain=x"]))
@settings(PROPERTY_SETTINGS, max_examples=250)
def test_score_with_arbitrary_json_never_fails_on_the_server(
    module_client: FlaskClient, body: Any, explain: str
) -> None:
    """Any JSON value as the body gets 200 with one result per statement, or a 4xx in the one
    error shape: never a 5xx."""
    response = module_client.post(f"/v1/score{explain}", json=body)
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    payload = json.loads(response.get_data(as_text=True))
    if response.status_code == 200:
        field = next(iter(body))
        expected = 1 if field == "text" else len(body[field])
        assert len(payload["results"]) == expected
        for result in payload["results"]:
            check_prediction({head: result[head] for head in HEADS})
    else:
        assert 400 <= response.status_code < 500
        assert list(payload) == ["error"]
        assert payload["error"]["message"]


@given(
    raw=st.binary(max_size=300)
    | st.text(ANY_CHAR, max_size=100).map(lambda s: s.encode("utf-8", "surrogatepass"))
    | JSON_VALUES.map(lambda v: json.dumps(v).encode()[:-1])  # cut short
)
@settings(PROPERTY_SETTINGS, max_examples=80)
def test_score_with_arbitrary_bytes_never_fails_on_the_server(
    module_client: FlaskClient, raw: bytes
) -> None:
    """Bytes that may not be JSON, or not UTF-8, get a 4xx (or 200), never a 5xx."""
    response = module_client.post("/v1/score", data=raw, content_type="application/json")
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
