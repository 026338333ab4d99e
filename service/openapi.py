"""The OpenAPI 3.1 description of the service (rendered interactively by /docs)."""

from __future__ import annotations

from typing import Any

from service.web_assets import WEB_ASSETS

ERROR = {"$ref": "#/components/schemas/Error"}
# A text must hold at least one character that is not whitespace as Python's str.isspace
# defines it (what the service strips before calling a text empty). Spelled out rather than
# \S because JSON Schema's \s (ECMA-262) differs: it lacks U+001C-U+001F and U+0085, and has
# U+FEFF.
NOT_BLANK = r"[^\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _error_responses(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "Malformed JSON, wrong types, or a bad query parameter.",
        413: "Body, batch or upload too large, or too many statements to explain.",
        415: "Wrong Content-Type.",
        422: "Empty text, missing or unknown fields, or an unreadable CSV.",
    }
    return {
        str(s): {"description": reasons[s], "content": {"application/json": {"schema": ERROR}}}
        for s in statuses
    }


def _asset_operation(url: str, mimetype: str) -> dict[str, Any]:
    name = url.rsplit("/", 1)[1]
    return {
        "get": {
            "summary": f"A file of the web pages ({name})",
            "operationId": "asset_" + name.replace(".", "_").replace("-", "_"),
            "responses": {
                "200": {
                    "description": "The file.",
                    "content": {mimetype: {"schema": {"type": "string"}}},
                }
            },
        }
    }


def _articles_operation(config: Any, head: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/articles: the request forms and the statements-and-speakers answer."""
    max_chars = config["MAX_ARTICLE_CHARS"]
    text = {"type": "string", "minLength": 1, "maxLength": max_chars, "pattern": NOT_BLANK}
    nullable = {"type": ["string", "null"]}
    statement = {
        "type": "object",
        "required": ["speaker", "unattributed", "kind", "start", "end", "text", "stance"],
        "properties": {
            "speaker": {
                "type": "object",
                "required": ["name", "role"],
                "properties": {"name": nullable, "role": nullable},
            },
            "unattributed": {"type": "boolean"},
            "kind": {"type": "string", "enum": ["direct", "indirect", "narration"]},
            "start": {"type": "integer", "minimum": 0},
            "end": {"type": "integer", "minimum": 0},
            "text": {"type": "string"},
            "stance": head,
            "sentiment": head,
        },
    }
    speaker = {
        "type": "object",
        "required": ["name", "role", "statements", "stance"],
        "properties": {
            "name": {"type": "string"},
            "role": nullable,
            "statements": {"type": "integer", "minimum": 1},
            "stance": head,
        },
    }
    article = {
        "type": "object",
        "required": ["id", "text", "statements", "speakers"],
        "properties": {
            "id": {"type": ["string", "integer"]},
            "text": {
                "type": "string",
                "description": "The text analysed: the article, or an HTML body reduced to its "
                "text; statement offsets point into it.",
            },
            "statements": {"type": "array", "items": statement},
            "speakers": {"type": "array", "items": speaker},
        },
    }
    request_forms = {
        "oneOf": [
            {
                "type": "object",
                "required": ["text"],
                "additionalProperties": False,
                "properties": {"text": text},
            },
            {
                "type": "object",
                "required": ["articles"],
                "additionalProperties": False,
                "properties": {
                    "articles": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": config["MAX_ARTICLES"],
                        "items": {
                            "type": "object",
                            "required": ["text"],
                            "additionalProperties": False,
                            "properties": {"id": {"type": ["string", "integer"]}, "text": text},
                        },
                    }
                },
            },
        ]
    }
    return {
        "post": {
            "summary": "Find who said what in news articles, and score each statement",
            "description": "Direct quotes, indirect speech and narration found by rules, each "
            "with its speaker (name and role), kind, character offsets and the stance and "
            "sentiment of /v1/score; per article, the speakers with the mean of their stance "
            f"scores. At most {config['MAX_ARTICLES']} articles of {max_chars:,} characters.",
            "operationId": "articles",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": request_forms},
                    "text/plain": {"schema": text},
                    "text/html": {"schema": {"type": "string", "minLength": 1}},
                },
            },
            "responses": {
                "200": {
                    "description": "Per article, its statements in order and its speakers.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["model", "articles"],
                                "properties": {
                                    "model": {"type": "object", "required": ["version"]},
                                    "articles": {"type": "array", "items": article},
                                },
                            }
                        }
                    },
                },
                **_error_responses(400, 413, 415, 422),
            },
        }
    }


def openapi_document(config: Any) -> dict[str, Any]:
    """The API contract, with the limits this server was configured with."""
    max_texts, max_chars = config["MAX_TEXTS"], config["MAX_CHARS"]
    explain_param = {
        "name": "explain",
        "in": "query",
        "required": False,
        "description": "Add, per result, the n-grams that pushed hardest toward and against each "
        f"label; at most {config['MAX_EXPLAIN_TEXTS']} statements or rows per request. "
        "Case-insensitive; empty means false.",
        "schema": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no", ""]},
    }
    text = {
        "type": "string",
        "minLength": 1,
        "pattern": NOT_BLANK,
        "description": f"Scored on its first {max_chars} characters (longer texts are flagged "
        "truncated). Must hold a character other than whitespace.",
    }
    probabilities = {
        "type": "object",
        "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
    }
    head = {
        "type": "object",
        "required": ["label", "score", "probabilities"],
        "properties": {
            "label": {"type": "string"},
            "score": {"type": "number", "minimum": -1, "maximum": 1},
            "probabilities": probabilities,
        },
    }
    feature_list = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["feature", "weight"],
            "properties": {"feature": {"type": "string"}, "weight": {"type": "number"}},
        },
    }
    explanation_head = {
        "type": "object",
        "required": ["label", "toward", "against", "bias"],
        "properties": {
            "label": {"type": "string"},
            "toward": feature_list,
            "against": feature_list,
            "bias": {"type": "number"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ukraine-NATO stance and sentiment API",
            "version": "1",
            "description": "Scores political statements for their stance on Ukraine's accession to "
            "NATO (support, oppose, neutral) and their tone (positive, negative, neutral). A request "
            "still running after the server's time limit (STANCE_TIMEOUT) is stopped with 503 and "
            "error code timeout.",
        },
        "paths": {
            "/v1/score": {
                "post": {
                    "summary": "Score one statement or a batch",
                    "operationId": "score",
                    "parameters": [explain_param],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ScoreRequest"}
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "One result per statement, in input order.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ScoreResponse"}
                                }
                            },
                        },
                        **_error_responses(400, 413, 415, 422),
                    },
                }
            },
            "/v1/articles": _articles_operation(config, head),
            "/v1/score/csv": {
                "post": {
                    "summary": "Score a CSV file; the same CSV comes back with scoring columns",
                    "description": f"At most {config['MAX_CSV_ROWS']:,} rows and "
                    f"{config['MAX_CSV_BYTES']:,} bytes per file; for bigger files use "
                    "`stance score` on the command line.",
                    "operationId": "scoreCsv",
                    "parameters": [
                        explain_param,
                        {
                            "name": "text_column",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "Column holding the statement (default: text, quote or statement).",
                        },
                        {
                            "name": "prefix",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "Prefix for the added column names.",
                        },
                        {
                            "name": "encoding",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "default": "utf-8"},
                            "description": "Encoding of the CSV (default: utf-8, BOM allowed).",
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
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
                            "description": "Every input row, in order, with stance, stance_score, "
                            "stance_p_support, stance_p_oppose, stance_p_neutral, sentiment, sentiment_score, "
                            "sentiment_p_positive, sentiment_p_negative, sentiment_p_neutral and error columns. "
                            f"Each text is scored on its first {max_chars} characters. At most "
                            f"{config['MAX_CSV_ROWS']} rows and {config['MAX_CSV_BYTES']} bytes per upload.",
                            "headers": {
                                "X-Model-Version": {
                                    "description": "The model version that scored the rows.",
                                    "schema": {"type": "string"},
                                },
                                "X-Rows": {
                                    "description": "Rows in the upload (and in the answer).",
                                    "schema": {"type": "integer", "minimum": 0},
                                },
                                "X-Truncated-Rows": {
                                    "description": f"Rows whose text was longer than {max_chars} characters.",
                                    "schema": {"type": "integer", "minimum": 0},
                                },
                            },
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        **_error_responses(400, 413, 415, 422),
                    },
                }
            },
            "/v1/model": {
                "get": {
                    "summary": "The served model's metadata",
                    "operationId": "model",
                    "responses": {
                        "200": {
                            "description": "Version, creation time, labels, parameters and metrics.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["version", "created_at", "labels"],
                                        "properties": {
                                            "version": {"type": "string"},
                                            "created_at": {"type": "string"},
                                            "labels": {"type": "object"},
                                            "cv_metrics": {"type": "object"},
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "The process is alive",
                    "operationId": "healthz",
                    "responses": {
                        "200": {
                            "description": "Alive.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/readyz": {
                "get": {
                    "summary": "A verified model is loaded",
                    "operationId": "readyz",
                    "responses": {
                        "200": {
                            "description": "Ready.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "503": {
                            "description": "Not ready.",
                            "content": {"application/json": {"schema": ERROR}},
                        },
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "operationId": "metrics",
                    "responses": {
                        "200": {
                            "description": "Text exposition format.",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This API description (OpenAPI 3.1)",
                    "operationId": "openapi",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/docs": {
                "get": {
                    "summary": "Interactive API documentation (Swagger UI on /openapi.json)",
                    "operationId": "docs",
                    "responses": {
                        "200": {
                            "description": "HTML page.",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/": {
                "get": {
                    "summary": "The web page: score statements and CSV files, read the model card",
                    "operationId": "page",
                    "responses": {
                        "200": {
                            "description": "HTML page.",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            **{url: _asset_operation(url, mimetype) for url, mimetype in WEB_ASSETS.items()},
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "ScoreRequest": {
                    "description": "Exactly one of text, texts or quotes.",
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["text"],
                            "additionalProperties": False,
                            "properties": {"text": text},
                        },
                        {
                            "type": "object",
                            "required": ["texts"],
                            "additionalProperties": False,
                            "properties": {
                                "texts": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": max_texts,
                                    "items": text,
                                }
                            },
                        },
                        {
                            "type": "object",
                            "required": ["quotes"],
                            "additionalProperties": False,
                            "properties": {
                                "quotes": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": max_texts,
                                    "items": {
                                        "type": "object",
                                        "required": ["text"],
                                        "properties": {
                                            "id": {"type": ["string", "integer"]},
                                            "text": text,
                                        },
                                    },
                                }
                            },
                        },
                    ],
                },
                "ScoreResponse": {
                    "type": "object",
                    "required": ["model", "results"],
                    "properties": {
                        "model": {
                            "type": "object",
                            "required": ["version"],
                            "properties": {"version": {"type": "string"}},
                        },
                        "results": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["stance", "sentiment", "truncated"],
                                "properties": {
                                    "id": {"type": ["string", "integer"]},
                                    "stance": head,
                                    "sentiment": head,
                                    "truncated": {"type": "boolean"},
                                    "explanation": {
                                        "type": "object",
                                        "properties": {
                                            "stance": explanation_head,
                                            "sentiment": explanation_head,
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            }
        },
    }
