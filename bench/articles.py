"""POST /v1/articles on a 5,000-word article: the time the app takes, in process (the Flask app
as gunicorn's workers run it, without the socket), and how it splits between finding the
statements and scoring them."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from model.articles import extract_statements
from service import create_app

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "article_rules.txt"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "article.txt"


def long_article(words: int = 5000) -> str:
    """Paragraphs of the rules fixture (and the seed article when present) repeated."""
    base = FIXTURE.read_text(encoding="utf-8")
    if SEED.exists():
        base += "\n" + SEED.read_text(encoding="utf-8")
    text = ""
    while len(text.split()) < words:
        text += base + "\n"
    return text


def articles_benchmark(model_dir: Path, repeats: int = 15) -> dict[str, Any]:
    app = create_app({"MODEL_DIR": str(model_dir)})
    client = app.test_client()
    model = app.extensions["stance_model"]
    text = long_article()
    client.post("/v1/articles", json={"text": text})  # warm up
    total, extract, score = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.post("/v1/articles", json={"text": text})
        total.append(time.perf_counter() - started)
        started = time.perf_counter()
        statements = extract_statements(text)
        extract.append(time.perf_counter() - started)
        started = time.perf_counter()
        model.predict([s.text for s in statements])
        score.append(time.perf_counter() - started)
    assert response.status_code == 200
    from training.article_eval import evaluate_articles, load_gold

    gold = evaluate_articles(model, load_gold())
    return {
        "gold": {k: v for k, v in gold.items() if k != "missed"},
        "words": len(text.split()),
        "statements": len(response.get_json()["articles"][0]["statements"]),
        "median_ms": round(1000 * statistics.median(total), 1),
        "extract_median_ms": round(1000 * statistics.median(extract), 1),
        "score_median_ms": round(1000 * statistics.median(score), 1),
    }
