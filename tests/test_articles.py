"""Article mode (`model.articles`, `stance article`): statements found by rules, their speakers
and roles, direct and indirect speech, narration, offsets into the article, and the scores."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main as stance_main
from model.articles import extract_statements, html_to_text, score_article
from service import create_app

FIXTURE = Path(__file__).parent / "fixtures" / "article_rules.txt"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "article.txt"
STANCE = Path(sys.executable).with_name("stance")


def attributed(text: str) -> list[tuple[str | None, str | None, str, str]]:
    """(name, role, kind, first words) of every statement that is not narration."""
    return [
        (s.speaker.name, s.speaker.role, s.kind, " ".join(s.text.split()[:4]))
        for s in extract_statements(text)
        if s.kind != "narration"
    ]


def test_rules_find_quotes_reported_speech_and_their_speakers() -> None:
    """Split quotes keep their speaker, guillemets count, "according to", "said X", pronouns
    and surnames resolve to the full mention, and a quote with no speaker is unattributed."""
    expected = [
        ("Kaja Lindqvist", "Estonian Prime Minister", "direct", "We will not wait"),
        ("Kaja Lindqvist", "Estonian Prime Minister", "direct", "The door is open,"),
        ("Kaja Lindqvist", "Estonian Prime Minister", "indirect", "the invitation should come"),
        ("a senior German diplomat", None, "indirect", "Berlin still prefers a"),
        ("Pavel Orlov", "Kremlin spokesman", "indirect", "any such step would"),
        ("Pavel Orlov", "Kremlin spokesman", "direct", "Nobody in Moscow will"),
        ("Zsofia Kertesz", "Hungarian Foreign Minister", "indirect", "the alliance should not"),
        ("a State Department spokesman", None, "indirect", "The talks will continue"),
        (None, None, "direct", "This is the most"),
    ]
    assert expected == attributed(FIXTURE.read_text(encoding="utf-8"))


def test_offsets_point_at_the_statement_and_every_sentence_is_listed() -> None:
    """Each statement's text is article[start:end]; statements come in order; sentences with
    no speaker are narration (the snow, the headline), so nothing of the article is skipped."""
    text = FIXTURE.read_text(encoding="utf-8")
    statements = extract_statements(text)
    assert all(text[s.start : s.end] == s.text for s in statements)
    assert [s.start for s in statements] == sorted(s.start for s in statements)
    narration = [s.text for s in statements if s.kind == "narration"]
    assert "Snow fell on the city overnight and several flights were delayed." in narration
    assert "Allies Weigh Kyiv's Bid Before Summit" in narration
    assert "Hungarian Foreign Minister Zsofia Kertesz was more cautious." in narration


def test_a_direct_quote_is_the_words_inside_the_marks() -> None:
    """The marks and the comma before the attribution are not part of the quote; scare
    quotes of a few words are not statements."""
    text = 'The so-called "hot phase" worries him. "We need help now," the minister said.'
    [quote] = [s for s in extract_statements(text) if s.kind == "direct"]
    assert "We need help now" == quote.text
    assert "the minister" == quote.speaker.name


@pytest.mark.skipif(not SEED.exists(), reason="../shared/seed/article.txt is not here")
def test_the_seed_articles_statements_and_speakers() -> None:
    """The article the project started from: the Foreign Ministry and Peskov reported,
    Zelenskiy reported (as "he") and quoted (as "Zelenskiy"), both resolved to the full
    mention; Sybiha, who is only "expected to brief", says nothing; the drones are narration."""
    text = SEED.read_text(encoding="utf-8")
    assert [
        ("Foreign Ministry of Ukraine", None, "indirect", "NATO membership is the"),
        ("Volodymyr Zelenskiy", "President", "indirect", "Ukraine's accession to NATO"),
        ("Volodymyr Zelenskiy", "President", "direct", "If we want to"),
        ("Dmitry Peskov", "Kremlin spokesman", "indirect", "such a move would"),
    ] == attributed(text)
    drones = [s for s in extract_statements(text) if "drone assault" in s.text]
    assert ["narration"] == [s.kind for s in drones]


def test_html_is_reduced_to_its_paragraphs() -> None:
    """Scripts, styles and navigation go; each block becomes a line; entities are decoded."""
    html = (
        "<!doctype html><html><head><style>p{}</style><script>var x = 1;</script></head><body>"
        "<nav>Home | World</nav><h1>Allies meet</h1><p>The minister said the talks &amp; "
        "the vote would wait.</p><p>“We are ready for the next step now,” she said.</p></body></html>"
    )
    assert (
        "Allies meet\nThe minister said the talks & the vote would wait.\n"
        "“We are ready for the next step now,” she said." == html_to_text(html)
    )


def test_scored_statements_have_the_score_shape_and_speakers_their_means(loaded_model) -> None:
    """Every statement carries the /v1/score stance and sentiment; each speaker's score is the
    mean of their statements' scores; narration has no speaker entry; most statements first."""
    article = score_article(loaded_model, FIXTURE.read_text(encoding="utf-8"))
    texts = [s["text"] for s in article["statements"]]
    expected = loaded_model.predict(texts)
    for item, want in zip(article["statements"], expected, strict=True):
        assert want["stance"] == item["stance"]
        assert want["sentiment"] == item["sentiment"]
    [first, *rest] = article["speakers"]
    assert ("Kaja Lindqvist", 3) == (first["name"], first["statements"])
    scores = [
        s["stance"]["score"]
        for s in article["statements"]
        if s["speaker"]["name"] == "Kaja Lindqvist"
    ]
    assert sum(scores) / 3 == pytest.approx(first["stance"]["score"])
    assert first["stance"]["label"] in ("support", "oppose", "neutral")
    assert None not in [s["name"] for s in article["speakers"]]
    assert [s["statements"] for s in rest] == sorted((s["statements"] for s in rest), reverse=True)


def test_stance_article_prints_a_table_and_json(model_dir, tmp_path, capsys) -> None:
    """`stance article FILE` prints one line per statement and the speakers; --json prints
    the model version and, per article, its statements and speakers; HTML files work."""
    assert 0 == stance_main(["article", str(FIXTURE), "--model-dir", str(model_dir)])
    out = capsys.readouterr().out
    assert "Kaja Lindqvist" in out and "Estonian Prime Minister" in out and "(narration)" in out
    page = tmp_path / "story.html"
    page.write_text(
        "<html><body><p>“Ukraine will join the alliance one day,” the minister said.</p></body></html>",
        encoding="utf-8",
    )
    argv = ["article", str(FIXTURE), str(page), "--json", "--model-dir", str(model_dir)]
    assert 0 == stance_main(argv)
    body = json.loads(capsys.readouterr().out)
    assert [str(FIXTURE), str(page)] == [a["id"] for a in body["articles"]]
    [statement] = body["articles"][1]["statements"]
    assert ("the minister", "direct") == (statement["speaker"]["name"], statement["kind"])
    assert {"version"} == set(body["model"])


def test_stance_article_reads_stdin(model_dir) -> None:
    """`-` reads the article from stdin."""
    completed = subprocess.run(
        [str(STANCE), "article", "-", "--json", "--model-dir", str(model_dir)],
        input=b"Officials said the summit would open on Tuesday in the capital.",
        capture_output=True,
        check=True,
    )
    [article] = json.loads(completed.stdout)["articles"]
    assert "Officials" == article["statements"][0]["speaker"]["name"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        (b"\xff\xfe\x00bad", "is not UTF-8"),
        (b"   \n", "holds no text"),
    ],
)
def test_bad_article_files_are_one_clear_line(model_dir, tmp_path, capsys, content, message):
    """A missing file, a file that is not UTF-8 or one with no text: one line, exit 1."""
    path = tmp_path / "a.txt"
    if content is not None:
        path.write_bytes(content)
    assert 1 == stance_main(["article", str(path), "--model-dir", str(model_dir)])
    err = capsys.readouterr().err.strip().splitlines()
    assert 1 == len(err) and message in err[0] and "Traceback" not in err[0]


# -- POST /v1/articles -----------------------------------------------------------------------

ARTICLE = (
    "Allies met in Brussels on Tuesday.\n"
    '"Ukraine will join the alliance, and soon," Estonian Prime Minister Kaja Lindqvist said.'
)


def test_post_articles_answers_statements_and_speakers_in_every_body_form(client) -> None:
    """JSON with one text or several articles with ids, text/plain and text/html all give the
    same statements for the same article, in the documented shape."""
    one = client.post("/v1/articles", json={"text": ARTICLE})
    assert 200 == one.status_code
    body = one.get_json()
    [article] = body["articles"]
    assert "1" == article["id"]
    kinds = [(s["kind"], s["speaker"]["name"]) for s in article["statements"]]
    assert [("narration", None), ("direct", "Kaja Lindqvist")] == kinds
    assert ["Kaja Lindqvist"] == [s["name"] for s in article["speakers"]]
    assert set(body["model"]) == {"version"}
    many = client.post(
        "/v1/articles",
        json={"articles": [{"id": "a", "text": ARTICLE}, {"id": 7, "text": "x y z."}]},
    ).get_json()
    assert ["a", 7] == [a["id"] for a in many["articles"]]
    assert article["statements"] == many["articles"][0]["statements"]
    plain = client.post("/v1/articles", data=ARTICLE.encode(), content_type="text/plain")
    assert article["statements"] == plain.get_json()["articles"][0]["statements"]
    html = (
        "<html><body><script>x()</script>"
        + "".join(f"<p>{line}</p>" for line in ARTICLE.split("\n"))
        + "</body></html>"
    )
    page = client.post("/v1/articles", data=html.encode(), content_type="text/html; charset=utf-8")
    assert article["statements"] == page.get_json()["articles"][0]["statements"]


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"json": {"text": ARTICLE, "lang": "en"}}, 422, "unknown field(s) 'lang'"),
        ({"json": {"text": "   "}}, 422, "text is empty"),
        ({"json": {"articles": []}}, 422, "articles is empty"),
        ({"json": {"articles": [{"id": 1}]}}, 422, "articles[0] has no text"),
        ({"json": {"articles": [{"text": 5}]}}, 400, "articles[0].text must be a string"),
        ({"json": {"articles": [{"text": "a b", "id": True}]}}, 400, "id must be a string"),
        ({"json": {"articles": "x"}}, 400, "articles must be an array"),
        ({"json": ["x"]}, 400, "must be a JSON object"),
        ({"data": b"a,b", "content_type": "text/csv"}, 415, "expected Content-Type"),
        ({"data": b"\xff\xfe", "content_type": "text/plain"}, 400, "not text"),
        (
            {"json": {"articles": [{"text": "a b."}] * 21}},
            413,
            "21 articles in one request; the limit is 20",
        ),
    ],
)
def test_post_articles_errors_say_what_is_wrong(client, kwargs, status, words) -> None:
    """Each bad request gets the API's JSON error naming the problem, never a 500."""
    response = client.post("/v1/articles", **kwargs)
    assert status == response.status_code
    assert words in response.get_json()["error"]["message"]


def test_an_article_over_the_limit_is_refused(model_dir) -> None:
    """An article longer than MAX_ARTICLE_CHARS is a 413 that says the limit."""
    app = create_app({"MODEL_DIR": str(model_dir), "MAX_ARTICLE_CHARS": 50})
    response = app.test_client().post("/v1/articles", json={"text": "word " * 20})
    assert 413 == response.status_code
    assert "limited to 50" in response.get_json()["error"]["message"]


# -- stance score --articles -----------------------------------------------------------------


def test_score_articles_writes_one_row_per_statement_and_keeps_every_article(
    model_dir, loaded_model, tmp_path, capsys
) -> None:
    """A CSV of articles gives one row per statement (article id, speaker, role, kind,
    offsets into that article, text, the scoring columns of `stance score`); an article with no
    text keeps one row with the reason in `error`; JSON Lines output has numbers as numbers."""
    article = FIXTURE.read_text(encoding="utf-8")
    source = tmp_path / "articles.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "text"], ["a1", article], ["a2", ""]])
    out = tmp_path / "statements.csv"
    argv = ["score", str(source), "-o", str(out), "--articles", "--model-dir", str(model_dir)]
    assert 0 == stance_main(argv)
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    statements = extract_statements(article)
    assert len(statements) + 1 == len(rows)
    for row, statement in zip(rows, statements, strict=False):
        assert ("a1", statement.kind, statement.text) == (
            row["article_id"],
            row["kind"],
            row["text"],
        )
        assert article[int(row["start"]) : int(row["end"])] == row["text"]
        assert "" == row["error"]
    lindqvist = next(r for r in rows if r["speaker"] == "Kaja Lindqvist")
    assert "Estonian Prime Minister" == lindqvist["role"]
    [expected] = loaded_model.predict([lindqvist["text"]])
    assert expected["stance"]["label"] == lindqvist["stance"]
    assert ("a2", "empty text") == (rows[-1]["article_id"], rows[-1]["error"])
    assert "flagged 1" in capsys.readouterr().err

    jsonl = tmp_path / "statements.jsonl"
    assert 0 == stance_main([*argv[:3], str(jsonl), *argv[4:]])
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert isinstance(lines[0]["stance_score"], float) and isinstance(lines[0]["start"], int)
    assert lines[-1]["stance"] is None and "empty text" == lines[-1]["error"]


def test_score_articles_refuses_options_it_cannot_honour(model_dir, tmp_path, capsys) -> None:
    """--explain/--prefix, Parquet and a file with no text column: one clear line each."""
    source = tmp_path / "a.csv"
    source.write_text("id,body\n1,hello there friend\n", encoding="utf-8")
    base = ["score", str(source), "--articles", "--model-dir", str(model_dir)]
    assert 2 == stance_main([*base, "--explain"])
    assert "drop --explain" in capsys.readouterr().err
    assert 2 == stance_main([*base, "-o", str(tmp_path / "x.parquet")])
    assert "CSV or JSON Lines" in capsys.readouterr().err
    assert 1 == stance_main(base)
    assert "no text column found" in capsys.readouterr().err
    assert not (tmp_path / "a.scored.csv").exists()
