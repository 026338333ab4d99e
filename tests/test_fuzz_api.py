"""Schemathesis against the service's own /openapi.json: every operation, generated valid
and invalid requests, no 5xx, and every response as the document describes it (a documented
status code, the documented content type, a body matching the documented schema).

The operations are listed at collection time from `openapi_document` (the function that serves
/openapi.json), so each gets a test of its own; `test_every_documented_operation_is_fuzzed`
checks that the list is exactly what the app serves. schemathesis's `pytest.from_fixture`
fails under pytest 9 (it reads `Function._nodeid`), so each test loads the schema with
`schemathesis.openapi.from_wsgi` from conftest's `app` and drives one operation's hypothesis
strategy itself. About 600 requests in all, in ~15 s.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.config import DEFAULTS
from service.openapi import openapi_document

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
DOCUMENT = openapi_document(DEFAULTS)
OPERATIONS = [
    (method.upper(), path)
    for path, operations in DOCUMENT["paths"].items()
    for method in operations
]
# Negative cases exist only for operations with inputs (parameters or a body) to violate.
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE
    or {"parameters", "requestBody"} & set(DOCUMENT["paths"][path][method.lower()])
]
# The POST operations take input and get the budget; a GET here has nothing to vary.
EXAMPLES = {"POST": 120, "GET": 3}
FUZZ_SETTINGS = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


def load_schema(app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


def test_every_documented_operation_is_fuzzed(app: Flask) -> None:
    """The operations fuzzed below are every operation of the served document, and every
    one that takes input is fuzzed with invalid requests too."""
    served = app.test_client().get("/openapi.json").get_json()
    listed = {(m.upper(), p) for p, ops in served["paths"].items() for m in ops}
    assert set(OPERATIONS) == listed
    assert len(listed) == 16  # 9 API operations, the page and the 6 files the pages load
    negative = {(c.values[0], c.values[1]) for c in CASES if c.values[2] is GenerationMode.NEGATIVE}
    assert negative == {("POST", "/v1/score"), ("POST", "/v1/score/csv"), ("POST", "/v1/articles")}


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_operation_conforms_to_the_document(
    app: Flask, method: str, path: str, mode: GenerationMode
) -> None:
    """Generated requests (valid ones, or ones the schema forbids) never get a 5xx, and every
    response has a documented status, content type and body. Valid requests to /v1/score
    are all scored (200)."""
    operation = load_schema(app)[path][method]
    statuses: Counter[int] = Counter()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES[method])
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call_and_validate(checks=CHECKS)
        statuses[response.status_code] += 1
        if mode is GenerationMode.POSITIVE and path == "/v1/score":
            assert response.status_code in (200, 413), response.text  # 413: body over the limit

    fuzz()
    assert sum(statuses.values()) >= min(EXAMPLES[method], 1)
    if method == "GET":
        assert set(statuses) == {200}


CSV_CELL = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(',"\n\r '),
    max_size=40,
)


@st.composite
def csv_bodies(draw: st.DrawFn) -> tuple[str, int]:
    """A well-formed CSV with a text column: (body, number of rows). Cells hold commas,
    quotes, newlines, blanks and any Unicode."""
    rows = draw(st.lists(st.tuples(CSV_CELL, CSV_CELL), max_size=6))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(["id", "text", "note"])
    writer.writerows([str(i), text, note] for i, (text, note) in enumerate(rows))
    return buffer.getvalue(), len(rows)


def test_score_csv_with_readable_files_conforms(app: Flask) -> None:
    """POST /v1/score/csv with well-formed CSV bodies (the schema's `string` rarely is one)
    and generated query parameters: no 5xx, every response as documented, and a 200 keeps
    every row."""
    operation = load_schema(app)["/v1/score/csv"]["POST"]
    statuses: Counter[int] = Counter()
    fixed_queries = st.sampled_from([{}, {"text_column": "text"}, {"encoding": "utf-8"}])

    @given(data=st.data(), body=csv_bodies(), query=fixed_queries)
    @settings(FUZZ_SETTINGS, max_examples=80)
    def fuzz(data: st.DataObject, body: tuple[str, int], query: dict[str, str]) -> None:
        text, rows = body
        case = data.draw(operation.as_strategy(body=text, media_type="text/csv", query=query))
        response = case.call_and_validate(checks=CHECKS)
        statuses[response.status_code] += 1
        if response.status_code == 200:
            assert response.headers["x-rows"] == [str(rows)]  # lowercased, listed
            assert len(list(csv.reader(io.StringIO(response.content.decode())))) == rows + 1

    fuzz()
    assert statuses[200] > 0, statuses
