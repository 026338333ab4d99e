"""`/openapi.json`, built from the contract's models (`service.contract`) and a table of routes.

Nothing about a request or response shape is written here: the bodies, query parameters and
answers are the JSON Schemas of the models that validate requests and describe the views'
answers. This module only says which route takes and returns which model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from service.contract import (
    ArticlesResponse,
    Contract,
    CsvQuery,
    Error,
    ModelInfo,
    ScoreQuery,
    ScoreResponse,
    schema_of,
)
from service.web_assets import WEB_ASSETS

ERROR_REASONS = {
    400: "Malformed JSON, wrong types, or a bad query parameter.",
    413: "Body, batch or upload too large, or too many statements to explain.",
    415: "Wrong Content-Type.",
    422: "Empty text, missing or unknown fields, or an unreadable CSV.",
    503: "Not ready, or stopped after the server's time limit.",
}
CLIENT_ERRORS = (400, 413, 415, 422)


class _Document:
    """Collects the schemas of the models it is given under components/schemas."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = schema_of(model)
        self.schemas.update(schema.pop("$defs", {}))
        self.schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def one_of(self, models: Mapping[str, type[BaseModel]], description: str) -> dict[str, Any]:
        return {"description": description, "oneOf": [self.ref(m) for m in models.values()]}

    def parameters(self, query: type[BaseModel]) -> list[dict[str, Any]]:
        schema = schema_of(query)
        return [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": prop.pop("description", ""),
                "schema": prop,
            }
            for name, prop in schema["properties"].items()
        ]

    def errors(self, *statuses: int) -> dict[str, Any]:
        error = self.ref(Error)
        return {
            str(s): {
                "description": ERROR_REASONS[s],
                "content": {"application/json": {"schema": error}},
            }
            for s in statuses
        }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page(summary: str, operation_id: str, mimetype: str = "text/html") -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "responses": {
                "200": {
                    "description": "The page or file.",
                    "content": {mimetype: {"schema": {"type": "string"}}},
                }
            },
        }
    }


def openapi_document(config: Mapping[str, Any]) -> dict[str, Any]:
    """The API contract, with the limits this server was configured with."""
    contract = Contract.for_config(config)
    doc = _Document()
    max_chars = config["MAX_CHARS"]
    explain_limit = config["MAX_EXPLAIN_TEXTS"]
    csv_text = {"type": "string"}
    paths: dict[str, Any] = {
        "/v1/score": {
            "post": {
                "summary": "Score one statement or a batch",
                "description": f"Exactly one of text, texts or quotes (at most "
                f"{config['MAX_TEXTS']}); each text is scored on its first {max_chars} "
                f"characters. explain=true for at most {explain_limit} statements.",
                "operationId": "score",
                "parameters": doc.parameters(ScoreQuery),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": doc.one_of(
                                contract.score_forms, "Exactly one of text, texts or quotes."
                            )
                        }
                    },
                },
                "responses": {
                    "200": _json(doc.ref(ScoreResponse), "One result per statement, in order."),
                    **doc.errors(*CLIENT_ERRORS),
                },
            }
        },
        "/v1/articles": {
            "post": {
                "summary": "Find who said what in news articles, and score each statement",
                "description": "Direct quotes, indirect speech and narration found by rules, "
                "each with its speaker (name and role), kind, character offsets and the stance "
                "and sentiment of /v1/score; per article, the speakers with the mean of their "
                f"stance scores. At most {config['MAX_ARTICLES']} articles of "
                f"{config['MAX_ARTICLE_CHARS']:,} characters; one article can also be sent as "
                "text/plain or text/html.",
                "operationId": "articles",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": doc.one_of(
                                contract.article_forms, "Exactly one of text or articles."
                            )
                        },
                        "text/plain": {"schema": {"type": "string", "minLength": 1}},
                        "text/html": {"schema": {"type": "string", "minLength": 1}},
                    },
                },
                "responses": {
                    "200": _json(
                        doc.ref(ArticlesResponse), "Per article, statements and speakers."
                    ),
                    **doc.errors(*CLIENT_ERRORS),
                },
            }
        },
        "/v1/score/csv": {
            "post": {
                "summary": "Score a CSV file; the same CSV comes back with scoring columns",
                "description": f"At most {config['MAX_CSV_ROWS']:,} rows and "
                f"{config['MAX_CSV_BYTES']:,} bytes per file (for bigger files use `stance "
                f"score`); each text is scored on its first {max_chars} characters; every input "
                "row comes back, in order, with stance, stance_score, stance_p_support, "
                "stance_p_oppose, stance_p_neutral, sentiment, sentiment_score, "
                "sentiment_p_positive, sentiment_p_negative, sentiment_p_neutral and error.",
                "operationId": "scoreCsv",
                "parameters": doc.parameters(CsvQuery),
                "requestBody": {
                    "required": True,
                    "content": {
                        "text/csv": {"schema": csv_text},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        },
                    },
                },
                "responses": {
                    "200": {
                        "description": "The scored CSV.",
                        "headers": {
                            "X-Model-Version": {"schema": {"type": "string"}},
                            "X-Rows": {"schema": {"type": "integer", "minimum": 0}},
                            "X-Truncated-Rows": {
                                "description": f"Rows whose text was over {max_chars} characters.",
                                "schema": {"type": "integer", "minimum": 0},
                            },
                        },
                        "content": {"text/csv": {"schema": csv_text}},
                    },
                    **doc.errors(*CLIENT_ERRORS),
                },
            }
        },
        "/v1/model": {
            "get": {
                "summary": "The served model's metadata",
                "operationId": "model",
                "responses": {"200": _json(doc.ref(ModelInfo), "Version, labels, metrics.")},
            }
        },
        "/healthz": {
            "get": {
                "summary": "The process is alive",
                "operationId": "healthz",
                "responses": {"200": _json({"type": "object"}, "Alive.")},
            }
        },
        "/readyz": {
            "get": {
                "summary": "A verified model is loaded",
                "operationId": "readyz",
                "responses": {"200": _json({"type": "object"}, "Ready."), **doc.errors(503)},
            }
        },
        "/metrics": _page("Prometheus metrics", "metrics", "text/plain"),
        "/openapi.json": {
            "get": {
                "summary": "This API description (OpenAPI 3.1)",
                "operationId": "openapi",
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
            }
        },
        "/docs": _page("Interactive API documentation (Swagger UI on /openapi.json)", "docs"),
        "/": _page("The web page: score statements and CSV files, read the model card", "page"),
        **{
            url: _page(f"A file of the web pages ({url.rsplit('/', 1)[1]})", _asset_id(url), mt)
            for url, mt in WEB_ASSETS.items()
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ukraine-NATO stance and sentiment API",
            "version": "1",
            "description": "Scores political statements for their stance on Ukraine's accession "
            "to NATO (support, oppose, neutral) and their tone (positive, negative, neutral). "
            'Every error has the body {"error": {"code", "message"}}. A request still '
            "running after the server's time limit (STANCE_TIMEOUT) is stopped with 503 and "
            "error code timeout.",
        },
        "paths": paths,
        "components": {"schemas": doc.schemas},
    }


def _asset_id(url: str) -> str:
    return "asset_" + url.rsplit("/", 1)[1].replace(".", "_").replace("-", "_")
