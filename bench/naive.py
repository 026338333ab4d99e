"""The naive baseline the speed goals are measured against.

Two separate scikit-learn pipelines (word 1-3 and char 2-5 TF-IDF, logistic regression), one
per head, trained on the same corpus; served by Flask + gunicorn with sync workers calling
`predict_proba` of both, and a single-process batch script (csv module, chunks of 10k).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

import joblib
from flask import Flask, jsonify, request
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from training.dataset import load_labelled_csv


def naive_pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )
    return Pipeline(
        [("features", features), ("clf", LogisticRegression(max_iter=1000, solver="newton-cg"))]
    )


def train_naive(data: Path, out: Path) -> Path:
    quotes = load_labelled_csv(data)
    models = {
        "stance": naive_pipeline().fit(quotes.texts, quotes.stance),
        "sentiment": naive_pipeline().fit(quotes.texts, quotes.sentiment),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(models, out)
    return out


def create_naive_app(model_path: str) -> Flask:
    """Flask app for gunicorn: POST /v1/score with {"text"} or {"texts"}."""
    models: dict[str, Any] = joblib.load(model_path)
    app = Flask(__name__)

    @app.post("/v1/score")
    def score() -> Any:
        payload = request.get_json()
        texts = payload["texts"] if "texts" in payload else [payload["text"]]
        stance = models["stance"].predict_proba(texts)
        sentiment = models["sentiment"].predict_proba(texts)
        classes_s, classes_t = models["stance"].classes_, models["sentiment"].classes_
        results = [
            {
                "stance": dict(zip(classes_s, map(float, stance[i]), strict=True)),
                "sentiment": dict(zip(classes_t, map(float, sentiment[i]), strict=True)),
            }
            for i in range(len(texts))
        ]
        return jsonify({"results": results})

    return app


def naive_batch(model_path: str, input_path: str, output_path: str, chunk: int = 10_000) -> None:
    """Single process: read 10k rows, predict_proba with both pipelines, write, repeat."""
    models = joblib.load(model_path)
    with (
        open(input_path, newline="", encoding="utf-8") as fin,
        open(output_path, "w", newline="", encoding="utf-8") as fout,
    ):
        reader, writer = csv.reader(fin), csv.writer(fout)
        header = next(reader)
        at = header.index("text")
        writer.writerow(header + ["stance", "stance_p", "sentiment", "sentiment_p"])
        rows: list[list[str]] = []

        def flush() -> None:
            texts = [r[at] for r in rows]
            ps = models["stance"].predict_proba(texts)
            pt = models["sentiment"].predict_proba(texts)
            for r, a, b in zip(rows, ps, pt, strict=True):
                writer.writerow(
                    r
                    + [
                        models["stance"].classes_[a.argmax()],
                        f"{a.max():.6f}",
                        models["sentiment"].classes_[b.argmax()],
                        f"{b.max():.6f}",
                    ]
                )
            rows.clear()

        for row in reader:
            rows.append(row)
            if len(rows) >= chunk:
                flush()
        if rows:
            flush()


def main() -> None:
    """`python -m bench.naive MODEL INPUT OUTPUT`: the naive batch run the benchmark times."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("model")
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args()
    naive_batch(args.model, args.input, args.output)


if __name__ == "__main__":
    main()
