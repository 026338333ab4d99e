"""The HTTP API in-process (Flask test client): every endpoint, every error status, reloads."""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from tiny_model import TEST_LIMITS, train_tiny

from model.batch import SCORE_COLUMNS
from model.errors import ModelError, ModelIntegrityError, ModelNotFoundError
from model.store import LoadedModel, ModelStore
from service import create_app
from training.dataset import load_labelled_csv
from training.train import TrainConfig, train

MAX_TEXTS = TEST_LIMITS["MAX_TEXTS"]
MAX_CHARS = TEST_LIMITS["MAX_CHARS"]
MAX_JSON_BYTES = TEST_LIMITS["MAX_JSON_BYTES"]
MAX_CSV_BYTES = TEST_LIMITS["MAX_CSV_BYTES"]

SUPPORT = "Ukraine belongs in NATO and the allies should issue the invitation this year."
OPPOSE = "Admitting Ukraine to NATO would drag the alliance into a war with Russia."
NEUTRAL = "NATO foreign ministers meet in Brussels on Tuesday to discuss the agenda."
TEXTS = [SUPPORT, OPPOSE, NEUTRAL]
CSV_COLUMNS = [*SCORE_COLUMNS, "error"]


# -- helpers ------------------------------------------------------------------------------


def assert_error(response: Any, status: int, code: str, fragment: str = "") -> dict[str, str]:
    """The response is the one JSON error shape with this status and code (never HTML)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower()
    body = json.loads(text)
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "message"]
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"].strip()
    assert fragment in body["error"]["message"]
    return body["error"]


def without_extras(result: dict[str, Any]) -> dict[str, Any]:
    """A result minus the fields the service adds to model.predict's output."""
    return {k: v for k, v in result.items() if k not in ("id", "truncated", "explanation")}


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def metric_samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def copy_model_dir(source: Path, target: Path) -> Path:
    """A writable copy of a model directory (the `current` symlink kept as a symlink)."""
    shutil.copytree(source, target, symlinks=True)
    return target


def corrupt(model_file: Path) -> None:
    """Cut the joblib file short so its sha256 no longer matches the metadata."""
    data = model_file.read_bytes()
    model_file.write_bytes(data[: len(data) // 2])


# -- POST /v1/score -----------------------------------------------------------------------


def test_score_single_text_matches_model_predict(
    client: FlaskClient, loaded_model: LoadedModel
) -> None:
    """{"text": ...} returns one result equal to model.predict, with the model's version."""
    response = client.post("/v1/score", json={"text": SUPPORT})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.get_json()
    assert list(body) == ["model", "results"]
    assert body["model"] == {"version": loaded_model.version}
    assert len(body["results"]) == 1
    [result] = body["results"]
    assert list(result) == ["stance", "sentiment", "truncated"]
    assert result["truncated"] is False
    assert without_extras(result) == loaded_model.predict([SUPPORT])[0]


def test_score_texts_in_input_order_equal_to_model_predict(
    client: FlaskClient, loaded_model: LoadedModel
) -> None:
    """{"texts": [...]} returns one result per text, in input order, equal to model.predict."""
    texts = [NEUTRAL, SUPPORT, OPPOSE, SUPPORT]
    response = client.post("/v1/score", json={"texts": texts})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [without_extras(r) for r in results] == loaded_model.predict(texts)
    assert results[1] == results[3]  # the same text scores the same wherever it sits
    assert all("id" not in r for r in results)


def test_score_quotes_echo_string_and_integer_ids_in_order(
    client: FlaskClient, loaded_model: LoadedModel
) -> None:
    """{"quotes": [...]} echoes each id (string or integer, as sent) on its result, in order."""
    quotes = [
        {"id": "q-7", "text": OPPOSE},
        {"id": 3, "text": SUPPORT, "speaker": "extra fields are ignored"},
        {"text": NEUTRAL},
        {"id": 0, "text": NEUTRAL},
        {"id": "", "text": SUPPORT},
    ]
    response = client.post("/v1/score", json={"quotes": quotes})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r.get("id", "<none>") for r in results] == ["q-7", 3, "<none>", 0, ""]
    assert isinstance(results[1]["id"], int)
    assert list(results[0]) == ["id", "stance", "sentiment", "truncated"]
    assert "id" not in results[2]
    expected = loaded_model.predict([q["text"] for q in quotes])
    assert [without_extras(r) for r in results] == expected


def test_scores_and_probabilities_are_consistent(client: FlaskClient) -> None:
    """stance score == P(support) - P(oppose), sentiment score == P(positive) - P(negative),
    each head's probabilities cover its three labels, sum to 1, and the label is the argmax."""
    results = client.post("/v1/score", json={"texts": TEXTS}).get_json()["results"]
    assert len(results) == 3
    for result in results:
        stance, sentiment = result["stance"], result["sentiment"]
        assert list(stance["probabilities"]) == ["support", "oppose", "neutral"]
        assert list(sentiment["probabilities"]) == ["positive", "negative", "neutral"]
        p, q = stance["probabilities"], sentiment["probabilities"]
        assert stance["score"] == p["support"] - p["oppose"]
        assert sentiment["score"] == q["positive"] - q["negative"]
        assert sum(p.values()) == pytest.approx(1.0, abs=1e-6)  # float32 probabilities
        assert sum(q.values()) == pytest.approx(1.0, abs=1e-6)  # float32 probabilities
        assert all(0.0 <= v <= 1.0 for v in [*p.values(), *q.values()])
        assert stance["label"] == max(p, key=p.__getitem__)
        assert sentiment["label"] == max(q, key=q.__getitem__)


@pytest.mark.parametrize("flag", ["true", "1", "yes", "TRUE"])
def test_explain_adds_toward_and_against_lists(
    client: FlaskClient, loaded_model: LoadedModel, flag: str
) -> None:
    """?explain=true adds per result, per head, the label, toward/against n-grams and bias,
    exactly as model.explain gives them (top EXPLAIN_K=5)."""
    response = client.post(f"/v1/score?explain={flag}", json={"texts": [SUPPORT, OPPOSE]})
    assert response.status_code == 200
    results = response.get_json()["results"]
    for text, result in zip([SUPPORT, OPPOSE], results, strict=True):
        explanation = result["explanation"]
        assert list(explanation) == ["stance", "sentiment"]
        expected = loaded_model.explain(text, 5)
        for head in ("stance", "sentiment"):
            got = explanation[head]
            assert list(got) == ["label", "toward", "against", "bias"]
            assert got["label"] == result[head]["label"]
            assert isinstance(got["toward"], list)
            assert isinstance(got["against"], list)
            assert len(got["toward"]) <= 5
            assert len(got["against"]) <= 5
            assert all(sorted(f) == ["feature", "weight"] for f in got["toward"] + got["against"])
            assert all(f["weight"] > 0 for f in got["toward"])
            assert all(f["weight"] < 0 for f in got["against"])
            assert got == {k: expected[head][k] for k in ("label", "toward", "against", "bias")}
        assert without_extras(result) == loaded_model.predict([text])[0]


@pytest.mark.parametrize("query", ["", "?explain=false", "?explain=0", "?explain=no"])
def test_no_explanation_unless_asked(client: FlaskClient, query: str) -> None:
    """Without ?explain=true (or with a false value) results carry no explanation."""
    response = client.post(f"/v1/score{query}", json={"text": SUPPORT})
    assert response.status_code == 200
    assert "explanation" not in response.get_json()["results"][0]


def test_text_longer_than_max_chars_is_scored_truncated_and_flagged(
    client: FlaskClient, loaded_model: LoadedModel
) -> None:
    """A text over MAX_CHARS is scored on its first MAX_CHARS characters and flagged
    truncated; a text of exactly MAX_CHARS is not."""
    long_text = (SUPPORT + " ") * 5
    exact = (OPPOSE + " " + NEUTRAL + " " + SUPPORT)[:MAX_CHARS]
    assert len(long_text) > MAX_CHARS
    assert len(exact) == MAX_CHARS
    response = client.post(
        "/v1/score", json={"quotes": [{"id": 1, "text": long_text}, {"id": 2, "text": exact}]}
    )
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first["truncated"] is True
    assert second["truncated"] is False
    expected = loaded_model.predict([long_text[:MAX_CHARS], exact])
    assert [without_extras(first), without_extras(second)] == expected


def test_batch_of_exactly_max_texts_is_accepted(client: FlaskClient) -> None:
    """MAX_TEXTS texts in one request is within the limit."""
    response = client.post("/v1/score", json={"texts": [SUPPORT] * MAX_TEXTS})
    assert response.status_code == 200
    assert len(response.get_json()["results"]) == MAX_TEXTS


def test_json_content_type_with_charset_is_accepted(client: FlaskClient) -> None:
    """application/json; charset=utf-8 is JSON too."""
    response = client.post(
        "/v1/score",
        data=json.dumps({"text": "Kyiv’s place is in NATO — now."}).encode(),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200
    assert len(response.get_json()["results"]) == 1


# -- POST /v1/score/csv -------------------------------------------------------------------


def check_scored_rows(
    text: str, header: list[str], rows: list[list[str]], loaded_model: LoadedModel, text_index: int
) -> list[list[str]]:
    """The scored CSV: the input header plus the score columns, every row in order with its
    original fields, scores equal to model.predict; returns the output rows."""
    out = read_csv(text)
    assert out[0] == header + CSV_COLUMNS
    assert len(out) == len(rows) + 1
    width = len(header)
    for row, scored in zip(rows, out[1:], strict=True):
        assert scored[:width] == row
        assert len(scored) == width + len(CSV_COLUMNS)
        statement = row[text_index]
        if not statement.strip():
            assert scored[width:] == [""] * len(SCORE_COLUMNS) + ["empty text"]
            continue
        [prediction] = loaded_model.predict([statement])
        fields = dict(zip(CSV_COLUMNS, scored[width:], strict=True))
        assert fields["stance"] == prediction["stance"]["label"]
        assert fields["stance_score"] == f"{prediction['stance']['score']:.6f}"
        for label, p in prediction["stance"]["probabilities"].items():
            assert fields[f"stance_p_{label}"] == f"{p:.6f}"
        assert fields["sentiment"] == prediction["sentiment"]["label"]
        assert fields["sentiment_score"] == f"{prediction['sentiment']['score']:.6f}"
        for label, p in prediction["sentiment"]["probabilities"].items():
            assert fields[f"sentiment_p_{label}"] == f"{p:.6f}"
        assert fields["error"] == ""
    return out


CSV_HEADER = ["id", "text", "speaker"]
CSV_ROWS = [
    ["1", SUPPORT, "minister"],
    ["2", "", "citizen"],
    ["3", OPPOSE, ""],
    ["4", "   ", "analyst"],
    ["5", 'She said, "Ukraine\'s future is in NATO."\nThen she left.', "reporter"],
    ["6", NEUTRAL, "spokesperson"],
]


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue().encode("utf-8")


def test_score_csv_body_keeps_rows_and_order_and_flags_empty_rows(
    client: FlaskClient, loaded_model: LoadedModel
) -> None:
    """A text/csv body comes back as CSV with every row in order, the score columns
    added, empty texts flagged in the error column, and the model version in a header."""
    response = client.post(
        "/v1/score/csv", data=csv_bytes(CSV_HEADER, CSV_ROWS), content_type="text/csv"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["X-Model-Version"] == loaded_model.version
    assert response.headers["X-Rows"] == str(len(CSV_ROWS))
    out = check_scored_rows(response.get_data(as_text=True), CSV_HEADER, CSV_ROWS, loaded_model, 1)
    assert [row[-1] for row in out[1:]] == ["", "empty text", "", "empty text", "", ""]


def test_score_csv_multipart_upload(client: FlaskClient, loaded_model: LoadedModel) -> None:
    """A multipart/form-data upload in the `file` field is scored like a CSV body."""
    upload = (io.BytesIO(csv_bytes(CSV_HEADER, CSV_ROWS)), "quotes.csv", "text/csv")
    response = client.post(
        "/v1/score/csv", data={"file": upload}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    check_scored_rows(response.get_data(as_text=True), CSV_HEADER, CSV_ROWS, loaded_model, 1)


def test_score_csv_named_column_prefix_and_explain(
    client: FlaskClient, loaded_model: LoadedModel
) -> None:
    """?text_column names the statement column, ?prefix prefixes the added columns, and
    ?explain=true adds the feature columns."""
    header = ["statement", "text"]
    rows = [[SUPPORT, "not this one"], [OPPOSE, "nor this"]]
    response = client.post(
        "/v1/score/csv?text_column=statement&prefix=m_&explain=true",
        data=csv_bytes(header, rows),
        content_type="text/csv",
    )
    assert response.status_code == 200
    out = read_csv(response.get_data(as_text=True))
    added = [*SCORE_COLUMNS, "stance_features", "sentiment_features", "error"]
    assert out[0] == header + ["m_" + name for name in added]
    assert [row[:2] for row in out[1:]] == rows
    for row, (statement, _) in zip(out[1:], rows, strict=True):
        fields = dict(zip(added, row[2:], strict=True))
        assert fields["stance"] == loaded_model.predict([statement])[0]["stance"]["label"]
        toward = loaded_model.explain(statement, 5)["stance"]["toward"]
        assert fields["stance_features"] == "; ".join(
            f"{f['feature']} ({f['weight']:+.3f})" for f in toward
        )
        assert fields["error"] == ""


def test_score_csv_with_bom_and_other_encoding(
    client: FlaskClient, loaded_model: LoadedModel
) -> None:
    """A UTF-8 byte-order mark is dropped from the header; ?encoding=cp1252 reads cp1252."""
    with_bom = "\ufefftext\n" + SUPPORT + "\n"
    response = client.post("/v1/score/csv", data=with_bom.encode(), content_type="text/csv")
    assert response.status_code == 200
    assert read_csv(response.get_data(as_text=True))[0] == ["text", *CSV_COLUMNS]
    cp1252 = "text\nKyiv’s café talk: NATO now\n".encode("cp1252")
    response = client.post("/v1/score/csv?encoding=cp1252", data=cp1252, content_type="text/csv")
    assert response.status_code == 200
    out = read_csv(response.get_data(as_text=True))
    assert out[1][0] == "Kyiv’s café talk: NATO now"
    assert out[1][1] == loaded_model.predict(["Kyiv’s café talk: NATO now"])[0]["stance"]["label"]


@pytest.mark.parametrize(
    ("encoding", "mark"),
    [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-32-be", codecs.BOM_UTF32_BE)],
)
def test_score_csv_reads_utf16_and_utf32_by_their_byte_order_mark(
    client: FlaskClient, encoding: str, mark: bytes
) -> None:
    """A UTF-16 or UTF-32 upload with its byte-order mark is answered like the same CSV in
    UTF-8; with another ?encoding= it is refused, and the message names the mark."""
    content = "id,text\r\n1,Україна в НАТО\r\n2," + SUPPORT + "\r\n"
    expected = client.post(
        "/v1/score/csv", data=content.encode(), content_type="text/csv", buffered=True
    )
    wide = mark + content.encode(encoding)
    response = client.post("/v1/score/csv", data=wide, content_type="text/csv", buffered=True)
    assert 200 == response.status_code
    assert expected.get_data() == response.get_data()
    response = client.post(
        "/v1/score/csv?encoding=latin-1", data=wide, content_type="text/csv", buffered=True
    )
    assert 422 == response.status_code
    message = response.get_json()["error"]["message"]
    assert "byte-order mark, but the encoding given is latin-1; leave ?encoding= out" in message


def test_score_csv_header_only_returns_header(client: FlaskClient) -> None:
    """A CSV with a header and no rows answers with just the output header."""
    response = client.post("/v1/score/csv", data=b"id,text\n", content_type="text/csv")
    assert response.status_code == 200
    assert read_csv(response.get_data(as_text=True)) == [["id", "text", *CSV_COLUMNS]]
    assert response.headers["X-Rows"] == "0"


def test_score_csv_short_row_is_flagged_missing_text(client: FlaskClient) -> None:
    """A row with fewer fields than the header, lacking the text, keeps its place, flagged."""
    body = f"id,speaker,text\n1,a,{SUPPORT}\n2,b\n3,c,{OPPOSE}\n".encode()
    response = client.post("/v1/score/csv", data=body, content_type="text/csv")
    assert response.status_code == 200
    out = read_csv(response.get_data(as_text=True))
    assert [row[0] for row in out[1:]] == ["1", "2", "3"]
    assert out[2][-1] == "missing text (row has 2 of 3 fields)"
    assert out[1][-1] == out[3][-1] == ""


# -- GET endpoints ------------------------------------------------------------------------


def test_model_metadata(client: FlaskClient, loaded_model: LoadedModel, model_dir: Path) -> None:
    """GET /v1/model gives version, created_at, labels and metrics, and no server paths."""
    response = client.get("/v1/model")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.get_json()
    metadata = loaded_model.metadata
    assert body["version"] == loaded_model.version
    assert body["created_at"] == metadata["created_at"]
    assert body["labels"] == {
        "stance": ["support", "oppose", "neutral"],
        "sentiment": ["positive", "negative", "neutral"],
    }
    assert body["cv_metrics"] == metadata["cv_metrics"]
    assert body["cv_folds"] == 3
    assert body["sha256"] == metadata["sha256"]
    assert body["training_data"]["rows"] == 36
    assert "source" not in body["training_data"]
    text = response.get_data(as_text=True)
    assert str(model_dir) not in text
    assert str(Path(__file__).parent) not in text
    assert "tiny.csv" not in text
    assert "challenge_data" not in body
    assert "path" not in body


def test_healthz(client: FlaskClient) -> None:
    """GET /healthz says the process is alive."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.get_json() == {"status": "ok"}


def test_readyz(client: FlaskClient, loaded_model: LoadedModel) -> None:
    """GET /readyz says a verified model is loaded, and which."""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "model": {"version": loaded_model.version, "verified": True},
    }


def test_metrics_after_scoring(client: FlaskClient) -> None:
    """GET /metrics is Prometheus text with the request counter, the latency histogram and
    the prediction counters, counting exactly the requests and texts scored."""
    results = client.post("/v1/score", json={"texts": TEXTS}).get_json()["results"]
    assert client.post("/v1/score", json={"text": ""}).status_code == 422
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    body = response.get_data(as_text=True)
    assert "# TYPE stance_http_requests_total counter" in body
    assert "# TYPE stance_http_request_duration_seconds histogram" in body
    assert "# TYPE stance_predictions_total counter" in body
    samples = metric_samples(body)

    def value(name: str, **labels: str) -> float:
        return samples[(name, frozenset(labels.items()))]

    ok = {"endpoint": "/v1/score", "method": "POST", "status": "200"}
    assert value("stance_http_requests_total", **ok) == 1.0
    assert value("stance_http_requests_total", **{**ok, "status": "422"}) == 1.0
    histogram = {"endpoint": "/v1/score", "status": "200"}
    assert value("stance_http_request_duration_seconds_count", **histogram) == 1.0
    assert value("stance_http_request_duration_seconds_bucket", **histogram, le="+Inf") == 1.0
    assert value("stance_http_request_duration_seconds_sum", **histogram) > 0.0
    for head in ("stance", "sentiment"):
        counted = {
            labels: v
            for (name, labels), v in samples.items()
            if name == "stance_predictions_total" and ("head", head) in labels
        }
        assert sum(counted.values()) == 3.0
        for result in results:
            assert frozenset({"head": head, "label": result[head]["label"]}.items()) in counted


def test_openapi_document_covers_every_route(app: Flask, client: FlaskClient) -> None:
    """GET /openapi.json is OpenAPI 3.1.0, documents every route the app serves with its
    methods (and nothing it does not serve), and states the configured MAX_TEXTS."""
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    routed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        routed.setdefault(rule.rule, set()).update(methods)
    documented = {path: set(ops) for path, ops in document["paths"].items()}
    assert documented == routed
    schemas = document["components"]["schemas"]
    forms = {next(iter(form["required"])): form for form in score_request_forms(document)}
    assert set(forms) == {"text", "texts", "quotes"}
    assert forms["texts"]["properties"]["texts"]["maxItems"] == MAX_TEXTS
    assert forms["quotes"]["properties"]["quotes"]["maxItems"] == MAX_TEXTS
    assert sorted(schemas["ErrorBody"]["required"]) == ["code", "message"]
    csv_params = {p["name"] for p in document["paths"]["/v1/score/csv"]["post"]["parameters"]}
    assert csv_params == {"explain", "text_column", "prefix", "encoding"}


def score_request_forms(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The schemas of the request forms of POST /v1/score, references resolved."""
    body = document["paths"]["/v1/score"]["post"]["requestBody"]["content"]["application/json"]
    schemas = document["components"]["schemas"]
    return [schemas[form["$ref"].rsplit("/", 1)[1]] for form in body["schema"]["oneOf"]]


def test_openapi_max_items_follows_configuration(model_dir: Path) -> None:
    """The score request's maxItems is the MAX_TEXTS the app was built with: the limits are
    part of the models that validate requests, and the document is built from them."""
    app = create_app({"MODEL_DIR": str(model_dir), "MAX_TEXTS": 17})
    document = app.test_client().get("/openapi.json").get_json()
    [_, texts, quotes] = score_request_forms(document)
    assert texts["properties"]["texts"]["maxItems"] == 17
    assert quotes["properties"]["quotes"]["maxItems"] == 17
    client = app.test_client()
    assert 200 == client.post("/v1/score", json={"texts": ["a text"] * 17}).status_code
    refused = client.post("/v1/score", json={"texts": ["a text"] * 18})
    assert 413 == refused.status_code
    assert refused.get_json()["error"]["message"].startswith("18 texts in one request")


def test_pages_load_only_the_apps_own_files_under_a_content_security_policy(
    client: FlaskClient,
) -> None:
    """GET / and GET /docs are HTML whose scripts and styles all come from this app (each one
    served), under a policy that allows nothing else: no inline script, no other origin."""
    for path in ("/", "/docs"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src 'self';" in policy
        page = response.get_data(as_text=True)
        assert "<script>" not in page  # inline scripts would be refused by the policy
        loaded = re.findall(r'(?:src|href)="(/ui/[^"]+)"', page)
        assert loaded, path
        for url in loaded:
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert asset.headers["Content-Type"].startswith(("text/javascript", "text/css"))
            assert "Content-Security-Policy" in asset.headers
    assert "/openapi.json" in client.get("/ui/docs.js").get_data(as_text=True)


def test_an_unknown_page_file_is_a_json_404(client: FlaskClient) -> None:
    """A file the pages do not load is not served: the usual JSON 404, never a path lookup."""
    for url in ("/ui/app.py", "/ui/../app.py", "/ui/index.html"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_model_metadata_carries_real_statement_figures_and_the_gate(
    tmp_path: Path, tiny_csv: Path
) -> None:
    """GET /v1/model has what the page's model card shows: the figures on a real-statement
    (dev) set when the model was measured on one, the behavioural pass rates and verdict, and
    no server paths."""
    config = TrainConfig(
        data=tiny_csv, model_dir=tmp_path, dev=tiny_csv, quality_floor=0.0, gate=None, folds=3
    )
    train(config, say=lambda _: None)
    body = create_app({"MODEL_DIR": str(tmp_path)}).test_client().get("/v1/model").get_json()
    assert 0.0 <= body["dev_metrics"]["metrics"]["stance"]["macro_f1"] <= 1.0
    assert body["dev_metrics"]["n"] == len(load_labelled_csv(tiny_csv))
    assert set(body["behaviour"]) == {"rates", "passed"}
    assert body["behaviour"]["passed"] is False  # the tiny model is far below the gate
    assert "source" not in body["training_data"]
    assert str(tmp_path) not in json.dumps(body) and str(tiny_csv) not in json.dumps(body)


def test_every_response_has_a_request_id_and_one_log_line_without_body(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """X-Request-ID is echoed (or made up), and each request logs one JSON line that never
    contains the request body."""
    secret = "A very particular sentence about NATO that must not be logged."
    with caplog.at_level(logging.INFO, logger="stance.access"):
        response = client.post("/v1/score", json={"text": secret}, headers={"X-Request-ID": "r-1"})
        other = client.get("/healthz")
    assert response.headers["X-Request-ID"] == "r-1"
    assert len(other.headers["X-Request-ID"]) == 32
    lines = [r.getMessage() for r in caplog.records if r.name == "stance.access"]
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["request_id"] == "r-1"
    assert first["endpoint"] == "/v1/score"
    assert first["status"] == 200
    assert first["texts"] == 1
    assert secret not in "\n".join(lines)
    assert "must not be logged" not in caplog.text


# -- errors -------------------------------------------------------------------------------

JSON = "application/json"
NESTED = '{"text": ' + "[" * 5000 + "]" * 5000 + "}"


def case(
    case_id: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
    fragment: str,
) -> Any:
    """One bad request: what is sent, and the status, code and message part expected."""
    return pytest.param(method, path, kwargs, status, code, fragment, id=case_id)


BAD_REQUEST, NOT_FOUND, TOO_LARGE = "bad_request", "not_found", "too_large"
UNSUPPORTED, INVALID = "unsupported_media_type", "invalid_input"
SCORE, SCORE_CSV = "/v1/score", "/v1/score/csv"
TOO_MANY = f"{MAX_TEXTS + 1} texts in one request; the limit is {MAX_TEXTS}"
TOO_MANY_QUOTES = f"{MAX_TEXTS + 1} quotes in one request; the limit is {MAX_TEXTS}"
BAD_ID = "quotes[0].id must be a string or an integer, got"
ONE_FORM = "send exactly one of the fields text, texts or quotes"

ERROR_CASES = [
    # 400: malformed JSON or wrong types
    case("400-malformed-json", "POST", SCORE, {"data": '{"text": ', "content_type": JSON}, 400, BAD_REQUEST, "the request body is not valid JSON"),
    case("400-empty-body", "POST", SCORE, {"data": "", "content_type": JSON}, 400, BAD_REQUEST, "empty request body"),
    case("400-invalid-utf8", "POST", SCORE, {"data": b'{"text": "\xff"}', "content_type": JSON}, 400, BAD_REQUEST, "not valid JSON"),
    case("400-deeply-nested", "POST", SCORE, {"data": NESTED, "content_type": JSON}, 400, BAD_REQUEST, "nested too deeply"),
    case("400-body-not-object", "POST", SCORE, {"json": ["a text"]}, 400, BAD_REQUEST, "the body must be a JSON object, got an array"),
    case("400-text-number", "POST", SCORE, {"json": {"text": 42}}, 400, BAD_REQUEST, "text must be a string, got a number"),
    case("400-text-null", "POST", SCORE, {"json": {"text": None}}, 400, BAD_REQUEST, "text must be a string, got null"),
    case("400-texts-string", "POST", SCORE, {"json": {"texts": "one text"}}, 400, BAD_REQUEST, "texts must be an array, got a string"),
    case("400-texts-item-number", "POST", SCORE, {"json": {"texts": ["ok", 1]}}, 400, BAD_REQUEST, "texts[1] must be a string, got a number"),
    case("400-quotes-object", "POST", SCORE, {"json": {"quotes": {"id": 1, "text": "x"}}}, 400, BAD_REQUEST, "quotes must be an array, got an object"),
    case("400-quote-item-string", "POST", SCORE, {"json": {"quotes": ["a text"]}}, 400, BAD_REQUEST, "quotes[0] must be an object with id and text, got a string"),
    case("400-quote-item-array", "POST", SCORE, {"json": {"quotes": [{"id": 1, "text": "a"}, [1]]}}, 400, BAD_REQUEST, "quotes[1] must be an object with id and text, got an array"),
    case("400-id-float", "POST", SCORE, {"json": {"quotes": [{"id": 1.5, "text": "a"}]}}, 400, BAD_REQUEST, f"{BAD_ID} a number"),
    case("400-id-bool", "POST", SCORE, {"json": {"quotes": [{"id": True, "text": "a"}]}}, 400, BAD_REQUEST, f"{BAD_ID} a boolean"),
    case("400-id-null", "POST", SCORE, {"json": {"quotes": [{"id": None, "text": "a"}]}}, 400, BAD_REQUEST, f"{BAD_ID} null"),
    case("400-id-object", "POST", SCORE, {"json": {"quotes": [{"id": {}, "text": "a"}]}}, 400, BAD_REQUEST, f"{BAD_ID} an object"),
    case("400-quote-text-number", "POST", SCORE, {"json": {"quotes": [{"id": "a", "text": 7}]}}, 400, BAD_REQUEST, "quotes[0].text must be a string, got a number"),
    case("400-bad-explain", "POST", SCORE + "?explain=maybe", {"json": {"text": "a"}}, 400, BAD_REQUEST, "query parameter explain must be true or false, got 'maybe'"),
    case("400-bad-explain-csv", "POST", SCORE_CSV + "?explain=2", {"data": "text\na\n", "content_type": "text/csv"}, 400, BAD_REQUEST, "query parameter explain must be true or false, got '2'"),
    # 404
    case("404-unknown-path", "GET", "/v2/score", {}, 404, NOT_FOUND, "no such endpoint; see /docs"),
    case("404-trailing-slash", "POST", "/v1/score/", {"json": {"text": "a"}}, 404, NOT_FOUND, "no such endpoint"),
    case("404-no-static-route", "GET", "/static/app.js", {}, 404, NOT_FOUND, "no such endpoint"),
    # 413: body or batch too large
    case("413-json-body", "POST", SCORE, {"json": {"text": "x" * (MAX_JSON_BYTES + 1)}}, 413, TOO_LARGE, "request body too large"),
    case("413-too-many-texts", "POST", SCORE, {"json": {"texts": ["a"] * (MAX_TEXTS + 1)}}, 413, TOO_LARGE, TOO_MANY),
    case("413-too-many-quotes", "POST", SCORE, {"json": {"quotes": [{"text": "a"}] * (MAX_TEXTS + 1)}}, 413, TOO_LARGE, TOO_MANY_QUOTES),
    case("413-csv-body", "POST", SCORE_CSV, {"data": "text\n" + "a statement\n" * 5000, "content_type": "text/csv"}, 413, TOO_LARGE, f"the CSV upload is larger than the limit of {MAX_CSV_BYTES} bytes"),
    # 415: wrong content type
    case("415-text-plain", "POST", SCORE, {"data": '{"text": "a"}', "content_type": "text/plain"}, 415, UNSUPPORTED, "expected Content-Type application/json, got text/plain"),
    case("415-no-content-type", "POST", SCORE, {"data": '{"text": "a"}'}, 415, UNSUPPORTED, "expected Content-Type application/json, got none"),
    case("415-form", "POST", SCORE, {"data": {"text": "a"}}, 415, UNSUPPORTED, "got application/x-www-form-urlencoded"),
    case("415-json-to-csv", "POST", SCORE_CSV, {"json": {"text": "a"}}, 415, UNSUPPORTED, "expected a text/csv body or a multipart/form-data upload, got application/json"),
    case("415-csv-without-content-type", "POST", SCORE_CSV, {"data": "text\na\n"}, 415, UNSUPPORTED, "upload, got none"),
    # 422: empty text or invalid fields
    case("422-empty-text", "POST", SCORE, {"json": {"text": ""}}, 422, INVALID, "text is empty"),
    case("422-whitespace-text", "POST", SCORE, {"json": {"text": " \n\t "}}, 422, INVALID, "text is empty"),
    case("422-whitespace-in-texts", "POST", SCORE, {"json": {"texts": ["a", "  "]}}, 422, INVALID, "texts[1] is empty"),
    case("422-empty-texts", "POST", SCORE, {"json": {"texts": []}}, 422, INVALID, "texts is empty"),
    case("422-empty-quotes", "POST", SCORE, {"json": {"quotes": []}}, 422, INVALID, "quotes is empty"),
    case("422-unknown-field", "POST", SCORE, {"json": {"text": "a", "lang": "en"}}, 422, INVALID, "unknown field(s) 'lang'"),
    case("422-only-unknown-field", "POST", SCORE, {"json": {"statement": "a"}}, 422, INVALID, "unknown field(s) 'statement'"),
    case("422-two-forms", "POST", SCORE, {"json": {"text": "a", "texts": ["b"]}}, 422, INVALID, ONE_FORM),
    case("422-no-form", "POST", SCORE, {"json": {}}, 422, INVALID, ONE_FORM),
    case("422-quote-missing-text", "POST", SCORE, {"json": {"quotes": [{"id": 1, "text": "a"}, {"id": 2}]}}, 422, INVALID, "quotes[1] has no text field"),
    case("422-quote-empty-text", "POST", SCORE, {"json": {"quotes": [{"id": 1, "text": ""}]}}, 422, INVALID, "quotes[0].text is empty"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code", "fragment"), ERROR_CASES)
def test_error_statuses_share_one_json_shape(
    client: FlaskClient,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
    fragment: str,
) -> None:
    """Each bad request gets its status and {"error": {"code", "message"}} as JSON, with a
    message that names the problem."""
    response = client.open(path, method=method, **kwargs)
    assert_error(response, status, code, fragment)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v1/score", {"POST", "OPTIONS"}),
        ("PUT", "/v1/score", {"POST", "OPTIONS"}),
        ("GET", "/v1/score/csv", {"POST", "OPTIONS"}),
        ("POST", "/v1/model", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", "/healthz", {"GET", "HEAD", "OPTIONS"}),
        ("POST", "/metrics", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_wrong_method_is_405_with_allow_header(
    client: FlaskClient, method: str, path: str, allow: set[str]
) -> None:
    """A wrong method gets 405, the JSON error shape, and an Allow header listing the methods."""
    response = client.open(path, method=method)
    assert_error(response, 405, "method_not_allowed", "see the Allow header")
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allow


CSV_422_CASES = [
    pytest.param(b"id,body\n1,Ukraine in NATO\n", "no text column found (looked for text, quote, statement); the columns are: 'id', 'body'", id="no-text-column"),
    pytest.param(b'id,text\n1,"an unterminated quote\n', "line 2: malformed CSV (unexpected end of data)", id="malformed-quote"),
    pytest.param(b"id,text\n1,a, b\n", "line 2: 3 fields but the header has 2", id="too-many-fields"),
    pytest.param(b"id,text\n1,caf\xe9\n", "line 2: bytes that are not valid utf-8 at column 6", id="bad-encoding"),
    pytest.param(b"", "the CSV is empty", id="empty"),
    pytest.param(b"\n  \n", "the CSV is empty", id="blank"),
    pytest.param(b"text,stance\na,support\n", "the input already has output column(s) 'stance'", id="column-collision"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "fragment"), CSV_422_CASES)
@pytest.mark.parametrize("upload", ["body", "multipart"])
def test_unreadable_csv_is_422(
    client: FlaskClient, body: bytes, fragment: str, upload: str
) -> None:
    """A CSV that cannot be read (no text column, malformed, bad encoding, empty, clashing
    columns) gets 422 naming the problem, whether sent as a body or an upload."""
    if upload == "body":
        response = client.post("/v1/score/csv", data=body, content_type="text/csv")
    else:
        response = client.post(
            "/v1/score/csv",
            data={"file": (io.BytesIO(body), "in.csv")},
            content_type="multipart/form-data",
        )
    assert_error(response, 422, "invalid_input", fragment)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("?text_column=quote", "text column 'quote' not found; the columns are: 'id', 'text'"),
        ("?encoding=no-such-codec", "unknown encoding 'no-such-codec'"),
        ("?encoding=rot13", "'rot13' is not a text encoding"),
    ],
)
def test_bad_csv_query_parameters_are_422(client: FlaskClient, query: str, fragment: str) -> None:
    """An unknown text column or encoding gets 422 naming it."""
    response = client.post(f"/v1/score/csv{query}", data=b"id,text\n1,a\n", content_type="text/csv")
    assert_error(response, 422, "invalid_input", fragment)


def test_multipart_without_file_field_is_422(client: FlaskClient) -> None:
    """A multipart upload that lacks the `file` field gets 422 saying which field to use."""
    response = client.post(
        "/v1/score/csv",
        data={"upload": (io.BytesIO(b"text\na\n"), "in.csv")},
        content_type="multipart/form-data",
    )
    assert_error(response, 422, "invalid_input", "send the CSV as field 'file'")


def test_multipart_upload_over_max_csv_bytes_is_413(client: FlaskClient) -> None:
    """A multipart upload larger than MAX_CSV_BYTES gets 413 with the limit in the message."""
    big = b"text\n" + b"a statement about NATO\n" * (MAX_CSV_BYTES // 20)
    assert len(big) > MAX_CSV_BYTES
    response = client.post(
        "/v1/score/csv",
        data={"file": (io.BytesIO(big), "in.csv")},
        content_type="multipart/form-data",
    )
    assert_error(response, 413, "too_large", f"limit of {MAX_CSV_BYTES} bytes")


def test_csv_body_over_json_limit_but_under_csv_limit_is_accepted(client: FlaskClient) -> None:
    """A CSV body larger than MAX_JSON_BYTES but under MAX_CSV_BYTES is scored: the CSV
    endpoint has its own limit."""
    line = b"Ukraine into NATO\n"
    rows = MAX_JSON_BYTES // len(line) + 100
    body = b"text\n" + line * rows
    assert MAX_JSON_BYTES < len(body) < MAX_CSV_BYTES
    response = client.post("/v1/score/csv", data=body, content_type="text/csv")
    assert response.status_code == 200
    assert response.headers["X-Rows"] == str(rows)
    assert len(read_csv(response.get_data(as_text=True))) == rows + 1


def test_errors_are_counted_in_metrics_by_status(client: FlaskClient) -> None:
    """Rejected requests are counted under their status; an unknown path as `unmatched`."""
    client.get("/nowhere")
    client.post("/v1/score", data="{", content_type=JSON)
    samples = metric_samples(client.get("/metrics").get_data(as_text=True))
    labels = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert samples[("stance_http_requests_total", frozenset(labels.items()))] == 1.0
    labels = {"endpoint": "/v1/score", "method": "POST", "status": "400"}
    assert samples[("stance_http_requests_total", frozenset(labels.items()))] == 1.0


# -- the model behind the app -------------------------------------------------------------


def test_the_app_serves_the_version_it_was_given_not_a_newer_current(
    model_dir: Path, tmp_path: Path
) -> None:
    """An app built with MODEL_VERSION (what gunicorn's master pins after verifying a model)
    serves that version even when a newer model has become current; without it, the app
    serves the current one. A new model reaches a running server only through new workers
    (HUP; tests/test_gunicorn_server.py)."""
    directory = copy_model_dir(model_dir, tmp_path / "models")
    old = ModelStore(directory).current_version()
    new = train_tiny(directory)
    assert new != old
    pinned = create_app({"MODEL_DIR": str(directory), "MODEL_VERSION": old, **TEST_LIMITS})
    response = pinned.test_client().post("/v1/score", json={"text": SUPPORT})
    assert response.get_json()["model"] == {"version": old}
    assert pinned.test_client().get("/readyz").get_json()["model"]["version"] == old
    latest = create_app({"MODEL_DIR": str(directory), **TEST_LIMITS})
    assert latest.test_client().get("/v1/model").get_json()["version"] == new


def test_create_app_with_empty_model_dir_raises_clear_model_error(tmp_path: Path) -> None:
    """create_app on a directory without a model raises ModelError saying to train first."""
    with pytest.raises(ModelError) as caught:
        create_app({"MODEL_DIR": str(tmp_path)})
    assert isinstance(caught.value, ModelNotFoundError)
    assert str(caught.value) == f"no current model in {tmp_path}; run `make train` first"


def test_create_app_with_corrupt_current_model_raises(model_dir: Path, tmp_path: Path) -> None:
    """create_app refuses a current model whose file does not match its hash."""
    directory = copy_model_dir(model_dir, tmp_path / "models")
    current = ModelStore(directory).current_version()
    assert current is not None
    corrupt(directory / current / "model.joblib")
    with pytest.raises(ModelIntegrityError, match="does not match its recorded sha256"):
        create_app({"MODEL_DIR": str(directory)})


def test_csv_errors_name_query_parameters_not_command_line_flags(client):
    """Over HTTP a decoding error points to ?encoding=, not to the CLI's --encoding."""
    response = client.post("/v1/score/csv", data=b"text\ncaf\xe9\n", content_type="text/csv")
    message = response.get_json()["error"]["message"]
    assert 422 == response.status_code
    assert "pass it with ?encoding= (e.g. ?encoding=cp1252)" in message
    assert "--" not in message
