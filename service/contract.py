"""The API contract, defined once: the request and response shapes as pydantic models.

Requests are validated against these models (`parse`), and `/openapi.json` is built from their
JSON Schemas (`service.openapi`). The limits that depend on the server's settings (how many
texts, how long an article) are part of the models, so `Contract(config)` builds them for one
app. A validation error becomes our one JSON error shape, with a message that names the field
(`texts[3]`, `quotes[0].id`) and says what to send instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError

from service.errors import ApiError

# A text must hold at least one character that is not whitespace as Python's str.isspace
# defines it (what the service strips before calling a text empty). The pattern only documents
# it for clients and fuzzers; spelled out rather than \S because JSON Schema's \s (ECMA-262)
# differs: it lacks U+001C-U+001F and U+0085, and has U+FEFF.
NOT_BLANK = r"[^\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no", ""}


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "the text is empty")
    return value


def _text(description: str, max_length: int | None = None) -> Any:
    """A string that is not blank (and, for articles, not longer than `max_length`)."""
    return Annotated[
        StrictStr,
        Field(min_length=1, max_length=max_length, description=description),
        AfterValidator(_not_blank),
        Field(json_schema_extra={"pattern": NOT_BLANK}),
    ]


Identifier = Annotated[
    StrictStr | StrictInt, Field(description="Yours, returned as given (not a boolean).")
]


class Forbid(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- responses (documentation of what the views return) ----------------------------------


class Head(BaseModel):
    label: str
    score: float = Field(ge=-1, le=1, description="P(first label) - P(second label).")
    probabilities: dict[str, Annotated[float, Field(ge=0, le=1)]]


class Feature(BaseModel):
    feature: str
    weight: float


class ExplainedHead(BaseModel):
    label: str
    toward: list[Feature]
    against: list[Feature]
    bias: float


class Explanation(BaseModel):
    stance: ExplainedHead
    sentiment: ExplainedHead


class ModelRef(BaseModel):
    version: str


class ScoreResult(BaseModel):
    id: Identifier = Field(None, description="Present when the quote had an id.")
    stance: Head
    sentiment: Head
    truncated: bool
    explanation: Explanation | None = Field(None, description="With ?explain=true.")


class ScoreResponse(BaseModel):
    model: ModelRef
    results: list[ScoreResult]


class Speaker(BaseModel):
    name: str | None
    role: str | None


class Statement(BaseModel):
    speaker: Speaker
    unattributed: bool
    kind: Literal["direct", "indirect", "narration"]
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    stance: Head
    sentiment: Head


class SpeakerSummary(BaseModel):
    name: str
    role: str | None
    statements: int = Field(ge=1)
    stance: Head


class ArticleResult(BaseModel):
    id: Identifier
    text: str = Field(
        description="The text analysed: the article, or an HTML body reduced to its text; "
        "statement offsets point into it."
    )
    statements: list[Statement]
    speakers: list[SpeakerSummary]


class ArticlesResponse(BaseModel):
    model: ModelRef
    articles: list[ArticleResult]


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: str
    created_at: str
    labels: dict[str, Any]


class ErrorBody(BaseModel):
    code: str
    message: str


class Error(BaseModel):
    error: ErrorBody


# -- query parameters -----------------------------------------------------------------------


def _flag(value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise PydanticCustomError("flag", "must be true or false")


Flag = Annotated[
    str,
    AfterValidator(_flag),
    Field(json_schema_extra={"enum": ["true", "false", "1", "0", "yes", "no", ""]}),
]


class ScoreQuery(BaseModel):
    model_config = ConfigDict(validate_default=True)

    explain: Flag = Field(
        "false",
        description="Add, per result, the n-grams that pushed hardest toward and against each "
        "label. Case-insensitive; empty means false.",
    )


class CsvQuery(ScoreQuery):
    text_column: str | None = Field(
        None, description="Column holding the statement (default: text, quote or statement)."
    )
    prefix: str = Field("", description="Prefix for the added column names.")
    encoding: str = Field("utf-8", description="Encoding of the CSV (default: utf-8, BOM allowed).")


# -- requests, with the server's limits -----------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """The request models of one app, with its limits."""

    score_forms: dict[str, type[BaseModel]]
    article_forms: dict[str, type[BaseModel]]
    limits: Mapping[str, int]

    @classmethod
    def for_config(cls, config: Mapping[str, Any]) -> Contract:
        max_texts, max_chars = config["MAX_TEXTS"], config["MAX_CHARS"]
        max_articles, article_chars = config["MAX_ARTICLES"], config["MAX_ARTICLE_CHARS"]
        text = _text(
            f"Scored on its first {max_chars} characters (longer texts are flagged truncated). "
            "Must hold a character other than whitespace."
        )
        article_text = _text("The article's text.", article_chars)
        quote = create_model("Quote", id=(Identifier, None), text=(text, ...))
        article = create_model(
            "Article", __base__=Forbid, id=(Identifier, None), text=(article_text, ...)
        )

        def batch(item: Any) -> Any:
            return Annotated[list[item], Field(min_length=1, max_length=max_texts)]

        score_forms = {
            "text": create_model("ScoreText", __base__=Forbid, text=(text, ...)),
            "texts": create_model("ScoreTexts", __base__=Forbid, texts=(batch(text), ...)),
            "quotes": create_model("ScoreQuotes", __base__=Forbid, quotes=(batch(quote), ...)),
        }
        articles = Annotated[list[article], Field(min_length=1, max_length=max_articles)]
        article_forms = {
            "text": create_model("ArticleText", __base__=Forbid, text=(article_text, ...)),
            "articles": create_model("ArticleList", __base__=Forbid, articles=(articles, ...)),
        }
        limits = {"texts": max_texts, "quotes": max_texts, "articles": max_articles}
        return cls(score_forms, article_forms, limits)

    def score_request(self, payload: Any) -> BaseModel:
        """The validated body of POST /v1/score."""
        return self._parse(payload, self.score_forms)

    def articles_request(self, payload: Any) -> BaseModel:
        """The validated JSON body of POST /v1/articles."""
        return self._parse(payload, self.article_forms)

    def _parse(self, payload: Any, forms: dict[str, type[BaseModel]]) -> BaseModel:
        if not isinstance(payload, dict):
            raise ApiError(400, f"the body must be a JSON object, got {json_type(payload)}")
        *first, last = forms
        names = f"{', '.join(first)} or {last}"
        unknown = sorted(set(payload) - set(forms))
        if unknown:
            raise ApiError(
                422,
                f"unknown field(s) {', '.join(map(repr, unknown))}; send exactly one of {names}",
            )
        given = [name for name in forms if name in payload]
        if len(given) != 1:
            raise ApiError(422, f"send exactly one of the fields {names}")
        try:
            return forms[given[0]].model_validate(payload)
        except ValidationError as exc:
            raise api_error(exc.errors()[0], self.limits) from None


def parse_query(model: type[BaseModel], args: Mapping[str, str]) -> Any:
    """Validated query parameters; unknown ones are ignored, as browsers and proxies add some."""
    known = {name: args[name] for name in model.model_fields if name in args}
    try:
        return model.model_validate(known)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = error["loc"][0]
        raise ApiError(
            400, f"query parameter {name} must be true or false, got {error['input']!r}"
        ) from None


# -- validation errors as messages ----------------------------------------------------------

_TYPE_NAMES = {
    "string_type": "a string",
    "list_type": "an array",
    "model_type": "an object with id and text",
    "model_attributes_type": "an object with id and text",
    "dict_type": "an object",
    "int_type": "a string or an integer",
}


def _where(loc: tuple[Any, ...]) -> str:
    """`texts[3]`, `quotes[0].text`: the field a validation error is about. A union's member
    tags (`str`, `int`) and a function validator's name are not fields."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "int") or "[" in part:
            break
        else:
            out += ("." if out else "") + part
    return out


def api_error(error: Mapping[str, Any], limits: Mapping[str, int]) -> ApiError:
    """The ApiError of a pydantic validation error, naming its field."""
    kind, loc, value = error["type"], tuple(error["loc"]), error.get("input")
    where = _where(loc)
    if where.endswith(".id") or where == "id":
        return ApiError(400, f"{where} must be a string or an integer, got {json_type(value)}")
    if kind == "missing":
        parent, field = _where(loc[:-1]), loc[-1]
        return ApiError(422, f"{parent} has no {field} field")
    if kind == "extra_forbidden":
        return ApiError(422, f"{_where(loc[:-1])} has unknown field(s) {loc[-1]!r}")
    if kind == "blank" or (kind == "string_too_short"):
        return ApiError(422, f"{where} is empty; send the text to score")
    if kind == "too_short":
        return ApiError(422, f"{where} is empty; send at least one")
    if kind == "too_long":
        limit = limits.get(where, error.get("ctx", {}).get("max_length"))
        return ApiError(
            413, f"{len(value)} {where} in one request; the limit is {limit}, split the batch"
        )
    if kind == "string_too_long":
        limit = error["ctx"]["max_length"]
        return ApiError(
            413, f"{where} has {len(value)} characters; articles are limited to {limit}"
        )
    expected = _TYPE_NAMES.get(kind, "valid")
    return ApiError(400, f"{where} must be {expected}, got {json_type(value)}")


def json_type(value: Any) -> str:
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }
    return names.get(type(value), "a number")


def schema_of(model: Any) -> dict[str, Any]:
    """The JSON Schema of a model or type, its definitions under `#/components/schemas`."""
    return TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
