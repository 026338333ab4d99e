"""The whole path on the tiny corpus: `stance train`, load the artifact, serve it, score."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cli.main import main
from model.batch import SCORE_COLUMNS
from model.store import ModelStore
from service import create_app

REPO = Path(__file__).resolve().parents[1]


def test_train_load_serve_and_score(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`stance train` on tests/fixtures/tiny.csv writes a model that ModelStore loads and
    create_app serves: a quote scored over the test client matches model.predict with its
    id echoed, and a CSV comes back from /v1/score/csv with every row scored in order."""
    monkeypatch.chdir(REPO)
    out = tmp_path / "models"
    code = main(
        [
            "train",
            "--data",
            "tests/fixtures/tiny.csv",
            "--out",
            str(out),
            "--quality-floor",
            "0",
            "--no-gate",
            "--folds",
            "3",
        ]
    )
    assert code == 0, capsys.readouterr().err

    store = ModelStore(out)
    version = store.current_version()
    assert version is not None
    assert store.versions() == [version]
    model = store.load()
    assert model.version == version
    assert model.metadata["training_data"]["rows"] == 36
    assert model.metadata["cv_folds"] == 3

    app = create_app({"MODEL_DIR": str(out)})
    client = app.test_client()
    assert client.get("/readyz").get_json()["model"] == {"version": version, "verified": True}

    quote = "The alliance must open its door to Ukraine without further delay."
    response = client.post("/v1/score", json={"quotes": [{"id": "e2e-1", "text": quote}]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["model"] == {"version": version}
    [result] = body["results"]
    assert result["id"] == "e2e-1"
    assert result["truncated"] is False
    assert {"stance": result["stance"], "sentiment": result["sentiment"]} == model.predict([quote])[
        0
    ]
    assert result["stance"]["label"] in ("support", "oppose", "neutral")
    assert result["sentiment"]["label"] in ("positive", "negative", "neutral")

    statements = [
        "Ukraine belongs in NATO.",
        "",
        "NATO membership for Ukraine would provoke a wider war.",
        "The summit communiqué mentions Ukraine twice.",
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["ref", "statement"])
    writer.writerows([[f"r{i}", text] for i, text in enumerate(statements)])
    response = client.post(
        "/v1/score/csv", data=buffer.getvalue().encode(), content_type="text/csv"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["X-Model-Version"] == version
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["ref", "statement", *SCORE_COLUMNS, "error"]
    assert [row[:2] for row in rows[1:]] == [[f"r{i}", t] for i, t in enumerate(statements)]
    scored = [t for t in statements if t]
    predictions = iter(model.predict(scored))
    for row, text in zip(rows[1:], statements, strict=True):
        fields = dict(zip([*SCORE_COLUMNS, "error"], row[2:], strict=True))
        if not text:
            assert fields == {**dict.fromkeys(SCORE_COLUMNS, ""), "error": "empty text"}
            continue
        prediction = next(predictions)
        assert fields["stance"] == prediction["stance"]["label"]
        assert fields["stance_score"] == f"{prediction['stance']['score']:.6f}"
        assert fields["sentiment"] == prediction["sentiment"]["label"]
        assert fields["sentiment_score"] == f"{prediction['sentiment']['score']:.6f}"
        assert fields["error"] == ""
