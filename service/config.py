"""Service settings: defaults, overridden by `STANCE_*` environment variables, then by the
mapping passed to `create_app` (tests)."""

from __future__ import annotations

import os
from typing import Any

DEFAULTS: dict[str, Any] = {
    "MODEL_DIR": None,  # None: $STANCE_MODEL_DIR or model/artifacts
    "MODEL_VERSION": None,  # None: the current model (gunicorn pins the verified version here)
    # Limits. Together they keep the slowest request within them at about half of gunicorn's
    # timeout (STANCE_TIMEOUT, 30 s); SECURITY.md has the measured cost of each. Raise them
    # together with STANCE_TIMEOUT.
    "MAX_JSON_BYTES": 2 * 1024 * 1024,  # body of POST /v1/score
    "MAX_CSV_BYTES": 4 * 1024 * 1024,  # upload to POST /v1/score/csv
    "MAX_CSV_ROWS": 20_000,  # rows of one CSV upload
    "MAX_TEXTS": 1000,  # statements in one POST /v1/score
    "MAX_CHARS": 5000,  # characters of a statement scored; the rest is cut off (both endpoints)
    "MAX_EXPLAIN_TEXTS": 200,  # statements or rows with ?explain=true
    "MAX_ARTICLES": 20,  # articles in one POST /v1/articles
    "MAX_ARTICLE_CHARS": 100_000,  # characters of one article (a long feature is ~40,000)
    "EXPLAIN_K": 5,
    "CSV_CHUNK_ROWS": 500,
}

INT_SETTINGS = (
    "MAX_JSON_BYTES",
    "MAX_CSV_BYTES",
    "MAX_CSV_ROWS",
    "MAX_TEXTS",
    "MAX_CHARS",
    "MAX_EXPLAIN_TEXTS",
    "MAX_ARTICLES",
    "MAX_ARTICLE_CHARS",
    "EXPLAIN_K",
    "CSV_CHUNK_ROWS",
)


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Settings given as `STANCE_<NAME>` environment variables."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name in DEFAULTS:
        value = environ.get(f"STANCE_{name}")
        if value is None or value == "":
            continue
        if name in INT_SETTINGS:
            try:
                found[name] = int(value)
            except ValueError as exc:
                raise ValueError(f"STANCE_{name} must be an integer, got {value!r}") from exc
        else:
            found[name] = value
    return found
