"""Service settings: defaults, overridden by `STANCE_*` environment variables, then by the
mapping passed to `create_app` (tests)."""

from __future__ import annotations

import os
from typing import Any

DEFAULTS: dict[str, Any] = {
    "MODEL_DIR": None,  # None: $STANCE_MODEL_DIR or model/artifacts
    "MODEL_VERSION": None,  # None: the current model (gunicorn pins the verified version here)
    "MAX_JSON_BYTES": 2 * 1024 * 1024,
    "MAX_CSV_BYTES": 50 * 1024 * 1024,
    "MAX_TEXTS": 1000,
    "MAX_CHARS": 5000,
    "EXPLAIN_K": 5,
    "CSV_CHUNK_ROWS": 500,
}

INT_SETTINGS = (
    "MAX_JSON_BYTES",
    "MAX_CSV_BYTES",
    "MAX_TEXTS",
    "MAX_CHARS",
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
